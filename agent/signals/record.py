"""Recording signals: each kept once (by its source), routed, and put on its incident's timeline when it has one.

A signal that was seen before adds nothing; one that was unmatched before and now routes (an incident for its
service has opened since) goes on that incident's timeline. A signal from long before its incident started keeps
its own time and is marked as context, never taken for the incident's start or detection. A signal that continues
an earlier one on the same incident links to that event. Its text, author and labels are kept on one line
(`agent.signals.sender_text`).

A request is committed every `HOLD_S` seconds, so a group of thousands of alerts never holds SQLite's write lock
for long: between two transactions a chat writer waiting for it gets its turn. A request cut off part-way (a
crash, a lost database) keeps what was committed; its sender, answered with an error, sends it again, and what
was kept counts as duplicates. A malformed payload is still refused before anything is recorded, and a signal
that cannot be recorded is rejected on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.engine import Engine
from agent.errors import DebriefError
from agent.incidents import add_participants, format_id
from agent.models import EventKind
from agent.redact import redact
from agent.signals.routing import Router
from agent.signals.rules import SignalRules
from agent.signals.sender_text import one_line
from agent.signals.signal import Signal
from agent.store.dedupe import insert_ignore_one
from agent.store.tables import EventRow, IncidentRow, SignalRow
from agent.timeline import NewEvent
from agent.timestamps import event_time
from agent.wellformed import well_formed

# How long one transaction of a request records signals before it commits and lets other writers in.
HOLD_S = 0.5
# Between two transactions on SQLite: a writer waiting for the lock retries every 100 ms, so it finds it free.
PAUSE_S = 0.1


class UnfitSignal(DebriefError):
    """A signal the store cannot hold (an id longer than its column, or not valid Unicode): rejected alone."""


def signal_id(number: int) -> str:
    return f"S{number}"


@dataclass(frozen=True)
class Outcome:
    """Where one signal of a request went: recorded, duplicate, unmatched, ignored or rejected."""

    index: int
    source: str
    status: str
    incident_id: str | None = None
    event_id: int | None = None
    signal: int | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"index": self.index, "source": self.source, "status": self.status}
        if self.incident_id:
            found["incident"] = self.incident_id
        if self.event_id is not None:
            found["event"] = f"E{self.event_id}"
        if self.signal is not None:
            found["signal"] = signal_id(self.signal)
        if self.reason:
            found["reason"] = self.reason
        return found


def record_signals(
    engine: Engine,
    rules: SignalRules,
    signals: Sequence[Signal],
    now: datetime | None = None,
) -> list[Outcome]:
    """Keep, route and record `signals`, committing every `HOLD_S` seconds (see the module's docstring); a signal
    that cannot be (a time out of range, an unknown incident, an id too long to keep) is `rejected` with the
    reason and the rest are recorded."""
    received = now or datetime.now(UTC)
    outcomes: list[Outcome] = []
    while len(outcomes) < len(signals):
        if outcomes and engine.store.dialect == "sqlite":
            time.sleep(PAUSE_S)
        with engine.store.write() as session:
            router = Router(session, rules)
            first, until = len(outcomes), time.monotonic() + HOLD_S
            for index in range(first, len(signals)):
                if index > first and time.monotonic() > until:
                    break
                outcomes.append(_record_or_reject(session, router, rules, index, signals[index], received))
    return outcomes


def _record_or_reject(
    session: Session, router: Router, rules: SignalRules, index: int, signal: Signal, received: datetime
) -> Outcome:
    try:
        return _record(session, router, rules, index, signal, received)
    except DebriefError as exc:
        return Outcome(index, signal.source, "rejected", reason=str(exc))


def _record(
    session: Session, router: Router, rules: SignalRules, index: int, signal: Signal, received: datetime
) -> Outcome:
    at = event_time(signal.at, received)
    _check_fits(signal)
    row = _by_source(session, signal.source)
    if row is not None and row.incident_number is not None:
        return _outcome(index, row, "duplicate")
    route = router.route(signal)
    if row is None:
        row = _keep(session, signal, at, received)
        if row.incident_number is not None:  # a concurrent delivery of the same signal got there first
            return _outcome(index, row, "duplicate")
    if route.number is None:
        return _outcome(index, row, "unmatched", route.reason)
    incident = session.get(IncidentRow, route.number)
    assert incident is not None
    inserted = attach_with_thread(session, row, incident, rules, by=None)
    return _outcome(index, row, "recorded" if inserted else "duplicate")


def attach_with_thread(
    session: Session, row: SignalRow, incident: IncidentRow, rules: SignalRules, by: str | None
) -> bool:
    """`attach_row`, after the unmatched signals of the same thread since the incident's pre-incident window: an
    alert that fired before its incident had the service, whose resolution then went there, comes with it (it
    had stayed unmatched, and the resolution followed nothing)."""
    since = incident.started_at - rules.pre_incident
    query = (
        select(SignalRow)
        .where(
            SignalRow.thread == row.thread,
            SignalRow.incident_number.is_(None),
            SignalRow.id != row.id,
            SignalRow.at >= since,
        )
        .order_by(SignalRow.at, SignalRow.id)
    )
    for earlier in list(session.scalars(query)):
        attach_row(session, earlier, incident, rules, by)
    return attach_row(session, row, incident, rules, by)


def attach_row(
    session: Session, row: SignalRow, incident: IncidentRow, rules: SignalRules, by: str | None
) -> bool:
    """Put the kept signal on `incident`'s timeline; False when that source was already there."""
    context = row.at < incident.started_at - rules.pre_incident
    text = one_line(row.text) + _link(session, row, incident.number)
    if context:
        text += f" (context: started {_clock(row.at)}, before the incident)"
    event = NewEvent(
        format_id(incident.number), row.at, row.author, text, EventKind(row.kind), source=row.source
    )
    values = {**event.row(), "key": row.key, "context": context}
    event_id = insert_ignore_one(session, EventRow, values, ("incident_number", "source"))
    inserted = event_id is not None
    if event_id is None:
        query = select(EventRow.id).where(
            EventRow.incident_number == incident.number, EventRow.source == row.source
        )
        event_id = session.scalars(query).one()
    add_participants(session, [(incident.number, row.author, row.at)])
    row.incident_number, row.event_id, row.attached_by = incident.number, event_id, by
    session.flush()
    return inserted


def _keep(session: Session, signal: Signal, at: datetime, received: datetime) -> SignalRow:
    values = {
        "source": signal.source,
        "thread": signal.thread_key,
        "received_at": received,
        "at": at,
        "kind": signal.kind.value,
        "key": signal.key,
        "author": one_line(signal.author)[: _length("author")] or signal.source.split(":", 1)[0],
        "text": one_line(signal.text),
        "routing": _routing(signal),
    }
    insert_ignore_one(session, SignalRow, values, ("source",))
    row = _by_source(session, signal.source)
    assert row is not None
    return row


def _check_fits(signal: Signal) -> None:
    """`UnfitSignal` for an id the store cannot hold, which would fail the whole chunk's transaction: longer than
    its column (PostgreSQL refuses it; SQLite would keep it) or not valid Unicode (no database takes that)."""
    for column, value in (("source", signal.source), ("thread", signal.thread_key)):
        limit = _length(column)
        if len(value) > limit:
            raise UnfitSignal(f"its {column} is {len(value)} characters long, more than the {limit} kept")
        if well_formed(value) != value:
            raise UnfitSignal(f"its {column} is not valid Unicode (a lone surrogate)")


def _length(column: str) -> int:
    """The most characters the `signals` column holds."""
    length = getattr(SignalRow.__table__.c[column].type, "length", None)
    assert isinstance(length, int)
    return length


def _routing(signal: Signal) -> dict[str, str]:
    """Label -> value, the most trusted value of each label, in routing order (shown with unmatched signals)."""
    found: dict[str, str] = {}
    for label, value in signal.routing:
        # One line, as the text is; and stored text never holds a raw secret.
        found.setdefault(redact(one_line(label)), redact(one_line(value)))
    return found


def _by_source(session: Session, source: str) -> SignalRow | None:
    return session.scalars(select(SignalRow).where(SignalRow.source == source)).one_or_none()


def _link(session: Session, row: SignalRow, number: int) -> str:
    """` (follows E12)`: the first event of the same thread on this incident, if there is one.

    Looked up by thread alone (its own index: a thread is one alert, deployment or page, a few rows) and picked
    here, so the cost does not grow with the incident: with its number in the query, a database may read every
    signal of the incident instead."""
    query = select(SignalRow.id, SignalRow.incident_number, SignalRow.event_id, SignalRow.at).where(
        SignalRow.thread == row.thread
    )
    earlier = [
        (at, id_, event_id)
        for id_, incident, event_id, at in session.execute(query)
        if id_ != row.id and incident == number and event_id is not None
    ]
    return f" (follows E{min(earlier)[2]})" if earlier else ""


def _outcome(index: int, row: SignalRow, status: str, reason: str | None = None) -> Outcome:
    incident_id = format_id(row.incident_number) if row.incident_number is not None else None
    return Outcome(index, row.source, status, incident_id, row.event_id, row.id, reason)


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
