"""Action items with their tickets: what `!actions` and `debrief actions` show, read in one call.

With trackers configured, listing first reads each filed ticket's current status back from its tracker (an
unreachable tracker keeps the last known one), so the list says what the trackers say now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agent.engine import Engine
from agent.filing.filer import Filer
from agent.filing.outbox import Outbox, OutboxEntry, OutboxState
from agent.filing.report import waiting_note
from agent.identity import DEBRIEF
from agent.incidents import IncidentRef
from agent.models import ActionItem
from agent.progress import Announce
from agent.settings import Settings


@dataclass(frozen=True)
class ListedAction:
    item: ActionItem
    tickets: list[OutboxEntry] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """`id` is the database id (unique per installation); `number` and `ref` (`INC-3/A2`) name the item as
        people do."""
        item = self.item
        return {
            "id": item.id,
            "number": item.number,
            "ref": item.qualified_ref,
            "incident_id": item.incident_id,
            "title": item.title,
            "owner": item.owner,
            "due": item.due.isoformat() if item.due else None,
            "status": item.status.value,
            "drop_reason": item.drop_reason,
            "refs": list(item.refs),
            "tickets": [ticket_json(entry, item.revision) for entry in self.tickets],
        }

    def ticket_notes(self) -> list[str]:
        """Each ticket as `!actions` shows it, else the item's refs."""
        return [ticket_note(ticket, self.item.revision) for ticket in self.tickets] or list(self.item.refs)


@dataclass(frozen=True)
class ActionListing:
    """One incident's action items (`incident_id` set), or every incident's."""

    incident_id: str | None
    actions: list[ListedAction]

    def as_json(self) -> dict[str, Any]:
        return {"actions": [listed.as_json() for listed in self.actions]}


def list_actions(
    engine: Engine,
    settings: Settings,
    incident: IncidentRef | None = None,
    *,
    sync: bool = True,
    by: str = DEBRIEF,
    announce: Announce | None = None,
) -> ActionListing:
    """The items (one incident's, or all) with their tickets, after reading filed tickets' status back.

    `announce` hears, before any tracker is called, how many tickets are being read: a chat says so at once.
    """
    incident_id = engine.incidents.get(incident).id if incident is not None else None
    if sync and settings.trackers:
        _refresh_statuses(engine, settings, incident_id, by, announce)
    tickets = Outbox(engine.store).by_action(incident_id)
    items = engine.actions.list(incident_id)
    return ActionListing(incident_id, [ListedAction(item, tickets.get(item.id, [])) for item in items])


def overdue_actions(
    engine: Engine,
    settings: Settings,
    today: date,
    *,
    asker: str,
    room: str | None = None,
    announce: Announce | None = None,
) -> ActionListing:
    """Open items due before `today` across the incidents `asker` sees (admins and the operator: all; anyone
    else: those of `room`'s incidents), oldest due first, once their tickets' status is read back (a ticket
    closed in its tracker makes its item done, and no longer overdue)."""
    overdue = engine.actions.overdue(today, asker=asker, room=room)
    filed = [item for item in overdue if item.refs]
    if filed and settings.trackers:
        if announce is not None:
            count = sum(len(item.refs) for item in filed)
            announce(f"Reading the status of {count} ticket{'' if count == 1 else 's'}…")
        for incident_id in sorted({item.incident_id for item in filed}):
            _refresh_statuses(engine, settings, incident_id, DEBRIEF, None)
        overdue = engine.actions.overdue(today, asker=asker, room=room)
    tickets = Outbox(engine.store).by_action()
    return ActionListing(None, [ListedAction(item, tickets.get(item.id, [])) for item in overdue])


def _refresh_statuses(
    engine: Engine, settings: Settings, incident_id: str | None, by: str, announce: Announce | None
) -> None:
    """Read filed tickets' statuses back; no tracker I/O when nothing is filed."""
    filed = Outbox(engine.store).entries(incident_id, OutboxState.FILED)
    if not filed:
        return
    if announce is not None:
        trackers = ", ".join(sorted({entry.tracker for entry in filed}))
        plural = "" if len(filed) == 1 else "s"
        announce(f"Reading the status of {len(filed)} ticket{plural} from {trackers}…")
    filer = Filer.from_settings(engine, settings)
    try:
        filer.sync_status(incident_id, by=by)
    finally:
        filer.close()


def ticket_note(entry: OutboxEntry, revision: int | None = None) -> str:
    """One outbox row as `!actions` shows it: `jira:OPS-1 (Done)`, `github pending: HTTP 503 ...`.

    A pending row whose last create's outcome is unknown says so, and until when it is only looked up. A
    filed ticket behind its item's `revision` says its update is pending (and why, after a failure).
    """
    if entry.state is OutboxState.FILED:
        notes = [entry.remote_status] if entry.remote_status else []
        if revision is not None and entry.synced_revision < revision:
            notes.append("update pending" + (f": {entry.last_error.rstrip('.')}" if entry.last_error else ""))
        return f"{entry.ref} ({'; '.join(notes)})" if notes else str(entry.ref)
    if entry.state is OutboxState.PENDING and entry.confirm_until is not None:
        return waiting_note(entry.tracker, entry.confirm_until)
    note = f"{entry.tracker} {entry.state.value}"
    return f"{note}: {entry.last_error.rstrip('.')}" if entry.last_error else note


def ticket_json(entry: OutboxEntry, revision: int | None = None) -> dict[str, Any]:
    """`update_pending`: the ticket does not state the item's latest change yet."""
    return {
        "tracker": entry.tracker,
        "state": entry.state.value,
        "ref": entry.ref,
        "status": entry.remote_status,
        "status_synced_at": entry.status_synced_at.isoformat() if entry.status_synced_at else None,
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "next_attempt_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else None,
        "create_attempted_at": entry.create_attempted_at.isoformat() if entry.create_attempted_at else None,
        "confirm_until": entry.confirm_until.isoformat() if entry.confirm_until else None,
        "update_pending": revision is not None
        and entry.state is OutboxState.FILED
        and entry.synced_revision < revision,
    }
