"""The filing outbox: one row per (action item, tracker), so filing survives outages, crashes and races.

A row is `pending` until its ticket is recorded (`filed`), or `failed` after an error a retry cannot fix
(bad credentials, a missing project). A run works on a row only after *claiming* it with one conditional
UPDATE that sets a lease (`claimed_by`, `claimed_until`). That statement is atomic on SQLite (writers queue
on BEGIN IMMEDIATE) and on PostgreSQL (a concurrent UPDATE re-checks the WHERE clause once the first one
commits), so two runs never work on one row at the same time. A crashed run's lease simply expires.

Before each create call the lease holder commits a write-ahead record (`create_attempted_at`, `confirm_until`);
it is cleared once the create's outcome is known, so a run that finds it set knows that a ticket may exist
which the tracker's lookup does not show yet (agent/filing/filer.py says what runs do about it).

A filed row also remembers the item revision its ticket states (`synced_revision`). When people change the
item its revision rises, the row is *stale*, and a run takes the same lease to update the ticket, then records
the revision it sent (agent/filing/updates.py). An update only sets what the ticket says, so one that is
repeated after a crash or a lost answer is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from agent.incidents import format_id, load_row, parse_id
from agent.models import ActionStatus
from agent.store import Store, add_audit
from agent.store.dedupe import insert_ignore
from agent.store.tables import ActionRow, OutboxRow


class OutboxState(StrEnum):
    PENDING = "pending"
    FILED = "filed"
    FAILED = "failed"


class Claim(StrEnum):
    """What a claim attempt found."""

    CLAIMED = "claimed"  # this run holds the lease now
    FILED = "filed"  # nothing to do: the ticket is recorded
    BUSY = "busy"  # another run holds an unexpired lease
    NOT_DUE = "not_due"  # an automatic run, and the row waits for its next attempt (or failed)


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    action_id: int
    tracker: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    ref: str | None
    remote_status: str | None
    status_synced_at: datetime | None
    claimed_by: str | None
    claimed_until: datetime | None
    create_attempted_at: datetime | None = None  # a create whose outcome is not known yet began then
    confirm_until: datetime | None = None  # ...and no run creates again before this time
    synced_revision: int = 0  # the item revision the ticket states (-1: unknown, update it)

    def confirming(self, now: datetime) -> bool:
        """An earlier create may have made a ticket the lookup does not show yet: look, do not create."""
        return self.confirm_until is not None and now < self.confirm_until


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        action_id=row.action_id,
        tracker=row.tracker,
        state=OutboxState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        ref=row.ref,
        remote_status=row.remote_status,
        status_synced_at=row.status_synced_at,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
        create_attempted_at=row.create_attempted_at,
        confirm_until=row.confirm_until,
        synced_revision=row.synced_revision,
    )


class Outbox:
    """Reads and state changes of the outbox; every change is its own committed transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def ensure(self, action_ids: Sequence[int], trackers: Sequence[str], now: datetime) -> None:
        """Create the missing pending rows; existing rows (in any state) are left as they are."""
        rows = [
            {
                "action_id": action_id,
                "tracker": tracker,
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for action_id in action_ids
            for tracker in trackers
        ]
        if rows:
            with self._store.write() as session:
                insert_ignore(session, OutboxRow, rows, conflict=("action_id", "tracker"))

    def entries(self, incident_id: str | None = None, state: OutboxState | None = None) -> list[OutboxEntry]:
        """Rows in item order, then tracker; one incident's when `incident_id` is given."""
        query = select(OutboxRow).order_by(OutboxRow.action_id, OutboxRow.id)
        if state is not None:
            query = query.where(OutboxRow.state == state.value)
        with self._store.read() as session:
            if incident_id is not None:
                load_row(session, incident_id)
                query = query.join(ActionRow, ActionRow.id == OutboxRow.action_id).where(
                    ActionRow.incident_number == parse_id(incident_id)
                )
            return [_entry(row) for row in session.scalars(query)]

    def by_action(self, incident_id: str | None = None) -> dict[int, list[OutboxEntry]]:
        grouped: dict[int, list[OutboxEntry]] = {}
        for entry in self.entries(incident_id):
            grouped.setdefault(entry.action_id, []).append(entry)
        return grouped

    def claim(
        self,
        action_id: int,
        tracker: str,
        worker: str,
        now: datetime,
        lease: timedelta,
        *,
        due_only: bool = False,
    ) -> tuple[Claim, OutboxEntry]:
        """Take the row's lease unless it is filed or leased; `due_only` also skips failed and not-yet-due rows."""
        key = and_(OutboxRow.action_id == action_id, OutboxRow.tracker == tracker)
        conditions: list[ColumnElement[bool]] = [
            key,
            OutboxRow.state != OutboxState.FILED.value,
            or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
        ]
        if due_only:
            conditions.append(OutboxRow.state == OutboxState.PENDING.value)
            conditions.append(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
        with self._store.write() as session:
            statement = (
                update(OutboxRow)
                .where(*conditions)
                .values(claimed_by=worker, claimed_until=now + lease, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            taken = cast(CursorResult[Any], session.execute(statement)).rowcount
            row = session.scalars(select(OutboxRow).where(key)).one()
            entry = _entry(row)
        if taken == 1:
            return Claim.CLAIMED, entry
        if entry.state is OutboxState.FILED:
            return Claim.FILED, entry
        if entry.claimed_until is not None and entry.claimed_until > now:
            return Claim.BUSY, entry
        return Claim.NOT_DUE, entry

    def get(self, entry_id: int) -> OutboxEntry:
        with self._store.read() as session:
            return _entry(session.get_one(OutboxRow, entry_id))

    def renew(self, entry_id: int, worker: str, now: datetime, lease: timedelta) -> OutboxEntry | None:
        """Extend our lease before the next tracker call and return the row as it stands.

        None when the lease expired and another run took it.
        """
        with self._store.write() as session:
            if not self._update_own(session, entry_id, worker, claimed_until=now + lease, updated_at=now):
                return None
            return _entry(session.get_one(OutboxRow, entry_id))

    def begin_create(
        self, entry_id: int, worker: str, now: datetime, lease: timedelta, confirm_until: datetime
    ) -> bool:
        """Write ahead (and commit) that a create starts now, before calling the tracker; renews our lease.

        False when the lease expired and another run took the row: then we must not create.
        """
        with self._store.write() as session:
            return self._update_own(
                session,
                entry_id,
                worker,
                create_attempted_at=now,
                confirm_until=confirm_until,
                claimed_until=now + lease,
                updated_at=now,
            )

    def create_refused(self, entry_id: int, worker: str, now: datetime) -> None:
        """The tracker refused our create (nothing was made): clear the write-ahead record, if still ours.

        Only the lease holder writes that record, so while we hold the lease it is the one we wrote.
        """
        with self._store.write() as session:
            self._update_own(
                session, entry_id, worker, create_attempted_at=None, confirm_until=None, updated_at=now
            )

    def record_filed(
        self,
        entry_id: int,
        ref: str,
        *,
        found: bool,
        attempts: int,
        now: datetime,
        by: str,
        synced_revision: int = 0,
    ) -> None:
        """Put the ref on the item and mark the row filed, in one transaction, audited; `synced_revision` is
        the item revision the ticket states (-1 when that is not known: the ticket is then updated).

        Unconditional (no lease check): the ticket exists, and any other run would find this same ticket.
        """
        with self._store.write() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.id == entry_id).with_for_update()).one()
            item = session.scalars(
                select(ActionRow).where(ActionRow.id == row.action_id).with_for_update()
            ).one()
            if ref not in item.refs:
                item.refs = [*item.refs, ref]
            if item.status != ActionStatus.DONE.value:
                item.status = ActionStatus.FILED.value
            row.state, row.ref, row.filed_at, row.updated_at = OutboxState.FILED.value, ref, now, now
            row.attempts += attempts
            row.last_error = row.next_attempt_at = row.claimed_by = row.claimed_until = None
            row.create_attempted_at = row.confirm_until = None
            row.synced_revision = synced_revision
            detail = {"action": item.id, "tracker": row.tracker, "ref": ref, "found_existing": found}
            add_audit(session, by, "file_action", format_id(item.incident_number), detail)

    def record_retry(
        self,
        entry_id: int,
        worker: str,
        *,
        error: str,
        attempts: int,
        next_attempt_at: datetime | None,
        failed: bool,
        now: datetime,
        by: str,
    ) -> None:
        """Leave the row pending (retry from `next_attempt_at`) or mark it failed; release our lease.

        A write-ahead record stays: the create's outcome is still unknown.
        """
        state = OutboxState.FAILED if failed else OutboxState.PENDING
        with self._store.write() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.id == entry_id).with_for_update()).one()
            if row.claimed_by != worker or row.state == OutboxState.FILED.value:
                return  # our lease expired and another run owns the row now: its outcome counts
            row.state, row.last_error, row.next_attempt_at = state.value, error, next_attempt_at
            row.attempts += attempts
            row.claimed_by = row.claimed_until = None
            row.updated_at = now
            item = session.get_one(ActionRow, row.action_id)
            detail = {
                "action": item.id,
                "tracker": row.tracker,
                "error": error,
                "attempts": row.attempts,
                "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
            }
            if row.confirm_until is not None:
                detail["confirm_until"] = row.confirm_until.isoformat()
            action = "filing_failed" if failed else "filing_retry_later"
            add_audit(session, by, action, format_id(item.incident_number), detail)

    def release(self, entry_id: int, worker: str, now: datetime) -> None:
        """Give the lease back without changing the row (a run that stopped early)."""
        with self._store.write() as session:
            self._update_own(session, entry_id, worker, claimed_by=None, claimed_until=None, updated_at=now)

    def record_status(self, entry_id: int, status: str, now: datetime, by: str) -> bool:
        """Store the tracker's current status of the ticket; audited (and True) when it changed."""
        with self._store.write() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.id == entry_id).with_for_update()).one()
            previous, row.remote_status, row.status_synced_at = row.remote_status, status, now
            if previous == status:
                return False
            item = session.get_one(ActionRow, row.action_id)
            detail = {"action": item.id, "ref": row.ref, "from": previous, "to": status}
            add_audit(session, by, "ticket_status", format_id(item.incident_number), detail)
            return True

    # -- updates of filed tickets -----------------------------------------------------------------
    def stale(
        self,
        incident_id: str | None = None,
        *,
        action_id: int | None = None,
        due_at: datetime | None = None,
    ) -> list[OutboxEntry]:
        """Filed rows whose ticket is behind its item's revision, in item order; one incident's or one item's
        when given. With `due_at` (automatic runs), only rows never tried since the change or whose next
        attempt time has come: a row that failed for good waits for a person."""
        query = (
            select(OutboxRow)
            .join(ActionRow, ActionRow.id == OutboxRow.action_id)
            .where(OutboxRow.state == OutboxState.FILED.value, OutboxRow.synced_revision < ActionRow.revision)
            .order_by(OutboxRow.action_id, OutboxRow.id)
        )
        if action_id is not None:
            query = query.where(OutboxRow.action_id == action_id)
        if due_at is not None:
            never_tried = and_(OutboxRow.next_attempt_at.is_(None), OutboxRow.last_error.is_(None))
            query = query.where(or_(never_tried, OutboxRow.next_attempt_at <= due_at))
        with self._store.read() as session:
            if incident_id is not None:
                query = query.where(ActionRow.incident_number == load_row(session, incident_id).number)
            return [_entry(row) for row in session.scalars(query)]

    def claim_update(self, entry_id: int, worker: str, now: datetime, lease: timedelta) -> OutboxEntry | None:
        """Take a filed row's lease to update its ticket; None while another run holds it."""
        with self._store.write() as session:
            statement = (
                update(OutboxRow)
                .where(
                    OutboxRow.id == entry_id,
                    OutboxRow.state == OutboxState.FILED.value,
                    or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
                )
                .values(claimed_by=worker, claimed_until=now + lease, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if not cast(CursorResult[Any], session.execute(statement)).rowcount:
                return None
            return _entry(session.get_one(OutboxRow, entry_id))

    def record_updated(
        self, entry_id: int, worker: str, *, revision: int, status: str | None, now: datetime, by: str
    ) -> None:
        """The ticket states the item at `revision` (and has `status`, when it was just closed); audited.

        Only while the lease is ours: else the run that took the row over records its own outcome.
        """
        with self._store.write() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.id == entry_id).with_for_update()).one()
            if row.claimed_by != worker:
                return
            row.synced_revision = max(row.synced_revision, revision)
            if status is not None:
                row.remote_status, row.status_synced_at = status, now
            row.last_error = row.next_attempt_at = row.claimed_by = row.claimed_until = None
            row.updated_at = now
            item = session.get_one(ActionRow, row.action_id)
            detail = {"action": item.id, "ref": row.ref, "revision": revision, "status": status}
            add_audit(session, by, "update_ticket", format_id(item.incident_number), detail)

    def record_update_failed(
        self,
        entry_id: int,
        worker: str,
        *,
        error: str,
        next_attempt_at: datetime | None,
        now: datetime,
        by: str,
    ) -> None:
        """Keep the row stale with the error: retried from `next_attempt_at`, or (None) by a person."""
        with self._store.write() as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.id == entry_id).with_for_update()).one()
            if row.claimed_by != worker:
                return
            row.last_error, row.next_attempt_at = error, next_attempt_at
            row.claimed_by = row.claimed_until = None
            row.updated_at = now
            item = session.get_one(ActionRow, row.action_id)
            detail = {
                "action": item.id,
                "ref": row.ref,
                "error": error,
                "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
            }
            action = "ticket_update_retry_later" if next_attempt_at else "ticket_update_failed"
            add_audit(session, by, action, format_id(item.incident_number), detail)

    @staticmethod
    def _update_own(session: Session, entry_id: int, worker: str, **values: object) -> bool:
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == worker)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(cast(CursorResult[Any], session.execute(statement)).rowcount)
