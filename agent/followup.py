"""Follow-through on action items: an open item past its due date gets one reminder to its owner in its incident's
room, and if it is still open a grace period after that reminder, one escalation to the incident's commander.

Never a flood. Each reminder and escalation is sent once per item and due date (moving the date earns a new
pair), and it is recorded in `nudges_sent` by the call that decides it, as `agent.nudges` does: restarts and
concurrent pollers never repeat one. An escalation waits for its reminder plus the grace period, so the two
never come together, even for items long overdue when Debrief first sees them. One call posts at most one
reminder message and one escalation message per room, listing its items. Items whose tickets were closed in the
tracker are done once their status is read back, which happens here before anyone is reminded of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from agent.engine import Engine
from agent.filing import Filer
from agent.incidents import format_id
from agent.models import OPEN_ACTION_STATUSES
from agent.nudges import Nudge
from agent.settings import Settings
from agent.store.dedupe import insert_ignore_one
from agent.store.tables import ActionRow, IncidentRow, NudgeSentRow
from agent.timestamps import as_utc

REMIND = "action-due"
ESCALATE = "action-late"


@dataclass(frozen=True)
class FollowUpPolicy:
    """How long after its reminder an item still open is escalated to the commander."""

    escalate_after: timedelta = timedelta(days=2)


@dataclass(frozen=True)
class _Late:
    """An open item past its due date, with what its incident's room needs to hear about it."""

    incident_number: int
    room: str
    lead: str
    ref: str  # INC-3/A2: rooms keep several incidents over time
    title: str
    owner: str | None
    due: date
    refs: tuple[str, ...]
    action_id: int

    def key(self, kind: str) -> str:
        return f"{kind}:{self.action_id}:{self.due.isoformat()}"


def due_followups(
    engine: Engine, now: datetime, policy: FollowUpPolicy | None = None, settings: Settings | None = None
) -> list[Nudge]:
    """The reminder and escalation messages to post now, each item in them recorded as sent.

    With `settings` naming trackers, filed items about to be named have their tickets' status read first.
    """
    now, policy = as_utc(now), policy or FollowUpPolicy()
    late = _late_items(engine, now.date())
    if settings is not None and settings.trackers:
        about_to_name = [item for _, item in _unsent(engine, late, now, policy)]
        filed = sorted({format_id(item.incident_number) for item in about_to_name if item.refs})
        if filed:
            _read_ticket_status(engine, settings, filed)
            late = _late_items(engine, now.date())
    reminders, escalations = _record(engine, _unsent(engine, late, now, policy), now)
    return _messages(reminders, _remind_line, _REMIND_HEADER) + _messages(
        escalations, lambda item: _escalate_line(item, now.date()), _ESCALATE_HEADER
    )


def _late_items(engine: Engine, today: date) -> list[_Late]:
    statuses = [status.value for status in OPEN_ACTION_STATUSES]
    query = (
        select(ActionRow, IncidentRow)
        .join(IncidentRow, IncidentRow.number == ActionRow.incident_number)
        .where(ActionRow.status.in_(statuses), ActionRow.due < today)
        .order_by(ActionRow.due, ActionRow.id)
    )
    with engine.store.read() as session:
        return [
            _Late(
                incident_number=incident.number,
                room=incident.room,
                lead=incident.commander or incident.started_by,
                ref=f"{format_id(incident.number)}/A{item.number}",
                title=item.title,
                owner=item.owner,
                due=item.due,
                refs=tuple(item.refs),
                action_id=item.id,
            )
            for item, incident in session.execute(query)
            if item.due is not None
        ]


def _unsent(
    engine: Engine, late: Sequence[_Late], now: datetime, policy: FollowUpPolicy
) -> list[tuple[str, _Late]]:
    """(kind, item) for each reminder not sent yet, and each escalation whose reminder is `escalate_after` old."""
    keys = [item.key(kind) for item in late for kind in (REMIND, ESCALATE)]
    with engine.store.read() as session:
        sent = {
            nudge: as_utc(sent_at)
            for nudge, sent_at in session.execute(
                select(NudgeSentRow.nudge, NudgeSentRow.sent_at).where(NudgeSentRow.nudge.in_(keys))
            )
        }
    due: list[tuple[str, _Late]] = []
    for item in late:
        reminded = sent.get(item.key(REMIND))
        if reminded is None:
            due.append((REMIND, item))
        elif item.key(ESCALATE) not in sent and now >= reminded + policy.escalate_after:
            due.append((ESCALATE, item))
    return due


def _record(
    engine: Engine, due: Sequence[tuple[str, _Late]], now: datetime
) -> tuple[list[_Late], list[_Late]]:
    """Record each as sent; only what this call inserted is returned (another poller may have been first)."""
    reminders: list[_Late] = []
    escalations: list[_Late] = []
    with engine.store.write() as session:
        for kind, item in due:
            row = {"incident_number": item.incident_number, "nudge": item.key(kind), "sent_at": now}
            if insert_ignore_one(session, NudgeSentRow, row, ("incident_number", "nudge")) is not None:
                (reminders if kind == REMIND else escalations).append(item)
    return reminders, escalations


def _read_ticket_status(engine: Engine, settings: Settings, incident_ids: Sequence[str]) -> None:
    filer = Filer.from_settings(engine, settings)
    try:
        for incident_id in incident_ids:
            filer.sync_status(incident_id)
    finally:
        filer.close()


_REMIND_HEADER = "Action items past their due date and still open:"
_ESCALATE_HEADER = "{lead}: as commander, these action items are still open after a reminder:"


def _messages(items: Sequence[_Late], line: Callable[[_Late], str], header: str) -> list[Nudge]:
    """One message per room, its items one line each, in due-date order."""
    by_room: dict[str, list[_Late]] = {}
    for item in items:
        by_room.setdefault(item.room, []).append(item)
    messages = []
    for room, listed in by_room.items():
        leads = sorted({f"@{item.lead}" for item in listed})
        lines = [header.format(lead=", ".join(leads)), *(line(item) for item in listed)]
        messages.append(Nudge(room, format_id(listed[0].incident_number), "\n".join(lines)))
    return messages


def _remind_line(item: _Late) -> str:
    who = f"@{item.owner}" if item.owner else "nobody owns it yet"
    return (
        f"- {item.ref} {item.title} (due {item.due.isoformat()}; {who}). Done: `!action done {item.ref}`; "
        f"more time: `!action edit {item.ref} due:YYYY-MM-DD`; not needed: `!action drop {item.ref} REASON`."
    )


def _escalate_line(item: _Late, today: date) -> str:
    days = (today - item.due).days
    owner = f"owner {item.owner}" if item.owner else "no owner"
    return (
        f"- {item.ref} {item.title} ({owner}, due {item.due.isoformat()}, {days} day{'s' if days != 1 else ''} "
        f"overdue). Reassign: `!action edit {item.ref} @someone`; or move the date, or drop it with a reason."
    )
