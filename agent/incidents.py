"""Incident lifecycle: start, severity, commander, impact, cause, mitigated, resolved; one open per room.

Every change is one transaction that also checks the caller's role (`agent.identity`) and writes a key timeline
event (kind=status) and an audit row, so the timeline and the audit trail can never disagree with the incident.
Commands name their incident by id (`INC-3`) or by the room they are typed in (`InRoom`): `load_row` is the one
place that decides which incident a room's commands work on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.errors import DebriefError
from agent.identity import Lead, Permission, Roles, normalise_user
from agent.models import EventKind, Incident, IncidentStatus, PostmortemStatus, Severity
from agent.store import Store, add_audit
from agent.store.dedupe import insert_ignore
from agent.store.tables import (
    OPEN_STATUSES,
    EventRow,
    IncidentRow,
    IncidentServiceRow,
    ParticipantRow,
    PostmortemRow,
)
from agent.timestamps import event_time

_ID = re.compile(
    r"^\s*INC-(\d{1,9})\s*$", re.IGNORECASE | re.ASCII
)  # other digits (Arabic-Indic, fullwidth) are not ids
_SEVERITY = re.compile(r"^\s*(?:SEV)?\s*([1-4])\s*$", re.IGNORECASE)


class IncidentError(DebriefError):
    """A lifecycle rule was broken (a second open incident in a room, resolving twice, ...)."""


class UnknownIncident(IncidentError):
    """No incident has that id."""


class NoIncidentInRoom(IncidentError):
    """A room command needs the room's incident and the room has never had one."""


@dataclass(frozen=True)
class InRoom:
    """The incident a room's commands work on: its latest, resolved or not, until a new one starts (the review,
    the corrections and the action items go on after the resolve)."""

    room: str


@dataclass(frozen=True)
class Asked:
    """An incident named by id in a chat room: seen only there, by admins anywhere (`Roles.require_view`)."""

    incident_id: str
    room: str
    asker: str


# Which incident a command means: its id (`INC-3`, the operator's and the engine's own), one named from a chat
# room, or the room a command was typed in.
IncidentRef = str | InRoom | Asked


def format_id(number: int) -> str:
    return f"INC-{number}"


def parse_id(incident_id: str) -> int:
    """`INC-3` -> 3 (case-insensitive); `UnknownIncident` for anything that is not an incident id."""
    match = _ID.match(incident_id)
    if not match:
        raise UnknownIncident(f"{incident_id!r} is not an incident id; ids look like INC-3")
    return int(match.group(1))


def parse_severity(text: str) -> Severity:
    """`SEV2`, `sev2` or `2` -> Severity.SEV2."""
    match = _SEVERITY.match(text)
    if not match:
        raise IncidentError(f"unknown severity {text.strip()!r}; use SEV1, SEV2, SEV3 or SEV4")
    return Severity(f"SEV{match.group(1)}")


def load_row(
    session: Session, incident: IncidentRef, *, for_update: bool = False, roles: Roles | None = None
) -> IncidentRow:
    """The incident's row, locked for the transaction when `for_update`.

    `UnknownIncident` for an id nobody has; `NoIncidentInRoom` (saying how to start one) for a room without one;
    `NotVisible` for an incident named from another room by someone who is no admin (of `roles`).
    """
    if isinstance(incident, Asked):
        named = load_row(session, incident.incident_id, for_update=for_update)
        (roles or Roles()).require_view(incident.asker, incident.room, named.room, format_id(named.number))
        return named
    if isinstance(incident, InRoom):
        query = (
            select(IncidentRow)
            .where(IncidentRow.room == incident.room.strip())
            .order_by(IncidentRow.number.desc())
            .limit(1)
        )
    else:
        query = select(IncidentRow).where(IncidentRow.number == parse_id(incident))
    row = session.scalars(query.with_for_update() if for_update else query).one_or_none()
    if row is None and isinstance(incident, InRoom):
        raise NoIncidentInRoom("This room has no incident yet; start one with !incident start TITLE")
    if row is None:
        raise UnknownIncident(f"there is no incident {str(incident).strip().upper()}")
    return row


def lead_of(row: IncidentRow) -> Lead:
    return Lead(format_id(row.number), row.commander, row.started_by)


def add_participants(session: Session, entries: Iterable[tuple[int, str, datetime]]) -> None:
    """Remember who took part (first appearance wins); repeated names are ignored.

    Rows go in sorted, so concurrent writers lock the same keys in the same order and cannot deadlock.
    """
    rows: dict[tuple[int, str], datetime] = {}
    for number, name, at in entries:
        if name and ((number, name) not in rows or at < rows[(number, name)]):
            rows[(number, name)] = at
    insert_ignore(
        session,
        ParticipantRow,
        [{"incident_number": n, "name": name, "first_seen_at": at} for (n, name), at in sorted(rows.items())],
        ("incident_number", "name"),
    )


def to_incident(row: IncidentRow, participants: list[str], services: list[str]) -> Incident:
    return Incident(
        id=format_id(row.number),
        title=row.title,
        severity=Severity(row.severity) if row.severity else None,
        severity_reason=row.severity_reason,
        status=IncidentStatus(row.status),
        service=row.service,
        services=services,
        room=row.room,
        commander=row.commander,
        participants=participants,
        impact=row.impact,
        cause=row.cause,
        started_by=row.started_by,
        started_at=row.started_at,
        detected_at=row.detected_at,
        mitigated_at=row.mitigated_at,
        resolved_at=row.resolved_at,
        impact_started_at=row.impact_started_at,
        impact_ended_at=row.impact_ended_at,
        private=row.private,
        replayed=row.replayed,
    )


# Milestone -> (column, whether only the incident's lead and admins may correct it).
MILESTONES = {
    "started": ("started_at", True),
    "detected": ("detected_at", True),
    "mitigated": ("mitigated_at", True),
    "resolved": ("resolved_at", True),
    "impact-start": ("impact_started_at", False),
    "impact-end": ("impact_ended_at", False),
}
_ORDER = ("started_at", "detected_at", "mitigated_at", "resolved_at")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
RECENT_DAYS = 14
MAX_TITLE_CHARS = 200
MAX_DAYS_LATER = 7  # an `HH:MM` correction is read on the incident's day or one of the next seven
# A correction further back than this before the incident's start is a typo (1970-01-01 was taken).
MAX_YEARS_BEFORE = 1


def clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def milestone_times(text: str, started_at: datetime, now: datetime) -> list[datetime]:
    """What a corrected time can mean: `HH:MM[:SS]` on the day the incident started (UTC), then on each later
    day up to `now`'s (an incident past midnight: "resolved 00:15" is the next day's), or the one ISO-8601 time
    (UTC unless it says otherwise)."""
    match = _CLOCK.match(text)
    if match:
        hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise IncidentError(f"{text.strip()!r} is not a time of day; use HH:MM (UTC)")
        first = event_time(
            started_at.astimezone(UTC).replace(hour=hours, minute=minutes, second=seconds, microsecond=0)
        )
        days = max(0, (now.astimezone(UTC).date() - first.date()).days)
        return [first + timedelta(days=day) for day in range(min(days, MAX_DAYS_LATER) + 1)]
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IncidentError(
            f"{text.strip()!r} is not a time; use HH:MM (UTC, on the incident's day) or 2024-03-01T09:55Z"
        ) from None
    return [event_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))]


def _require_reached(row: IncidentRow, milestone: str) -> None:
    """Only a milestone the incident has reached can be corrected (`!incident resolve` reaches `resolved`)."""
    status = IncidentStatus(row.status)
    if milestone == "mitigated" and status is IncidentStatus.INVESTIGATING:
        raise IncidentError(f"{format_id(row.number)} is not mitigated yet; mark it with !incident mitigated")
    if milestone == "resolved" and status in (IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED):
        raise IncidentError(f"{format_id(row.number)} is not resolved yet; resolve it with !incident resolve")


def _first_in_order(row: IncidentRow, column: str, candidates: list[datetime]) -> datetime:
    """Set `column` to the first candidate that keeps the milestones in order, and return it; else the first
    candidate's `IncidentError`, with the row as it was."""
    previous = getattr(row, column)
    refusal: IncidentError | None = None
    for when in candidates:
        setattr(row, column, when)
        try:
            _check_order(row)
        except IncidentError as exc:
            refusal = refusal or exc
            continue
        return when
    setattr(row, column, previous)
    assert refusal is not None
    raise refusal


def _check_order(row: IncidentRow) -> None:
    """Started <= detected <= mitigated <= resolved, and the impact window's start before its end."""
    reached = [(name, getattr(row, name)) for name in _ORDER if getattr(row, name) is not None]
    for (earlier, first), (later, second) in itertools.pairwise(reached):
        if second < first:
            raise IncidentError(
                f"{_label(later)} ({clock(second)}) cannot be before {_label(earlier)} ({clock(first)})"
            )
    if row.impact_started_at and row.impact_ended_at and row.impact_ended_at < row.impact_started_at:
        raise IncidentError(
            f"the impact cannot end ({clock(row.impact_ended_at)}) before it started ({clock(row.impact_started_at)})"
        )


def _label(column: str) -> str:
    return column.removesuffix("_at")


def service_names(names: Iterable[str]) -> list[str]:
    """Service names as given (`a,b` split), trimmed, without blanks or repeats (case-insensitive)."""
    found: list[str] = []
    for name in (part.strip() for text in names for part in text.split(",")):
        if name and name.lower() not in (f.lower() for f in found):
            found.append(name)
    return found


def _services_of(session: Session, row: IncidentRow) -> list[str]:
    return _services_by_number(session, [row])[row.number]


def _services_by_number(session: Session, rows: list[IncidentRow]) -> dict[int, list[str]]:
    """Each incident's services, its first service first, the others by name."""
    names: dict[int, list[str]] = {row.number: [] for row in rows}
    query = (
        select(IncidentServiceRow.incident_number, IncidentServiceRow.name)
        .where(IncidentServiceRow.incident_number.in_(names))
        .order_by(IncidentServiceRow.name)
    )
    for number, name in session.execute(query):
        names[number].append(name)
    found: dict[int, list[str]] = {}
    for row in rows:
        first = [row.service] if row.service in names[row.number] else []
        found[row.number] = first + [name for name in names[row.number] if name != row.service]
    return found


def _not_before_start(row: IncidentRow, at: datetime, what: str) -> None:
    if event_time(at) < row.started_at:
        started = row.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        raise IncidentError(f"{format_id(row.number)} cannot be {what} before it started ({started})")


def _required(text: str | None, what: str) -> str:
    value = (text or "").strip()
    if not value:
        raise IncidentError(f"{what} cannot be empty")
    return value


def _title(text: str) -> str:
    """A title is a line: it heads every status card, list and postmortem (a 100,000-letter one filled each)."""
    title = _required(text, "the incident title")
    if len(title) > MAX_TITLE_CHARS:
        raise IncidentError(
            f"the incident title has {len(title):,} characters, at most {MAX_TITLE_CHARS} fit: "
            "say the rest in a note"
        )
    return title


class IncidentService:
    """The incident lifecycle over a `Store`."""

    def __init__(self, store: Store, roles: Roles | None = None) -> None:
        self._store = store
        self.roles = roles or Roles()

    def start(
        self,
        room: str,
        title: str,
        by: str,
        at: datetime,
        severity: Severity | None = None,
        service: str | None = None,
        detected_at: datetime | None = None,
        services: Sequence[str] = (),
    ) -> Incident:
        """Open `INC-<n>` in `room`; `IncidentError` if the room already has an open incident.

        `service` and `services` name what it is about (the first is its `service`); alerts and deploys for any
        of them go on its timeline (`agent.signals.routing`)."""
        names = service_names([service or "", *services])
        room, title, by, at = (
            _required(room, "the room"),
            _title(title),
            normalise_user(by),
            event_time(at),
        )
        try:
            with self._store.write() as session:
                self._refuse_second_open(session, room)
                row = IncidentRow(
                    title=title,
                    room=room,
                    status=IncidentStatus.INVESTIGATING.value,
                    severity=Severity(severity).value if severity else None,
                    service=names[0] if names else None,
                    started_by=by,
                    started_at=at,
                    detected_at=event_time(detected_at) if detected_at else at,
                )
                session.add(row)
                session.flush()
                session.add_all(IncidentServiceRow(incident_number=row.number, name=name) for name in names)
                sev = f" ({row.severity})" if row.severity else ""
                detail: dict[str, Any] = {"room": room, **({"services": names} if names else {})}
                self._log(session, row, by, at, "start", f"Incident started{sev}: {title}", detail)
        except IntegrityError:
            # Another start for the same room won the race between our check and our insert.
            with self._store.read() as session:
                self._refuse_second_open(session, room)
            raise
        return self.get(format_id(row.number))

    def get(self, incident: IncidentRef) -> Incident:
        """The incident by id, or a room's latest (`NoIncidentInRoom` says how to start one)."""
        with self._store.read() as session:
            return self._incidents(session, [load_row(session, incident, roles=self.roles)])[0]

    def latest_in_room(self, room: str) -> Incident | None:
        """The room's latest incident, resolved or not, if it ever had one."""
        try:
            return self.get(InRoom(room))
        except NoIncidentInRoom:
            return None

    def open_in_room(self, room: str) -> Incident | None:
        found = self._open(IncidentRow.room == room.strip())
        return found[0] if found else None

    def open_by_room(self, rooms: Iterable[str]) -> dict[str, str]:
        """Room -> its open incident's id, for the rooms that have one: where a room's chat lines belong."""
        wanted = {room.strip() for room in rooms}
        query = select(IncidentRow.room, IncidentRow.number).where(
            IncidentRow.status.in_(OPEN_STATUSES), IncidentRow.room.in_(wanted)
        )
        with self._store.read() as session:
            return {room: format_id(number) for room, number in session.execute(query)}

    def list_open(self) -> list[Incident]:
        """Open incidents (investigating or mitigated), oldest first."""
        return self._open()

    def add_service(self, incident: IncidentRef, name: str, by: str, at: datetime) -> list[str]:
        """Add a service (anyone who sees the incident may): its alerts and deploys come here from now on."""
        names = service_names([name])
        if len(names) != 1:
            raise IncidentError("name one service, e.g. !incident service add checkout-api")
        service = names[0]
        with self._store.write() as session:
            row = load_row(session, incident, for_update=True, roles=self.roles)
            known = _services_of(session, row)
            same = next((s for s in known if s.lower() == service.lower()), None)
            if same is not None:
                raise IncidentError(f"{format_id(row.number)} already has the service {same}")
            session.add(IncidentServiceRow(incident_number=row.number, name=service))
            row.service = row.service or service
            self._log(session, row, by, at, "add_service", f"Service added: {service}", {"service": service})
            session.flush()
            return _services_of(session, row)  # in the order every other reply lists them

    def remove_service(self, incident: IncidentRef, name: str, by: str, at: datetime) -> list[str]:
        """Remove a service named by mistake; its alerts stop coming here."""
        with self._store.write() as session:
            row = load_row(session, incident, for_update=True, roles=self.roles)
            known = _services_of(session, row)
            found = next((s for s in known if s.lower() == name.strip().lower()), None)
            if found is None:
                raise IncidentError(f"{format_id(row.number)} has no service {name.strip()!r}")
            session.delete(session.get_one(IncidentServiceRow, (row.number, found)))
            rest = [s for s in known if s != found]
            if row.service == found:
                row.service = rest[0] if rest else None
            self._log(session, row, by, at, "remove_service", f"Service removed: {found}", {"service": found})
            return rest

    def set_severity(
        self, incident: IncidentRef, severity: Severity, reason: str | None, by: str, at: datetime
    ) -> Incident:
        reason = (reason or "").strip() or None
        with self._store.write() as session:
            row = self._row(session, incident)
            if reason is None and not self.roles.may(by, Permission.LEAD_INCIDENT, lead_of(row)):
                raise IncidentError(
                    f"say why: !incident sev {severity.value} REASON (only the lead of {format_id(row.number)} "
                    "and admins may leave the reason out)"
                )
            previous = row.severity
            row.severity, row.severity_reason = severity.value, reason
            text = (
                f"Severity {previous} -> {severity.value}"
                if previous
                else f"Severity set to {severity.value}"
            )
            text += f": {reason}" if reason else ""
            self._log(session, row, by, at, "set_severity", text, {"from": previous, "to": severity.value})
        return self.get(format_id(row.number))

    def set_commander(self, incident: IncidentRef, commander: str, by: str, at: datetime) -> Incident:
        commander = _required(normalise_user(commander), "the commander")
        with self._store.write() as session:
            row = self._changeable(session, incident, by)
            previous, row.commander = row.commander, commander
            add_participants(session, [(row.number, commander, event_time(at))])
            text = f"Commander: {commander}" + (f" (was {previous})" if previous else "")
            self._log(session, row, by, at, "set_commander", text, {"from": previous, "to": commander})
        return self.get(format_id(row.number))

    def set_impact(self, incident: IncidentRef, text: str, by: str, at: datetime) -> Incident:
        impact = _required(text, "the impact")
        with self._store.write() as session:
            row = self._row(session, incident)
            row.impact = impact
            self._log(session, row, by, at, "set_impact", f"Impact: {impact}", {"impact": impact})
        return self.get(format_id(row.number))

    def set_cause(self, incident: IncidentRef, text: str, by: str, at: datetime) -> Incident:
        cause = _required(text, "the cause")
        with self._store.write() as session:
            row = self._row(session, incident)
            row.cause = cause
            self._log(session, row, by, at, "set_cause", f"Cause: {cause}", {"cause": cause})
        return self.get(format_id(row.number))

    def set_private(self, incident: IncidentRef, private: bool, by: str, at: datetime) -> Incident:
        """Keep the incident out of the knowledge base and away from the LLM (or let it back in)."""
        with self._store.write() as session:
            row = self._changeable(session, incident, by)
            published = session.get(PostmortemRow, row.number)
            if private and published is not None and published.status == PostmortemStatus.PUBLISHED.value:
                raise IncidentError(
                    f"{format_id(row.number)}'s postmortem is already in the knowledge base; an admin reopens "
                    "it (!postmortem reopen) and removes the published file first"
                )
            if row.private != private:
                row.private = private
                text = (
                    "Marked private: kept out of the knowledge base and away from the LLM"
                    if private
                    else "No longer private"
                )
                self._log(session, row, by, at, "set_private", text, {"private": private})
        return self.get(format_id(row.number))

    def correct(
        self, incident: IncidentRef, milestone: str, time_text: str, by: str, at: datetime, reason: str = ""
    ) -> Incident:
        """Set a milestone's time after the fact (`HH:MM` on the incident's day, UTC, or ISO-8601).

        The status milestones (started, detected, mitigated, resolved) are the lead's to correct, the customer-
        impact window anyone's; they stay in order and in the past, and the timeline and the audit trail say
        what changed, from what, and why.
        """
        if milestone not in MILESTONES:
            raise IncidentError(f"unknown milestone {milestone!r}; use {', '.join(MILESTONES)}")
        column, needs_lead = MILESTONES[milestone]
        with self._store.write() as session:
            row = self._changeable(session, incident, by) if needs_lead else self._row(session, incident)
            now = event_time(at)
            candidates = milestone_times(time_text, row.started_at, now)
            _require_reached(row, milestone)
            earliest = row.started_at - timedelta(days=365 * MAX_YEARS_BEFORE)
            if candidates[0] < earliest:
                raise IncidentError(
                    f"{milestone} ({clock(candidates[0])}) is more than a year before "
                    f"{format_id(row.number)} started ({clock(row.started_at)}); check the date"
                )
            if candidates[0] > now:
                raise IncidentError(f"{milestone} cannot be in the future ({clock(candidates[0])})")
            previous: datetime | None = getattr(row, column)
            when = _first_in_order(row, column, [c for c in candidates if c <= now])
            text = f"Corrected {milestone}: " + (f"{clock(previous)} -> " if previous else "") + clock(when)
            text += f" ({reason.strip()})" if reason.strip() else ""
            detail = {
                "milestone": milestone,
                "from": previous.isoformat() if previous else None,
                "to": when.isoformat(),
                "reason": reason.strip(),
            }
            self._log(session, row, by, at, "correct", text, detail)
        return self.get(format_id(row.number))

    def list_recent(
        self,
        include_all: bool = False,
        asked_in: InRoom | None = None,
        asker: str = "",
        days: int = RECENT_DAYS,
        now: datetime | None = None,
    ) -> list[Incident]:
        """Open incidents and those that started in the last `days` (or every one), newest first.

        Asked in a chat room, a private incident is listed only in its own room or to an admin.
        """
        query = select(IncidentRow).order_by(IncidentRow.number.desc())
        if not include_all:
            since = (now or datetime.now(UTC)) - timedelta(days=days)
            query = query.where(or_(IncidentRow.status.in_(OPEN_STATUSES), IncidentRow.started_at >= since))
        with self._store.read() as session:
            rows = list(session.scalars(query))
            if asked_in is not None and not self.roles.is_admin(asker):
                rows = [row for row in rows if not row.private or row.room == asked_in.room.strip()]
            return self._incidents(session, rows)

    def mark_replayed(self, numbers_after: int) -> list[str]:
        """Incidents numbered above `numbers_after` came from a replay: drills, never reminded of anything."""
        with self._store.write() as session:
            rows = list(session.scalars(select(IncidentRow).where(IncidentRow.number > numbers_after)))
            for row in rows:
                row.replayed = True
            return [format_id(row.number) for row in rows]

    def newest_number(self) -> int:
        with self._store.read() as session:
            return int(session.execute(select(func.max(IncidentRow.number))).scalar() or 0)

    def mitigate(self, incident: IncidentRef, by: str, at: datetime) -> Incident:
        """investigating -> mitigated: the impact has stopped, the fix may still be pending."""
        with self._store.write() as session:
            row = self._changeable(session, incident, by)
            if row.status != IncidentStatus.INVESTIGATING.value:
                raise IncidentError(f"{format_id(row.number)} is already {row.status}")
            _not_before_start(row, at, "mitigated")
            row.status, row.mitigated_at = IncidentStatus.MITIGATED.value, event_time(at)
            self._log(session, row, by, at, "mitigate", "Mitigated", {})
        return self.get(format_id(row.number))

    def resolve(self, incident: IncidentRef, by: str, at: datetime, text: str | None = None) -> Incident:
        """Free the room; an incident resolved without `mitigate` counts as mitigated at the same time."""
        note = (text or "").strip()
        with self._store.write() as session:
            row = self._changeable(session, incident, by)
            if row.status not in OPEN_STATUSES:
                raise IncidentError(f"{format_id(row.number)} is already {row.status}")
            _not_before_start(row, at, "resolved")
            row.status, row.resolved_at = IncidentStatus.RESOLVED.value, event_time(at)
            row.mitigated_at = row.mitigated_at or row.resolved_at
            self._log(
                session, row, by, at, "resolve", f"Resolved: {note}" if note else "Resolved", {"text": note}
            )
        return self.get(format_id(row.number))

    def require(self, incident: IncidentRef, user: str, permission: Permission) -> Incident:
        """The incident, once `user` is allowed `permission` on it (else `NotAllowed` says who is)."""
        found = self.get(incident)
        self.roles.require(user, permission, Lead(found.id, found.commander, found.started_by))
        return found

    def _row(self, session: Session, incident: IncidentRef) -> IncidentRow:
        """The incident's row, locked for a change anyone in its room may make."""
        return load_row(session, incident, for_update=True, roles=self.roles)

    def _changeable(self, session: Session, incident: IncidentRef, by: str) -> IncidentRow:
        """The incident's row, locked, once `by` may lead it (the commander, or whoever started it, or an admin)."""
        row = self._row(session, incident)
        self.roles.require(by, Permission.LEAD_INCIDENT, lead_of(row))
        return row

    def _refuse_second_open(self, session: Session, room: str) -> None:
        query = select(IncidentRow.number).where(
            IncidentRow.room == room, IncidentRow.status.in_(OPEN_STATUSES)
        )
        existing = session.scalars(query).first()
        if existing is not None:
            raise IncidentError(f"room {room} already has open incident {format_id(existing)}")

    def _open(self, *where: Any) -> list[Incident]:
        query = select(IncidentRow).where(IncidentRow.status.in_(OPEN_STATUSES), *where)
        with self._store.read() as session:
            return self._incidents(session, list(session.scalars(query.order_by(IncidentRow.number))))

    def _incidents(self, session: Session, rows: list[IncidentRow]) -> list[Incident]:
        participants = self._participants(session, [row.number for row in rows])
        services = _services_by_number(session, rows)
        return [to_incident(row, participants[row.number], services[row.number]) for row in rows]

    @staticmethod
    def _participants(session: Session, numbers: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {number: [] for number in numbers}
        query = (
            select(ParticipantRow.incident_number, ParticipantRow.name)
            .where(ParticipantRow.incident_number.in_(numbers))
            .order_by(ParticipantRow.first_seen_at, ParticipantRow.name)
        )
        for number, name in session.execute(query):
            found[number].append(name)
        return found

    @staticmethod
    def _log(
        session: Session,
        row: IncidentRow,
        by: str,
        at: datetime,
        action: str,
        text: str,
        detail: dict[str, Any],
    ) -> None:
        """The key status event and the audit entry for one change, in the change's own transaction."""
        by, at = normalise_user(by), event_time(at)
        session.add(
            EventRow(
                incident_number=row.number,
                at=at,
                author=by,
                text=text,
                kind=EventKind.STATUS.value,
                key=True,
                source=None,
            )
        )
        add_participants(session, [(row.number, by, at)])
        add_audit(session, by, action, format_id(row.number), detail)
