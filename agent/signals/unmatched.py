"""Signals no incident took: listed for responders (`!incident signals`), attached to an incident by hand.

Unmatched signals are alerts and deploys of the whole organisation, not of one incident, so any room may see the
recent ones; attaching one puts it on the room's own incident (with its own time, and marked as context when it
is from long before the incident), and the audit trail records who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from agent.engine import Engine
from agent.errors import DebriefError
from agent.identity import normalise_user
from agent.incidents import IncidentRef, format_id, load_row
from agent.models import EventKind
from agent.signals.record import attach_with_thread, signal_id
from agent.signals.rules import SignalRules
from agent.store import add_audit
from agent.store.tables import EventRow, IncidentServiceRow, SignalRow

RECENT = timedelta(days=1)
SHOWN = 20


class UnknownSignal(DebriefError):
    """No signal has that id, or it is not waiting to be attached."""


@dataclass(frozen=True)
class UnmatchedSignal:
    id: str
    at: datetime
    kind: EventKind
    author: str
    text: str
    routing: dict[str, str]


@dataclass(frozen=True)
class Attached:
    signal_id: str
    incident_id: str
    event_id: int
    text: str
    context: bool


def parse_signal_id(text: str) -> int:
    """`S3` (or `s3`, `3`) -> 3."""
    value = text.strip().upper().removeprefix("S")
    if not (
        value.isascii() and value.isdigit() and len(value) <= 9
    ):  # like INC-n and An: no integer overflow
        raise UnknownSignal(f"{text.strip()!r} is not a signal id; ids look like S3 (see !incident signals)")
    return int(value)


def unmatched_signals(
    engine: Engine, now: datetime | None = None, within: timedelta = RECENT, limit: int = SHOWN
) -> list[UnmatchedSignal]:
    """The latest unmatched signals received within `within`, newest first."""
    since = (now or datetime.now(UTC)) - within
    query = (
        select(SignalRow)
        .where(SignalRow.incident_number.is_(None), SignalRow.received_at >= since)
        .order_by(SignalRow.received_at.desc(), SignalRow.id.desc())
        .limit(limit)
    )
    with engine.store.read() as session:
        return [
            UnmatchedSignal(
                signal_id(row.id), row.at, EventKind(row.kind), row.author, row.text, dict(row.routing)
            )
            for row in session.scalars(query)
        ]


def attach_signal(
    engine: Engine, rules: SignalRules, signal: str, incident: IncidentRef, by: str
) -> Attached:
    """Put an unmatched signal on `incident`'s timeline (anyone who may see the incident may)."""
    number = parse_signal_id(signal)
    with engine.store.write() as session:
        target = load_row(session, incident, for_update=True, roles=engine.roles)
        row = session.get(SignalRow, number, with_for_update=True)
        if row is None:
            raise UnknownSignal(f"there is no signal {signal_id(number)}; see !incident signals")
        if row.incident_number is not None:
            raise UnknownSignal(
                f"{signal_id(number)} is already on {format_id(row.incident_number)}'s timeline"
            )
        who = normalise_user(by)
        attach_with_thread(session, row, target, rules, by=who)
        event = session.get(EventRow, row.event_id)
        assert event is not None
        detail = {"signal": signal_id(number), "event": row.event_id, "source": row.source}
        add_audit(session, who, "attach_signal", format_id(target.number), detail)
        return Attached(signal_id(number), format_id(target.number), event.id, event.text, event.context)


def claim_unmatched(engine: Engine, rules: SignalRules, incident: IncidentRef, by: str) -> list[Attached]:
    """Put on the incident's timeline the unmatched signals that name one of its services, from its pre-incident
    window on (DEBRIEF_PRE_INCIDENT_MINUTES before its start): the alert that made someone start the incident
    came before the incident had a service, stayed unmatched, and was its detection."""
    who = normalise_user(by)
    attached: list[Attached] = []
    with engine.store.write() as session:
        target = load_row(session, incident, for_update=True, roles=engine.roles)
        services = {
            rules.service(name)
            for name in session.scalars(
                select(IncidentServiceRow.name).where(IncidentServiceRow.incident_number == target.number)
            )
        }
        if not services:
            return []
        query = (
            select(SignalRow)
            .where(
                SignalRow.incident_number.is_(None),
                SignalRow.at >= target.started_at - rules.pre_incident,
            )
            .order_by(SignalRow.at, SignalRow.id)
        )
        for row in list(session.scalars(query)):
            if row.incident_number is not None or not any(
                rules.service(value) in services for value in row.routing.values()
            ):
                continue  # taken with its thread already, or about another service
            attach_with_thread(session, row, target, rules, by=who)
            event = session.get(EventRow, row.event_id)
            assert event is not None
            detail = {"signal": signal_id(row.id), "event": row.event_id, "source": row.source}
            add_audit(session, who, "claim_signal", format_id(target.number), detail)
            attached.append(
                Attached(signal_id(row.id), format_id(target.number), event.id, event.text, event.context)
            )
    return attached
