"""Reminders for incidents that lack a commander or a severity, or have gone quiet: each one sent once.

`due_nudges` both decides and records: a nudge is returned only by the call that inserted its row in
`nudges_sent`, so restarts and concurrent pollers never repeat it. A quiet-incident nudge is keyed by the
time of the last key event, so a new quiet stretch (after new key events) earns one new reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from agent.incidents import format_id
from agent.store.dedupe import insert_ignore_one
from agent.store.tables import OPEN_STATUSES, EventRow, IncidentRow, NudgeSentRow
from agent.timestamps import as_utc

if TYPE_CHECKING:
    from agent.engine import Engine


@dataclass(frozen=True)
class NudgeThresholds:
    """How long an open incident may lack something before its room is reminded."""

    no_commander_after: timedelta = timedelta(minutes=10)
    no_severity_after: timedelta = timedelta(minutes=10)
    quiet_after: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class Nudge:
    room: str
    incident_id: str
    text: str


@dataclass(frozen=True)
class _Candidate:
    number: int
    key: str
    nudge: Nudge


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _candidates(
    row: IncidentRow, last_key_at: datetime, now: datetime, limits: NudgeThresholds
) -> list[_Candidate]:
    public_id, room, age = format_id(row.number), row.room, now - row.started_at
    found: list[_Candidate] = []
    if row.commander is None and age >= limits.no_commander_after:
        text = (
            f"{public_id} has had no commander for {_minutes(age)} minutes. "
            "Whoever leads it: `!incident commander @you`."
        )
        found.append(_Candidate(row.number, "no_commander", Nudge(room, public_id, text)))
    if row.severity is None and age >= limits.no_severity_after:
        text = f"{public_id} has no severity yet. Set one with `!incident sev SEVn [reason]`."
        found.append(_Candidate(row.number, "no_severity", Nudge(room, public_id, text)))
    quiet = now - last_key_at
    if quiet >= limits.quiet_after:
        text = (
            f"{public_id}: nothing key recorded for {_minutes(quiet)} minutes. Add a status note with "
            "`!note TEXT`, or `!incident mitigated` / `!incident resolve` if it is over."
        )
        found.append(_Candidate(row.number, f"quiet:{last_key_at.isoformat()}", Nudge(room, public_id, text)))
    return found


def due_nudges(engine: Engine, now: datetime, thresholds: NudgeThresholds | None = None) -> list[Nudge]:
    """The reminders to post now, each recorded as sent so that no later call returns it again."""
    now, limits = as_utc(now), thresholds or NudgeThresholds()
    last_key = (
        select(EventRow.incident_number, func.max(EventRow.at).label("last_at"))
        .where(EventRow.key.is_(True))
        .group_by(EventRow.incident_number)
        .subquery()
    )
    query = (
        select(IncidentRow, last_key.c.last_at)
        .outerjoin(last_key, last_key.c.incident_number == IncidentRow.number)
        .where(IncidentRow.status.in_(OPEN_STATUSES), IncidentRow.replayed.is_(False))
        .order_by(IncidentRow.number)
    )
    due: list[Nudge] = []
    with engine.store.write() as session:
        for row, last_at in session.execute(query):
            last_key_at = max(row.started_at, as_utc(last_at)) if last_at else row.started_at
            for candidate in _candidates(row, last_key_at, now, limits):
                sent = {"incident_number": candidate.number, "nudge": candidate.key, "sent_at": now}
                if insert_ignore_one(session, NudgeSentRow, sent, ("incident_number", "nudge")) is not None:
                    due.append(candidate.nudge)
    return due
