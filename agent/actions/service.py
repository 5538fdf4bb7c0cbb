"""Action items of incidents: added, edited, done or dropped by anyone in the incident's room.

Each item has the database's `id` and a `number` in its incident: people see and type `A2` (in the incident's
room) or `INC-3/A2` (anywhere). An addition is a key timeline event; every change is audited with who made it
and why. The quality gate (`agent.actions.gate.check`) runs on every addition and edit: an item that fails is
kept, as `needs_revision`, and the caller is told what is missing. Each change people make raises the item's
`revision`; its filed tickets follow it (agent/filing/updates.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from agent.actions.gate import check
from agent.actions.parse import ActionParseError
from agent.errors import DebriefError
from agent.identity import Roles, normalise_user
from agent.incidents import IncidentRef, add_participants, format_id, load_row
from agent.models import OPEN_ACTION_STATUSES, ActionItem, ActionKind, ActionStatus, EventKind
from agent.store import Store, add_audit
from agent.store.dedupe import insert_ignore_one
from agent.store.tables import ActionRow, EventRow, IncidentRow, InstallationRow, OutboxRow
from agent.timestamps import event_time

# The partial unique index on (incident, source): items added without a source never collide.
_SOURCE_KEY = ("incident_number", "source")
_HAS_SOURCE = ActionRow.source.is_not(None)
_GATED = (ActionStatus.PENDING.value, ActionStatus.NEEDS_REVISION.value)


class UnknownAction(DebriefError):
    """No action item has that id."""


class ActionError(DebriefError):
    """A change the item's status does not allow (editing a done item, dropping one twice)."""


def _words_of(title: str) -> list[str]:
    return title.casefold().split()


def idempotency_key(incident_id: str, number: int, installation: str) -> str:
    """Carried into the ticket (label and body marker) so filing twice finds the first ticket.

    `installation` (this database's id) keeps two Debriefs filing to one project from taking each other's
    tickets for their own. The key names the item as people do, `INC-12.A3` for INC-12's third item, and is a
    valid Jira and GitHub label as it is: `debrief-3f9a2c1b7d04-INC-12.A3`. Keys are written once and never
    change: items stored before items were numbered per incident keep `debrief-[installation-]INC-n-A<id>`
    (their database id), and the dot keeps the two forms from ever naming the same ticket.
    """
    return f"debrief-{installation}-{incident_id}.A{number}"


def to_action(row: ActionRow) -> ActionItem:
    return ActionItem(
        id=row.id,
        incident_id=format_id(row.incident_number),
        number=row.number,
        title=row.title,
        owner=row.owner,
        due=row.due,
        kind=ActionKind(row.kind),
        success_criteria=row.success_criteria,
        status=ActionStatus(row.status),
        refs=list(row.refs),
        idempotency_key=row.idempotency_key,
        drop_reason=row.drop_reason,
        revision=row.revision,
    )


@dataclass(frozen=True)
class ActionChange:
    """What an edit, `done` or `drop` did: the item afterwards, each changed field as (before, after), and
    what the quality gate still finds missing (after an edit)."""

    item: ActionItem
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _source_query(incident_number: int, source: str | None) -> Select[ActionRow]:
    return select(ActionRow).where(ActionRow.incident_number == incident_number, ActionRow.source == source)


def _describe(number: int, title: str, owner: str | None, due: date | None) -> str:
    extras = [f"owner {owner}"] if owner else []
    extras += [f"due {due.isoformat()}"] if due else []
    return f"Action A{number}: {title}" + (f" ({', '.join(extras)})" if extras else "")


def _shown(value: str | date | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class ActionService:
    """Action items of incidents; each addition is also a key timeline event, every change an audit entry."""

    def __init__(self, store: Store, roles: Roles | None = None) -> None:
        self._store = store
        self._roles = roles or Roles()

    def add(
        self,
        incident: IncidentRef,
        title: str,
        owner: str | None,
        due: date | None,
        by: str,
        at: datetime,
        kind: ActionKind = ActionKind.PREVENT,
        success_criteria: str | None = None,
        source: str | None = None,
    ) -> ActionItem:
        """Add an item, `needs_revision` when the gate finds something missing (a due date before `at`'s day
        included); idempotent per `source` (the chat message): a redelivery returns the first item.

        The redelivery is found before inserting (under the incident's lock) so it takes no number; the insert
        still skips a collision on the unique index, should it ever race.
        """
        title = title.strip()
        if not title:
            raise ActionParseError("action needs a description")
        owner = normalise_user(owner or "") or None
        by, at = normalise_user(by), event_time(at)
        with self._store.write() as session:
            incident_number = load_row(session, incident, for_update=True, roles=self._roles).number
            existing = self._by_source(session, incident_number, source)
            if existing is not None:
                return to_action(existing)
            same = self._open_with_title(session, incident_number, title)
            if same is not None:
                ref = to_action(same).ref
                raise ActionError(f"Not added: {ref} already says that; change it with !action edit {ref}")
            public_id = format_id(incident_number)
            number = self._next_number(session, incident_number)
            installation = session.scalars(select(InstallationRow.id)).one()
            values: dict[str, Any] = {
                "incident_number": incident_number,
                "number": number,
                "title": title,
                "owner": owner,
                "due": due,
                "kind": ActionKind(kind).value,
                "success_criteria": (success_criteria or "").strip() or None,
                "refs": [],
                "idempotency_key": idempotency_key(public_id, number, installation),
                "created_by": by,
                "created_at": at,
                "source": source,
                "revision": 0,
            }
            problems = check(ActionItem(id=0, incident_id=public_id, **values), at.date())
            values["status"] = (ActionStatus.NEEDS_REVISION if problems else ActionStatus.PENDING).value
            action_id = insert_ignore_one(session, ActionRow, values, _SOURCE_KEY, _HAS_SOURCE)
            if action_id is None:
                return to_action(session.scalars(_source_query(incident_number, source)).one())
            row = session.get_one(ActionRow, action_id)
            self._record_added(session, row, public_id, problems)
            return to_action(row)

    def edit(
        self,
        incident: IncidentRef,
        number: int,
        *,
        title: str | None = None,
        owner: str | None = None,
        due: date | None = None,
        by: str,
        at: datetime,
    ) -> ActionChange:
        """Change what is given (None: kept), then run the gate: an item not filed yet becomes pending or
        needs_revision by its verdict. Done and dropped items are not edited. Nothing differs: nothing changes."""
        by, at = normalise_user(by), event_time(at)
        wanted: dict[str, str | date | None] = {
            "title": (title or "").strip() or None,
            "owner": normalise_user(owner or "") or None,
            "due": due,
        }
        with self._store.write() as session:
            row = self._numbered(session, incident, number, for_update=True)
            self._require_open(row, "edited")
            changes: dict[str, tuple[str | None, str | None]] = {}
            for name, value in wanted.items():
                if value is not None and value != getattr(row, name):
                    changes[name] = (_shown(getattr(row, name)), _shown(value))
                    setattr(row, name, value)
            if not changes:
                return ActionChange(to_action(row), {}, check(to_action(row), at.date()))
            self._raise_revision(session, row)
            session.flush()
            session.refresh(row)  # the title as stored (redacted)
            problems = check(to_action(row), at.date())
            if row.status in _GATED:
                row.status = (ActionStatus.NEEDS_REVISION if problems else ActionStatus.PENDING).value
            detail = {"action": row.id, "ref": f"A{row.number}", "changes": changes, "problems": problems}
            add_audit(session, by, "edit_action", format_id(row.incident_number), detail)
            return ActionChange(to_action(row), changes, problems)

    def done(self, incident: IncidentRef, number: int, by: str) -> ActionChange:
        """Mark the item done (its tickets are closed as completed); audited."""
        return self._close(incident, number, ActionStatus.DONE, None, normalise_user(by))

    def drop(self, incident: IncidentRef, number: int, reason: str, by: str) -> ActionChange:
        """Close the item without doing it, saying why (its tickets are closed as not planned); audited."""
        reason = reason.strip()
        if not reason:
            raise ActionParseError("say why the item is dropped")
        return self._close(incident, number, ActionStatus.DROPPED, reason, normalise_user(by))

    def _close(
        self, incident: IncidentRef, number: int, status: ActionStatus, reason: str | None, by: str
    ) -> ActionChange:
        done = status is ActionStatus.DONE
        with self._store.write() as session:
            row = self._numbered(session, incident, number, for_update=True)
            self._require_open(row, "marked done" if done else "dropped")
            previous = row.status
            row.status, row.drop_reason = status.value, reason
            self._raise_revision(session, row)
            detail = {"action": row.id, "ref": f"A{row.number}", "from": previous, "to": row.status}
            if reason is not None:
                detail["reason"] = reason
            action = "complete_action" if done else "drop_action"
            add_audit(session, by, action, format_id(row.incident_number), detail)
            session.flush()
            session.refresh(row)
            return ActionChange(to_action(row), {"status": (previous, row.status)})

    def get(self, action_id: int) -> ActionItem:
        """By database id (the engine's own reference, e.g. from the filing outbox)."""
        with self._store.read() as session:
            row = session.get(ActionRow, action_id)
            if row is None:
                raise UnknownAction(f"there is no action item with database id {action_id}")
            return to_action(row)

    def find(self, incident: IncidentRef, number: int) -> ActionItem:
        """The incident's item `A<number>`; `UnknownAction` when it has none."""
        with self._store.read() as session:
            return to_action(self._numbered(session, incident, number))

    def overdue(self, today: date, *, asker: str, room: str | None = None) -> list[ActionItem]:
        """Open items whose due date is before `today`, oldest due first: every incident's for admins and the
        operator, else only those of incidents whose room is `room`."""
        open_statuses = [status.value for status in OPEN_ACTION_STATUSES]
        query = (
            select(ActionRow)
            .join(IncidentRow, IncidentRow.number == ActionRow.incident_number)
            .where(ActionRow.status.in_(open_statuses), ActionRow.due < today)
            .order_by(ActionRow.due, ActionRow.id)
        )
        if not self._roles.is_admin(asker):
            query = query.where(IncidentRow.room == (room or "").strip())
        with self._store.read() as session:
            return [to_action(row) for row in session.scalars(query)]

    def add_ref(self, action_id: int, ref: str, by: str) -> ActionItem:
        """Attach a tracker ref (`jira:OPS-12`, `github:acme/ops#7`) and mark the item filed; idempotent."""
        ref = ref.strip()
        if not ref:
            raise ActionParseError("a tracker ref cannot be empty")
        with self._store.write() as session:
            row = self._row_for_update(session, action_id)
            if ref not in row.refs:
                row.refs = [*row.refs, ref]
                row.status = ActionStatus.FILED.value
                add_audit(
                    session,
                    by,
                    "file_action",
                    format_id(row.incident_number),
                    {"action": action_id, "ref": ref},
                )
            return to_action(row)

    def set_status(self, action_id: int, status: ActionStatus, by: str) -> ActionItem:
        """A status the engine decides (the gate's verdict, the tickets' status); not a change people make."""
        with self._store.write() as session:
            row = self._row_for_update(session, action_id)
            previous, row.status = row.status, ActionStatus(status).value
            detail = {"action": action_id, "from": previous, "to": row.status}
            add_audit(session, by, "set_action_status", format_id(row.incident_number), detail)
            return to_action(row)

    # -- internals -----------------------------------------------------------------------------
    @staticmethod
    def _record_added(session: Session, row: ActionRow, public_id: str, problems: list[str]) -> None:
        """The new item's key timeline event, participant and audit entry."""
        by, at = row.created_by, row.created_at
        session.add(
            EventRow(
                incident_number=row.incident_number,
                at=at,
                author=by,
                text=_describe(row.number, row.title, row.owner, row.due),
                kind=EventKind.ACTION.value,
                key=True,
                source=None,
            )
        )
        add_participants(session, [(row.incident_number, by, at)])
        detail: dict[str, Any] = {
            "action": row.id,
            "ref": f"A{row.number}",
            "title": row.title,
            "owner": row.owner,
        }
        if problems:
            detail["problems"] = problems
        add_audit(session, by, "add_action", public_id, detail)

    @staticmethod
    def _raise_revision(session: Session, row: ActionRow) -> None:
        """A change people made: the item's tickets are now behind it, and an earlier update's error is moot
        (the next run, automatic or not, tries at once)."""
        row.revision += 1
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.action_id == row.id)
            .values(last_error=None, next_attempt_at=None)
            .where(OutboxRow.state == "filed")
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def _next_number(session: Session, incident_number: int) -> int:
        """The incident's next item number; the caller holds the incident's lock."""
        query = select(func.max(ActionRow.number)).where(ActionRow.incident_number == incident_number)
        return int(session.scalar(query) or 0) + 1

    @staticmethod
    def _by_source(session: Session, incident_number: int, source: str | None) -> ActionRow | None:
        """The item an earlier delivery of the `source` message added, if any."""
        if source is None:
            return None
        return session.scalars(_source_query(incident_number, source)).one_or_none()

    @staticmethod
    def _open_with_title(session: Session, incident_number: int, title: str) -> ActionRow | None:
        """An open item of the incident with the same words (case and spacing aside): the same item typed twice
        at 3 a.m. would otherwise be two items and two tickets."""
        wanted = _words_of(title)
        rows = session.scalars(
            select(ActionRow).where(
                ActionRow.incident_number == incident_number,
                ActionRow.status.in_([status.value for status in OPEN_ACTION_STATUSES]),
            )
        )
        return next((row for row in rows if _words_of(row.title) == wanted), None)

    def _numbered(
        self, session: Session, incident: IncidentRef, number: int, *, for_update: bool = False
    ) -> ActionRow:
        """The incident's item `A<number>` (the incident's row and the item's locked when `for_update`)."""
        incident_number = load_row(session, incident, for_update=for_update, roles=self._roles).number
        query = select(ActionRow).where(
            ActionRow.incident_number == incident_number, ActionRow.number == number
        )
        row = session.scalars(query.with_for_update() if for_update else query).one_or_none()
        if row is None:
            raise UnknownAction(f"{format_id(incident_number)} has no action item A{number}")
        return row

    @staticmethod
    def _require_open(row: ActionRow, what: str) -> None:
        ref = f"{format_id(row.incident_number)}/A{row.number}"
        if row.status == ActionStatus.DONE.value:
            raise ActionError(f"{ref} is already done, so it cannot be {what}")
        if row.status == ActionStatus.DROPPED.value:
            raise ActionError(f"{ref} was dropped ({row.drop_reason}), so it cannot be {what}")

    @staticmethod
    def _row_for_update(session: Session, action_id: int) -> ActionRow:
        row = session.scalars(
            select(ActionRow).where(ActionRow.id == action_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise UnknownAction(f"there is no action item with database id {action_id}")
        return row

    # Last: below it, `list` in the class body would name this method, not the builtin.
    def list(self, incident: IncidentRef | None = None) -> list[ActionItem]:
        """Action items in the order they were added; one incident's when `incident` is given."""
        query = select(ActionRow).order_by(ActionRow.id)
        with self._store.read() as session:
            if incident is not None:
                number = load_row(session, incident, roles=self._roles).number
                query = query.where(ActionRow.incident_number == number)
            return [to_action(row) for row in session.scalars(query)]
