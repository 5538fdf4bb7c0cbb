"""Action items of incidents, kept with a stable idempotency key; each addition is a key event and audited."""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agent.actions.parse import ActionParseError
from agent.errors import DebriefError
from agent.identity import Roles, normalise_user
from agent.incidents import IncidentRef, add_participants, format_id, load_row
from agent.models import ActionItem, ActionKind, ActionStatus, EventKind
from agent.store import Store, add_audit
from agent.store.dedupe import insert_ignore_one
from agent.store.tables import ActionRow, EventRow, InstallationRow
from agent.timestamps import event_time

# The partial unique index on (incident, source): items added without a source never collide.
_SOURCE_KEY = ("incident_number", "source")
_HAS_SOURCE = ActionRow.source.is_not(None)


class UnknownAction(DebriefError):
    """No action item has that id."""


def idempotency_key(incident_id: str, action_id: int, installation: str) -> str:
    """Carried into the ticket (label or body marker) so filing twice finds the first ticket.

    `installation` (this database's id) keeps two Debriefs filing to one project from taking each other's
    tickets for their own. Items stored before it existed keep their `debrief-INC-n-An` key. The key is a
    valid Jira and GitHub label as it is: `debrief-3f9a2c1b7d04-INC-12-A34`.
    """
    return f"debrief-{installation}-{incident_id}-A{action_id}"


def to_action(row: ActionRow) -> ActionItem:
    return ActionItem(
        id=row.id,
        incident_id=format_id(row.incident_number),
        title=row.title,
        owner=row.owner,
        due=row.due,
        kind=ActionKind(row.kind),
        success_criteria=row.success_criteria,
        status=ActionStatus(row.status),
        refs=list(row.refs),
        idempotency_key=row.idempotency_key,
    )


def _source_query(incident_number: int, source: str | None) -> Select[ActionRow]:
    return select(ActionRow).where(ActionRow.incident_number == incident_number, ActionRow.source == source)


def _describe(action_id: int, title: str, owner: str | None, due: date | None) -> str:
    extras = [f"owner {owner}"] if owner else []
    extras += [f"due {due.isoformat()}"] if due else []
    return f"Action A{action_id}: {title}" + (f" ({', '.join(extras)})" if extras else "")


class ActionService:
    """Action items of incidents; each addition is also a key timeline event and an audit entry."""

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
        """Add an item; idempotent per `source` (the chat message): a redelivery returns the first item.

        The redelivery is found before inserting (under the incident's lock) so it burns no item id, which
        users see as A1, A2...; the insert still skips a collision on the unique index, should it ever race.
        """
        title = title.strip()
        if not title:
            raise ActionParseError("action needs a description")
        owner = normalise_user(owner or "") or None
        by, at = normalise_user(by), event_time(at)
        with self._store.write() as session:
            number = load_row(session, incident, for_update=True, roles=self._roles).number
            existing = self._by_source(session, number, source)
            if existing is not None:
                return to_action(existing)
            values = {
                "incident_number": number,
                "title": title,
                "owner": owner,
                "due": due,
                "kind": ActionKind(kind).value,
                "success_criteria": (success_criteria or "").strip() or None,
                "status": ActionStatus.PENDING.value,
                "refs": [],
                # A unique placeholder until the row has its id; replaced before the commit.
                "idempotency_key": f"pending-{uuid4().hex}",
                "created_by": by,
                "created_at": at,
                "source": source,
            }
            action_id = insert_ignore_one(session, ActionRow, values, _SOURCE_KEY, _HAS_SOURCE)
            if action_id is None:
                return to_action(session.scalars(_source_query(number, source)).one())
            public_id = format_id(number)
            row = session.get_one(ActionRow, action_id)
            installation = session.scalars(select(InstallationRow.id)).one()
            row.idempotency_key = idempotency_key(public_id, row.id, installation)
            self._record_added(session, row, public_id)
            return to_action(row)

    @staticmethod
    def _record_added(session: Session, row: ActionRow, public_id: str) -> None:
        """The new item's key timeline event, participant and audit entry."""
        by, at = row.created_by, row.created_at
        session.add(
            EventRow(
                incident_number=row.incident_number,
                at=at,
                author=by,
                text=_describe(row.id, row.title, row.owner, row.due),
                kind=EventKind.ACTION.value,
                key=True,
                source=None,
            )
        )
        add_participants(session, [(row.incident_number, by, at)])
        detail = {"action": row.id, "title": row.title, "owner": row.owner}
        add_audit(session, by, "add_action", public_id, detail)

    @staticmethod
    def _by_source(session: Session, incident_number: int, source: str | None) -> ActionRow | None:
        """The item an earlier delivery of the `source` message added, if any."""
        if source is None:
            return None
        return session.scalars(_source_query(incident_number, source)).one_or_none()

    def get(self, action_id: int) -> ActionItem:
        with self._store.read() as session:
            row = session.get(ActionRow, action_id)
            if row is None:
                raise UnknownAction(f"there is no action item A{action_id}")
            return to_action(row)

    def list(self, incident: IncidentRef | None = None) -> list[ActionItem]:
        """Action items in the order they were added; one incident's when `incident` is given."""
        query = select(ActionRow).order_by(ActionRow.id)
        with self._store.read() as session:
            if incident is not None:
                number = load_row(session, incident, roles=self._roles).number
                query = query.where(ActionRow.incident_number == number)
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
        with self._store.write() as session:
            row = self._row_for_update(session, action_id)
            previous, row.status = row.status, ActionStatus(status).value
            detail = {"action": action_id, "from": previous, "to": row.status}
            add_audit(session, by, "set_action_status", format_id(row.incident_number), detail)
            return to_action(row)

    @staticmethod
    def _row_for_update(session: Session, action_id: int) -> ActionRow:
        row = session.scalars(
            select(ActionRow).where(ActionRow.id == action_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise UnknownAction(f"there is no action item A{action_id}")
        return row
