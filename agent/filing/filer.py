"""Filing action items to the trackers exactly once, through the outbox (DESIGN.md §6).

For each fileable item and each configured tracker: claim the outbox row, `find` the ticket by the item's
idempotency key (a crash between "created" and "recorded" left one behind), else `create` it, then record
the ref on the item and mark the row filed. Every step commits before the next, so a crash at any point
leaves either nothing in the tracker or a ticket that a later run finds (see below for when).

Creating without read-after-write. `find` may not show a ticket created a moment ago: Jira's JQL search
(`/search/jql` on Cloud, each node's index on Data Center) is eventually consistent, and Atlassian documents
no read-after-write for it. So "look up, else create" alone duplicates after a lost answer: the create
happened, its answer was lost (dropped connection, 5xx, timeout, or the filer was killed), and the retry's
lookup does not see the ticket yet. A lookup that does not depend on the index would need the ticket's key:
`GET /issue/{key}` and `/search/jql`'s `reconcileIssues` are consistent but take the key or id the lost
answer carried; issue properties are found only through JQL; Jira picks issue keys itself and takes no
idempotency key on create. GitHub likewise takes none and picks issue numbers; the adapter looks tickets up
by listing the repository's issues by label (not the search API), and GitHub documents no read-after-write
for that either. So the filer makes creating safe without it:

- Write ahead: before each create the row records, committed, that a create starts now and that no run
  creates again before `confirm_until` (now + `reconcile_window`). A create that returns, or that the
  tracker refused (a 4xx: `TrackerError.changed_nothing`), clears the record.
- While a record is set and its window is open, runs only look: a ticket found is recorded, nothing is
  created, and the row waits (pending, "waiting to confirm an earlier create") until the window ends. Once
  it has ended and the lookup still finds nothing, the create did not happen: it is made again, with a new
  record. The lease keeps two runs off one row; the record covers the run that takes over after a crash.

The window (default 5 minutes, a `Filer` argument) is the index lag we allow for: it should be far above any
lag the tracker shows, since only a lookup still behind after the window can duplicate. It costs nothing
unless a create's outcome is unknown; then that item waits up to the window (and the retry poller's
interval) to be recorded.

Failures: a retryable `TrackerError` (outage, timeout, throttling) is retried with exponential backoff a
few times in the run; after that the row stays pending with `next_attempt_at` and the error, never lost.
A non-retryable one (credentials, missing project) marks the row failed with the reason: automatic runs
leave it alone, and the next manual run (`!actions file`, `debrief actions --file`) tries again, which is
how it recovers once the configuration is fixed.

After filing, tickets follow their items (agent/filing/updates.py): every run also updates the tickets whose
items people changed since, and closes those of items done or dropped. An item done or dropped before anyone
asked to file it is never filed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from agent.actions import apply_gate
from agent.engine import Engine
from agent.errors import DebriefError
from agent.filing.outbox import Claim, Outbox, OutboxEntry, OutboxState
from agent.filing.report import FilingOutcome, FilingReport, FilingResult, StatusResult
from agent.filing.updates import TicketUpdates
from agent.models import ActionItem, ActionStatus
from agent.redact import redact
from agent.settings import Settings
from agent.trackers import TicketRef, Tracker, TrackerError, make_trackers

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]

ATTEMPTS_PER_RUN = 3
BACKOFF_S = 1.0  # in-run waits: 1 s, 2 s, ...
RETRY_AFTER = timedelta(minutes=1)  # first wait before an automatic run retries; doubles, capped
RETRY_AFTER_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=2)  # longer than one tracker call (renewed before each)
RECONCILE_WINDOW = timedelta(minutes=5)  # after a create whose outcome is unknown: look only, this long
WAITING = "an earlier create's answer was lost and its ticket is not found yet"
DONE_STATUSES = frozenset({"done", "closed", "resolved", "complete", "completed", "fixed"})
CLOSED = frozenset({ActionStatus.DONE, ActionStatus.DROPPED})
UNKNOWN_REVISION = -1  # a ticket whose content we cannot vouch for: it is updated after it is recorded


class FilingError(DebriefError):
    """Filing cannot start (e.g. no tracker is configured)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Filer:
    """Files pending action items to `trackers` and syncs the trackers' statuses back."""

    def __init__(
        self,
        engine: Engine,
        trackers: Sequence[Tracker],
        clock: Clock = utc_now,
        sleep: Sleep = time.sleep,
        *,
        attempts_per_run: int = ATTEMPTS_PER_RUN,
        backoff_s: float = BACKOFF_S,
        lease: timedelta = LEASE,
        reconcile_window: timedelta = RECONCILE_WINDOW,
    ) -> None:
        self._engine = engine
        self._trackers = list(trackers)
        self._clock = clock
        self._sleep = sleep
        self._attempts_per_run = max(1, attempts_per_run)
        self._backoff_s = backoff_s
        self._lease = lease
        self._reconcile_window = reconcile_window
        self._outbox = Outbox(engine.store)
        self._incident_titles: dict[str, str] = {}
        # Names this run in the lease column; unique even for two Filers in one process.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._updates = TicketUpdates(
            engine,
            self._trackers,
            self._outbox,
            clock=clock,
            worker=self.worker,
            lease=lease,
            incident_title=self._incident_title,
        )

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: Settings, clock: Clock = utc_now, sleep: Sleep = time.sleep
    ) -> Filer:
        """A Filer for the trackers `DEBRIEF_TRACKERS` names (none when it names none)."""
        return cls(engine, make_trackers(settings), clock, sleep)

    @property
    def tracker_names(self) -> list[str]:
        return [tracker.name for tracker in self._trackers]

    def close(self) -> None:
        for tracker in self._trackers:
            tracker.close()

    # -- filing --------------------------------------------------------------------------------
    def file_pending(self, incident_id: str | None = None, *, by: str = "debrief") -> FilingReport:
        """File every fileable item (one incident's, or all) to every tracker; report each outcome.

        A manual run: it also retries failed rows and rows whose next attempt time has not come yet.
        """
        self._require_trackers()
        started = self._outbox.by_action(incident_id)
        # Done or dropped before anyone asked to file it: nothing to track (a started filing is finished,
        # and its ticket then closed, so no ticket is left open behind a closed item).
        items = [
            item
            for item in self._engine.actions.list(incident_id)
            if item.status not in CLOSED or item.id in started
        ]
        fileable, results = self._apply_gate(items, by)
        self._outbox.ensure([item.id for item in fileable], self.tracker_names, self._clock())
        for item in fileable:
            for tracker in self._trackers:
                results.append(self._file_one(item, tracker, by, due_only=False))
        results += self._updates.run(incident_id, by=by)
        return self._report(results, incident_id, by)

    def retry_due(self, *, by: str = "debrief") -> FilingReport:
        """Retry the pending rows an earlier run left, once their next attempt time has come (for a poller).

        Only rows a person asked to file exist, so this never files an item nobody asked for; failed rows
        wait for a person too.
        """
        self._require_trackers()
        trackers = {tracker.name: tracker for tracker in self._trackers}
        results: list[FilingResult] = []
        for entry in self._outbox.entries(state=OutboxState.PENDING):
            tracker = trackers.get(entry.tracker)
            if tracker is not None:
                item = self._engine.actions.get(entry.action_id)
                results.append(self._file_one(item, tracker, by, due_only=True))
        results += self._updates.run(due_only=True, by=by)
        return self._report(results, None, by)

    def update_tickets(self, action_id: int, *, by: str = "debrief") -> list[FilingResult]:
        """Bring the item's filed tickets up to it now (after an edit, done or drop): one attempt each."""
        return self._updates.run(action_id=action_id, by=by)

    def _require_trackers(self) -> None:
        if not self._trackers:
            raise FilingError("No tracker is configured: set DEBRIEF_TRACKERS to jira and/or github first.")

    def _report(self, results: list[FilingResult], incident_id: str | None, by: str) -> FilingReport:
        ordered = tuple(sorted(results, key=lambda result: result.action_id))  # stable: tracker order kept
        report = FilingReport(tuple(self.tracker_names), ordered)
        if results:
            self._engine.store.audit(by, "file_actions", incident_id, report.counts())
        return report

    def _apply_gate(
        self, items: Sequence[ActionItem], by: str
    ) -> tuple[list[ActionItem], list[FilingResult]]:
        """Items the quality gate passes, and a needs-revision result (with the reasons) for each other.

        The gate also marks failing pending items needs_revision (and fixed ones pending again), audited.
        """
        incidents = list(dict.fromkeys(item.incident_id for item in items))
        wanted = {item.id for item in items}
        fileable: list[ActionItem] = []
        stopped: list[FilingResult] = []
        for incident_id in incidents:
            for checked in apply_gate(self._engine.actions, self._engine.store, incident_id, by):
                if checked.item.id not in wanted:
                    continue
                if checked.passed or checked.item.status in CLOSED:
                    fileable.append(checked.item)
                else:
                    reason = "; ".join(checked.problems)
                    stopped.append(FilingResult.of(checked.item, FilingOutcome.NEEDS_REVISION, reason=reason))
        return fileable, stopped

    def _file_one(self, item: ActionItem, tracker: Tracker, by: str, *, due_only: bool) -> FilingResult:
        claim, entry = self._outbox.claim(
            item.id, tracker.name, self.worker, self._clock(), self._lease, due_only=due_only
        )
        if claim is Claim.FILED:
            return FilingResult.of(item, FilingOutcome.ALREADY_FILED, tracker.name, ref=entry.ref)
        if claim is Claim.BUSY:
            return FilingResult.of(
                item, FilingOutcome.BUSY, tracker.name, reason="another run is filing it now"
            )
        if claim is Claim.NOT_DUE:
            outcome = FilingOutcome.FAILED if entry.state is OutboxState.FAILED else FilingOutcome.PENDING
            if outcome is FilingOutcome.PENDING and entry.confirming(self._clock()):
                outcome = FilingOutcome.CONFIRMING
            return FilingResult.of(item, outcome, tracker.name, entry.last_error, entry.next_attempt_at)
        return self._attempt(item, tracker, self._incident_title(item.incident_id), entry, by)

    def _incident_title(self, incident_id: str) -> str:
        """The incident's title, which every ticket states (read once per incident and Filer)."""
        if incident_id not in self._incident_titles:
            self._incident_titles[incident_id] = self._engine.incidents.get(incident_id).title
        return self._incident_titles[incident_id]

    def _attempt(
        self, item: ActionItem, tracker: Tracker, incident_title: str, entry: OutboxEntry, by: str
    ) -> FilingResult:
        """Find, else create unless an earlier create may still show up; bounded retries; record the outcome."""
        error = ""
        for attempt in range(self._attempts_per_run):
            if attempt:
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
            current = self._outbox.renew(entry.id, self.worker, self._clock(), self._lease)
            if current is None:
                return FilingResult.of(
                    item, FilingOutcome.BUSY, tracker.name, reason="another run took it over"
                )
            try:
                ref = tracker.find(item.idempotency_key)
                found = ref is not None
                if ref is None:
                    if current.confirming(self._clock()):
                        error = error or WAITING
                        continue  # look again after the backoff; never create inside the window
                    ref = self._create(item, tracker, incident_title, current)
                    if ref is None:
                        return FilingResult.of(
                            item, FilingOutcome.BUSY, tracker.name, reason="another run took it over"
                        )
            except TrackerError as exc:
                error = redact(str(exc))
                log.warning("filing A%s to %s failed: %s", item.id, tracker.name, error)
                if not exc.retryable:
                    return self._give_up(item, tracker, entry, error, attempt + 1, by, failed=True)
                continue
            except Exception as exc:  # an adapter bug or a strange answer: keep the item pending, not lost
                error = f"{tracker.name} failed unexpectedly ({type(exc).__name__})"
                log.exception("filing A%s to %s failed unexpectedly", item.id, tracker.name)
                continue
            self._outbox.record_filed(
                entry.id,
                str(ref),
                found=found,
                attempts=attempt + 1,
                now=self._clock(),
                by=by,
                synced_revision=_stated_revision(item, found=found),
            )
            outcome = FilingOutcome.FOUND if found else FilingOutcome.FILED
            return FilingResult.of(item, outcome, tracker.name, ref=str(ref))
        return self._give_up(item, tracker, entry, error, self._attempts_per_run, by, failed=False)

    def _create(
        self, item: ActionItem, tracker: Tracker, incident_title: str, entry: OutboxEntry
    ) -> TicketRef | None:
        """Create the ticket after writing ahead that we do; None when another run took the row meanwhile.

        The record stays unless the create returns (recorded next) or the tracker refused it (cleared here):
        any other failure, or a crash, leaves its outcome unknown for the next attempt to confirm.
        """
        if entry.create_attempted_at is not None:
            log.info(
                "no %s ticket for A%s showed up after a lost create: filing it again", tracker.name, item.id
            )
        now = self._clock()
        confirm_until = now + self._reconcile_window
        if not self._outbox.begin_create(entry.id, self.worker, now, self._lease, confirm_until):
            return None
        try:
            return tracker.create(item, incident_title)
        except TrackerError as exc:
            if exc.changed_nothing:
                self._outbox.create_refused(entry.id, self.worker, self._clock())
            raise

    def _give_up(
        self,
        item: ActionItem,
        tracker: Tracker,
        entry: OutboxEntry,
        error: str,
        attempts: int,
        by: str,
        *,
        failed: bool,
    ) -> FilingResult:
        """Leave the row pending with a next attempt time, or failed; an open reconcile window is waited out."""
        now = self._clock()
        next_at = None if failed else now + _retry_delay(entry.attempts + attempts, self._attempts_per_run)
        outcome = FilingOutcome.FAILED if failed else FilingOutcome.PENDING
        confirm_until = self._outbox.get(entry.id).confirm_until
        if next_at is not None and confirm_until is not None and confirm_until > now:
            next_at, outcome = max(next_at, confirm_until), FilingOutcome.CONFIRMING
        self._outbox.record_retry(
            entry.id,
            self.worker,
            error=error,
            attempts=attempts,
            next_attempt_at=next_at,
            failed=failed,
            now=now,
            by=by,
        )
        return FilingResult.of(item, outcome, tracker.name, error, next_at)

    # -- status sync ---------------------------------------------------------------------------
    def sync_status(self, incident_id: str | None = None, *, by: str = "debrief") -> list[StatusResult]:
        """Read each filed ticket's current status from its tracker and store it.

        A tracker that fails once is skipped for the rest of the call, so an outage costs one timeout, not
        one per ticket. An item whose tickets are all done becomes done (and filed again if one reopens).
        """
        trackers = {tracker.name: tracker for tracker in self._trackers}
        down: dict[str, str] = {}
        results: list[StatusResult] = []
        for entry in self._outbox.entries(incident_id, OutboxState.FILED):
            tracker = trackers.get(entry.tracker)
            if tracker is None or entry.ref is None:
                continue
            if entry.tracker in down:
                results.append(
                    StatusResult(entry.action_id, entry.ref, entry.remote_status, down[entry.tracker])
                )
                continue
            try:
                status = tracker.status(TicketRef.parse(entry.ref))
            except TrackerError as exc:
                down[entry.tracker] = redact(str(exc))
                results.append(
                    StatusResult(entry.action_id, entry.ref, entry.remote_status, down[entry.tracker])
                )
                continue
            changed = self._outbox.record_status(entry.id, status, self._clock(), by)
            results.append(StatusResult(entry.action_id, entry.ref, status, None, changed))
        self._roll_up_done(incident_id, by)
        return results

    def _roll_up_done(self, incident_id: str | None, by: str) -> None:
        """An item is done when it is filed on every tracker and every ticket is done; reopened, filed again.

        Items people changed whose tickets are not updated yet wait (a `done` is not undone by a ticket not
        closed yet), and a dropped item stays dropped whatever its tickets say.
        """
        tickets = self._outbox.by_action(incident_id)
        behind = {entry.action_id for entry in self._outbox.stale(incident_id)}
        for item in self._engine.actions.list(incident_id):
            entries = tickets.get(item.id, [])
            if not entries or item.id in behind or item.status is ActionStatus.DROPPED:
                continue
            done = all(
                entry.state is OutboxState.FILED
                and (entry.remote_status or "").strip().lower() in DONE_STATUSES
                for entry in entries
            )
            if done and item.status is not ActionStatus.DONE:
                self._engine.actions.set_status(item.id, ActionStatus.DONE, by)
            elif not done and item.status is ActionStatus.DONE:
                self._engine.actions.set_status(item.id, ActionStatus.FILED, by)


def _stated_revision(item: ActionItem, *, found: bool) -> int:
    """The item revision a just-recorded ticket states. Created now from `item`: its revision, unless the
    item is closed (a new ticket is open: it must be closed). Found (an earlier run created it from some
    revision): only an item never changed can vouch for it."""
    if item.status in CLOSED or (found and item.revision > 0):
        return UNKNOWN_REVISION
    return item.revision


def _retry_delay(total_attempts: int, per_run: int) -> timedelta:
    """One minute after the first failed run, doubling per failed run, at most an hour."""
    failed_runs = max(1, -(-total_attempts // per_run))
    return min(RETRY_AFTER * (1 << (failed_runs - 1)), RETRY_AFTER_MAX)
