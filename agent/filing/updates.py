"""Filed tickets follow their items: an edit updates the ticket (title, assignee, due date), done or drop closes it.

Each change people make to an item raises its revision (agent/actions/service.py); an outbox row whose ticket
states an older revision is stale. A run claims the row's lease, reads the item as it is now, calls the
tracker's `update` (and `close_ticket` when the item is done or dropped), then records the revision it sent.
Both tracker calls only set what the ticket says, so a crash or a lost answer between the call and the record
costs one repeated, harmless call, never a second ticket; an edit made meanwhile leaves the row stale for the
next run. A retryable failure keeps the row stale with a next attempt time (the poller retries it); any other
failure keeps it stale for a person (the next edit, or `!actions file`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from agent.engine import Engine
from agent.filing.outbox import Outbox, OutboxEntry
from agent.filing.report import FilingOutcome, FilingResult
from agent.models import ActionItem, ActionStatus
from agent.redact import redact
from agent.trackers import Closing, TicketRef, Tracker, TrackerError

log = logging.getLogger(__name__)

RETRY_UPDATE_AFTER = timedelta(minutes=1)
CLOSINGS = {ActionStatus.DONE: Closing.DONE, ActionStatus.DROPPED: Closing.DROPPED}


class TicketUpdates:
    """Brings stale tickets up to their items, through the outbox; one attempt per row and run."""

    def __init__(
        self,
        engine: Engine,
        trackers: Sequence[Tracker],
        outbox: Outbox,
        *,
        clock: Callable[[], datetime],
        worker: str,
        lease: timedelta,
        incident_title: Callable[[str], str],
    ) -> None:
        self._engine = engine
        self._trackers = {tracker.name: tracker for tracker in trackers}
        self._outbox = outbox
        self._clock = clock
        self._worker = worker
        self._lease = lease
        self._incident_title = incident_title

    def run(
        self,
        incident_id: str | None = None,
        *,
        action_id: int | None = None,
        due_only: bool = False,
        by: str,
    ) -> list[FilingResult]:
        """Update every stale ticket (one incident's, one item's, or all) on a configured tracker.

        `due_only` (the poller): skip rows whose next attempt time has not come or that wait for a person.
        """
        due_at = self._clock() if due_only else None
        stale = self._outbox.stale(incident_id, action_id=action_id, due_at=due_at)
        results = [self._update_one(entry, by) for entry in stale if entry.tracker in self._trackers]
        return [result for result in results if result is not None]

    def _update_one(self, entry: OutboxEntry, by: str) -> FilingResult | None:
        claimed = self._outbox.claim_update(entry.id, self._worker, self._clock(), self._lease)
        item = self._engine.actions.get(entry.action_id)
        if claimed is None:
            return FilingResult.of(
                item, FilingOutcome.BUSY, entry.tracker, "another run is updating it now", ref=entry.ref
            )
        if claimed.synced_revision >= item.revision or claimed.ref is None:
            self._outbox.release(entry.id, self._worker, self._clock())  # another run was quicker
            return None
        tracker, ref = self._trackers[entry.tracker], TicketRef.parse(claimed.ref)
        try:
            status = self._send(tracker, ref, item)
        except TrackerError as exc:
            return self._failed(item, claimed, redact(str(exc)), exc.retryable, by)
        except Exception as exc:  # an adapter bug or a strange answer: keep it stale, not lost
            log.exception("updating %s failed unexpectedly", ref)
            return self._failed(
                item, claimed, f"{tracker.name} failed unexpectedly ({type(exc).__name__})", True, by
            )
        now = self._clock()
        self._outbox.record_updated(
            entry.id, self._worker, revision=item.revision, status=status, now=now, by=by
        )
        return FilingResult.of(
            item,
            FilingOutcome.UPDATED,
            claimed.tracker,
            _closed(status),
            ref=claimed.ref,
        )

    def _send(self, tracker: Tracker, ref: TicketRef, item: ActionItem) -> str | None:
        """The ticket states the item; closed when the item is done or dropped (its status then)."""
        tracker.update(ref, item, self._incident_title(item.incident_id))
        closing = CLOSINGS.get(item.status)
        return tracker.close_ticket(ref, closing) if closing is not None else None

    def _failed(
        self, item: ActionItem, entry: OutboxEntry, error: str, retryable: bool, by: str
    ) -> FilingResult:
        now = self._clock()
        next_at = now + RETRY_UPDATE_AFTER if retryable else None
        log.warning("updating %s failed: %s", entry.ref, error)
        self._outbox.record_update_failed(
            entry.id, self._worker, error=error, next_attempt_at=next_at, now=now, by=by
        )
        outcome = FilingOutcome.UPDATE_PENDING if retryable else FilingOutcome.UPDATE_FAILED
        return FilingResult.of(item, outcome, entry.tracker, error, next_at, ref=entry.ref)


def _closed(status: str | None) -> str | None:
    """How a closed ticket's status reads: "closed: Won't Do" (Jira's resolution), "closed" (GitHub's state)."""
    if not status:
        return None
    return "closed" if status.casefold() == "closed" else f"closed: {status}"
