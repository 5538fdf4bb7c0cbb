"""The ORM view of the current schema. `migrations.py` builds it; a test checks that the two agree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agent.store.types import CleanString, RedactedText, UTCDateTime

# Statuses in which an incident still owns its room (one such incident per room).
OPEN_STATUSES = ("investigating", "mitigated")
_OPEN_SQL = text("status IN ('investigating', 'mitigated')")
_HAS_SOURCE_SQL = text("source IS NOT NULL")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, str: CleanString(255)}


class InstallationRow(Base):
    """This database's installation: one row, made by its migration; new filing keys carry its id."""

    __tablename__ = "installation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]


class SchemaVersionRow(Base):
    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    description: Mapped[str]
    applied_at: Mapped[datetime]


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "ix_incidents_open_room", "room", unique=True, sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL
        ),
        Index("ix_incidents_status", "status"),
        {"sqlite_autoincrement": True},
    )

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(RedactedText("incidents.title"))
    room: Mapped[str]
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(10))
    severity_reason: Mapped[str | None] = mapped_column(RedactedText("incidents.severity_reason"))
    service: Mapped[str | None]
    commander: Mapped[str | None]
    started_by: Mapped[str]
    impact: Mapped[str | None] = mapped_column(RedactedText("incidents.impact"))
    cause: Mapped[str | None] = mapped_column(RedactedText("incidents.cause"))
    started_at: Mapped[datetime]
    detected_at: Mapped[datetime | None]
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    private: Mapped[bool] = mapped_column(default=False)
    impact_started_at: Mapped[datetime | None]
    impact_ended_at: Mapped[datetime | None]
    replayed: Mapped[bool] = mapped_column(default=False)


class ParticipantRow(Base):
    __tablename__ = "incident_participants"

    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"), primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    first_seen_at: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        UniqueConstraint("incident_number", "source", name="uq_timeline_events_source"),
        Index("ix_timeline_events_key", "incident_number", "key", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"))
    at: Mapped[datetime]
    author: Mapped[str]
    text: Mapped[str] = mapped_column(RedactedText("timeline_events.text"))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[bool]
    source: Mapped[str | None] = mapped_column(CleanString(512))
    # Out of the timeline everyone reads (struck, or a deleted chat message); kept, the audit trail says why.
    hidden: Mapped[bool] = mapped_column(default=False)
    # An alert that started long before its incident: context, never its start or its detection.
    context: Mapped[bool] = mapped_column(default=False)


class IncidentServiceRow(Base):
    """The services an incident is about: alerts and deploys that name one of them go on its timeline."""

    __tablename__ = "incident_services"

    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"), primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)


class PersonRow(Base):
    """The name a chat platform shows for a person id (`agent.people.Directory`): documents name people, while
    roles, commanders and owners stay ids."""

    __tablename__ = "people"

    person_id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    seen_at: Mapped[datetime]


class SignalRow(Base):
    """An alert, deploy, page or generic event as received, once per `source`; `incident_number` is where it
    went (NULL: unmatched, waiting for `!incident signals attach`). `thread` groups a signal with the ones it
    follows (an alert's firing and resolution, a deployment and its statuses, a PagerDuty incident's events)."""

    __tablename__ = "signals"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(CleanString(512), unique=True)
    thread: Mapped[str] = mapped_column(CleanString(512), index=True)
    received_at: Mapped[datetime]
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[bool]
    author: Mapped[str]
    text: Mapped[str] = mapped_column(RedactedText("signals.text"))
    routing: Mapped[dict[str, str]] = mapped_column(JSON)
    incident_number: Mapped[int | None] = mapped_column(ForeignKey("incidents.number"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_events.id"))
    attached_by: Mapped[str | None]


class ActionRow(Base):
    """`source` is the chat message that added the item: one item per message, however often it arrives.

    `idempotency_key` is written once and never changed: tickets filed with it are found by it."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index(
            "uq_action_items_source",
            "incident_number",
            "source",
            unique=True,
            sqlite_where=_HAS_SOURCE_SQL,
            postgresql_where=_HAS_SOURCE_SQL,
        ),
        Index("uq_action_items_number", "incident_number", "number", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"), index=True)
    number: Mapped[int]  # A1, A2 ... within the incident
    title: Mapped[str] = mapped_column(RedactedText("action_items.title"))
    owner: Mapped[str | None]
    due: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    success_criteria: Mapped[str | None] = mapped_column(RedactedText("action_items.success_criteria"))
    status: Mapped[str] = mapped_column(String(20))
    refs: Mapped[list[str]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    source: Mapped[str | None] = mapped_column(CleanString(512))
    revision: Mapped[int] = mapped_column(default=0)  # +1 per change people make; tickets follow it
    drop_reason: Mapped[str | None] = mapped_column(RedactedText("action_items.drop_reason"))


class AuditRow(Base):
    """Append-only: the database itself refuses UPDATE and DELETE on this table (see migrations)."""

    __tablename__ = "audit_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)


class NudgeSentRow(Base):
    __tablename__ = "nudges_sent"

    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"), primary_key=True)
    nudge: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime]


class PostmortemRow(Base):
    """One postmortem per incident: the latest draft, its review state and where it was published."""

    __tablename__ = "postmortems"

    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    document: Mapped[str] = mapped_column(Text)  # the Postmortem model as JSON
    markdown: Mapped[str] = mapped_column(Text)
    reviewers: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[int]
    drafted_by: Mapped[str]
    drafted_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_path: Mapped[str | None] = mapped_column(Text)


class PostmortemRevisionRow(Base):
    """One section a postmortem revision changed: who, when, how (draft, add, edit, import) and its new text.

    A new draft is one row without a section; `text` is what was added, or the section's new text.
    """

    __tablename__ = "postmortem_revisions"
    __table_args__ = (
        Index("ix_postmortem_revisions_incident", "incident_number", "revision"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_number: Mapped[int] = mapped_column(ForeignKey("incidents.number"))
    revision: Mapped[int]
    at: Mapped[datetime]
    author: Mapped[str]
    change: Mapped[str] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(RedactedText("postmortem_revisions.text"))


class OutboxRow(Base):
    """One action item's filing to one tracker: pending -> filed (or failed), with a lease for concurrency.

    `create_attempted_at` is written (committed) before each create call and cleared once its outcome is
    known; while it is set, no run creates again before `confirm_until` (see agent/filing/filer.py).
    """

    __tablename__ = "filing_outbox"
    __table_args__ = (
        UniqueConstraint("action_id", "tracker", name="uq_filing_outbox_action_tracker"),
        Index("ix_filing_outbox_state", "state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"))
    tracker: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(RedactedText("filing_outbox.last_error"))
    ref: Mapped[str | None]
    remote_status: Mapped[str | None] = mapped_column(String(64))
    status_synced_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None]
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    filed_at: Mapped[datetime | None]
    create_attempted_at: Mapped[datetime | None]
    confirm_until: Mapped[datetime | None]
    # The item revision the ticket states; behind the item's revision, the ticket awaits an update.
    synced_revision: Mapped[int] = mapped_column(default=0)


class BotStateRow(Base):
    """The chat host's own state (Errbot's plugin settings, conversation references, ACL data) per namespace.

    `value` is opaque to the engine: the host encodes it (`backends/storage/` pickles, as Errbot requires).
    """

    __tablename__ = "bot_state"

    namespace: Mapped[str] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
