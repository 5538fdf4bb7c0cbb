"""Chat messages changed after they were captured: an edit replaces the event's text, a deletion hides the event.

Both keep what was there in the append-only audit trail (redacted, as everything stored is), so a postmortem
shows what people finally said while the record of what they first said is never lost. Only chat lines and notes
follow their message; alerts, deploys and status events are not chat and never change this way. A platform
that delivers the change again changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from agent.engine import Engine
from agent.identity import normalise_user
from agent.incidents import format_id
from agent.models import EventKind
from agent.store import add_audit
from agent.store.tables import EventRow
from agent.timestamps import as_utc

FOLLOWS_CHAT = (EventKind.MESSAGE.value, EventKind.NOTE.value)


@dataclass(frozen=True)
class ChatChange:
    """What a backend saw: the message `source` edited to `text`, or deleted, by `by` at `at`.

    `ack` is the platform acknowledgement to hold until the change is committed (`backends/acknowledgement.py`).
    """

    action: Literal["edit", "delete"]
    source: str
    by: str
    at: datetime
    text: str | None = None
    ack: Any = None


@dataclass(frozen=True)
class Changed:
    incident_id: str
    event_id: int


def apply_change(engine: Engine, change: ChatChange) -> list[Changed]:
    """Edit or hide the events captured from `change.source`; the ones that changed (none if never captured)."""
    if change.action == "edit":
        return edit_message(engine, change.source, change.text or "", change.by, change.at)
    return delete_message(engine, change.source, change.by, change.at)


def edit_message(engine: Engine, source: str, text: str, by: str, at: datetime) -> list[Changed]:
    """Replace the text of the chat line or note captured from `source`; the original goes to the audit trail."""
    new = text.strip()
    if not new:
        return delete_message(engine, source, by, at)
    changed: list[Changed] = []
    with engine.store.write() as session:
        for row in session.scalars(_captured(source)):
            if row.text == new or row.hidden:
                continue
            detail = {"event": row.id, "source": source, "original": row.text, "at": as_utc(at).isoformat()}
            row.text = new
            add_audit(session, normalise_user(by), "edit_message", format_id(row.incident_number), detail)
            changed.append(Changed(format_id(row.incident_number), row.id))
    return changed


def delete_message(engine: Engine, source: str, by: str, at: datetime) -> list[Changed]:
    """Hide the chat line or note captured from `source` from the timeline and postmortem; kept for the audit."""
    changed: list[Changed] = []
    with engine.store.write() as session:
        for row in session.scalars(_captured(source)):
            if row.hidden:
                continue
            row.hidden = True
            detail = {"event": row.id, "source": source, "text": row.text, "at": as_utc(at).isoformat()}
            add_audit(session, normalise_user(by), "delete_message", format_id(row.incident_number), detail)
            changed.append(Changed(format_id(row.incident_number), row.id))
    return changed


def _captured(source: str) -> Any:
    return (
        select(EventRow)
        .where(EventRow.source == source, EventRow.kind.in_(FOLLOWS_CHAT))
        .order_by(EventRow.id)
        .with_for_update()
    )
