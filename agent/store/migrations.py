"""Forward-only schema migrations, applied in order when a store opens, so an upgrade never loses data.

Each migration builds its tables from its own frozen definitions (never from `tables.py`, which shows only
the newest schema) and runs with its version row in one transaction under a lock, so two processes opening
the same database at once cannot both apply it. Add a migration by appending to `MIGRATIONS`; never edit one
that has shipped.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from agent.redact import redact, redact_tree
from agent.store.errors import StoreError
from agent.store.tables import SchemaVersionRow
from agent.store.types import UTCDateTime

# Any constant works; it only has to be the same in every Debrief process sharing a PostgreSQL database.
_PG_LOCK_KEY = 0x64656272  # "debr"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]
    rewrites: tuple[str, ...] = ()  # tables whose replaced text must not linger in the database files


def _v1_core(conn: Connection) -> None:
    meta = MetaData()
    open_rooms = text("status IN ('investigating', 'mitigated')")
    Table(
        "incidents",
        meta,
        Column("number", Integer, primary_key=True, autoincrement=True),
        Column("title", Text, nullable=False),
        Column("room", String(255), nullable=False),
        Column("status", String(20), nullable=False),
        Column("severity", String(10)),
        Column("severity_reason", Text),
        Column("service", String(255)),
        Column("commander", String(255)),
        Column("started_by", String(255), nullable=False),
        Column("impact", Text),
        Column("cause", Text),
        Column("started_at", UTCDateTime, nullable=False),
        Column("detected_at", UTCDateTime),
        Column("mitigated_at", UTCDateTime),
        Column("resolved_at", UTCDateTime),
        Index(
            "ix_incidents_open_room",
            "room",
            unique=True,
            sqlite_where=open_rooms,
            postgresql_where=open_rooms,
        ),
        Index("ix_incidents_status", "status"),
        sqlite_autoincrement=True,
    )
    Table(
        "incident_participants",
        meta,
        Column("incident_number", Integer, ForeignKey("incidents.number"), primary_key=True),
        Column("name", String(255), primary_key=True),
        Column("first_seen_at", UTCDateTime, nullable=False),
    )
    Table(
        "timeline_events",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("incident_number", Integer, ForeignKey("incidents.number"), nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Column("author", String(255), nullable=False),
        Column("text", Text, nullable=False),
        Column("kind", String(20), nullable=False),
        Column("key", Boolean, nullable=False),
        Column("source", String(512)),
        UniqueConstraint("incident_number", "source", name="uq_timeline_events_source"),
        sqlite_autoincrement=True,
    )
    Table(
        "action_items",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("incident_number", Integer, ForeignKey("incidents.number"), nullable=False, index=True),
        Column("title", Text, nullable=False),
        Column("owner", String(255)),
        Column("due", Date),
        Column("kind", String(20), nullable=False),
        Column("success_criteria", Text),
        Column("status", String(20), nullable=False),
        Column("refs", JSON, nullable=False),
        Column("idempotency_key", String(255), nullable=False, unique=True),
        Column("created_by", String(255), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    Table(
        "audit_log",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("actor", String(255), nullable=False),
        Column("action", String(64), nullable=False),
        Column("incident_id", String(32), index=True),
        Column("detail", Text, nullable=False),
        sqlite_autoincrement=True,
    )
    meta.create_all(conn)
    _make_audit_append_only(conn)


def _make_audit_append_only(conn: Connection) -> None:
    """Refuse UPDATE and DELETE on the audit trail in the database itself, not only in our code."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION debrief_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION debrief_audit_append_only()"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                "FOR EACH STATEMENT EXECUTE FUNCTION debrief_audit_append_only()"
            )
        )
        return
    for verb in ("UPDATE", "DELETE"):
        conn.execute(
            text(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )


def _v2_nudges(conn: Connection) -> None:
    meta = MetaData()
    Table("incidents", meta, Column("number", Integer, primary_key=True))
    Table(
        "nudges_sent",
        meta,
        Column("incident_number", Integer, ForeignKey("incidents.number"), primary_key=True),
        Column("nudge", String(64), primary_key=True),
        Column("sent_at", UTCDateTime, nullable=False),
    ).create(conn)


def _v3_key_event_index(conn: Connection) -> None:
    meta = MetaData()
    events = Table(
        "timeline_events",
        meta,
        Column("incident_number", Integer),
        Column("key", Boolean),
        Column("at", UTCDateTime),
    )
    Index("ix_timeline_events_key", events.c.incident_number, events.c.key, events.c.at).create(conn)


def _v4_postmortems(conn: Connection) -> None:
    meta = MetaData()
    Table("incidents", meta, Column("number", Integer, primary_key=True))
    Table(
        "postmortems",
        meta,
        Column("incident_number", Integer, ForeignKey("incidents.number"), primary_key=True),
        Column("status", String(20), nullable=False),
        Column("document", Text, nullable=False),
        Column("markdown", Text, nullable=False),
        Column("reviewers", JSON, nullable=False),
        Column("revision", Integer, nullable=False),
        Column("drafted_by", String(255), nullable=False),
        Column("drafted_at", UTCDateTime, nullable=False),
        Column("approved_at", UTCDateTime),
        Column("published_at", UTCDateTime),
        Column("published_path", Text),
    ).create(conn)


def _v5_filing_outbox(conn: Connection) -> None:
    meta = MetaData()
    Table("action_items", meta, Column("id", Integer, primary_key=True))
    Table(
        "filing_outbox",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("action_id", Integer, ForeignKey("action_items.id"), nullable=False),
        Column("tracker", String(32), nullable=False),
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", UTCDateTime),
        Column("last_error", Text),
        Column("ref", String(255)),
        Column("remote_status", String(64)),
        Column("status_synced_at", UTCDateTime),
        Column("claimed_by", String(255)),
        Column("claimed_until", UTCDateTime),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("filed_at", UTCDateTime),
        UniqueConstraint("action_id", "tracker", name="uq_filing_outbox_action_tracker"),
        Index("ix_filing_outbox_state", "state"),
        sqlite_autoincrement=True,
    ).create(conn)


def _v6_action_source(conn: Connection) -> None:
    """Existing items keep a NULL source: they were added before redeliveries were recognised."""
    meta = MetaData()
    actions = Table(
        "action_items",
        meta,
        Column("incident_number", Integer),
        Column("source", String(512)),
    )
    conn.execute(text("ALTER TABLE action_items ADD COLUMN source VARCHAR(512)"))
    has_source = text("source IS NOT NULL")
    Index(
        "uq_action_items_source",
        actions.c.incident_number,
        actions.c.source,
        unique=True,
        sqlite_where=has_source,
        postgresql_where=has_source,
    ).create(conn)


# Text people typed, as stored before it was redacted on the way in: (table, key column, plain columns, JSON columns).
_STORED_TEXT = (
    ("incidents", "number", ("title", "severity_reason", "impact", "cause"), ()),
    ("timeline_events", "id", ("text",), ()),
    ("action_items", "id", ("title", "success_criteria"), ()),
    ("filing_outbox", "id", ("last_error",), ()),
    ("postmortems", "incident_number", ("markdown",), ("document",)),
    ("audit_log", "id", (), ("detail",)),
)


def _v7_redact_stored_text(conn: Connection) -> None:
    """Redact what was stored before every write was redacted; the audit trail says how much, never what."""
    changed: dict[str, int] = {}
    for table, key, plain, structured in _STORED_TEXT:
        columns = [*plain, *structured]
        rows = conn.execute(text(f"SELECT {key}, {', '.join(columns)} FROM {table}")).all()
        for row in rows:
            values = dict(zip(columns, row[1:], strict=True))
            clean = {name: _redacted(values[name], name in structured) for name in columns}
            updates = {name: value for name, value in clean.items() if value != values[name]}
            if not updates:
                continue
            if table == "audit_log":
                _drop_audit_triggers(conn)
            assignments = ", ".join(f"{name} = :{name}" for name in updates)
            conn.execute(
                text(f"UPDATE {table} SET {assignments} WHERE {key} = :key"), {**updates, "key": row[0]}
            )
            for name in updates:
                changed[f"{table}.{name}"] = changed.get(f"{table}.{name}", 0) + 1
    if "audit_log.detail" in changed:
        _make_audit_append_only(conn)
    if changed:
        detail = json.dumps({"columns": dict(sorted(changed.items()))}, sort_keys=True)
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, incident_id, detail) VALUES (:at, :actor, :action, NULL, :detail)"
            ),
            {"at": _stored_now(conn), "actor": "debrief", "action": "redact_stored", "detail": detail},
        )


def _redacted(value: str | None, structured: bool) -> str | None:
    if value is None:
        return None
    if not structured:
        return redact(value)
    try:
        return json.dumps(redact_tree(json.loads(value)), sort_keys=True)
    except ValueError:
        return redact(value)  # an audit detail stored as plain text


def _drop_audit_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def _stored_now(conn: Connection) -> datetime:
    now = datetime.now(UTC)
    return now if conn.dialect.name == "postgresql" else now.replace(tzinfo=None)


def _v8_bot_state(conn: Connection) -> None:
    """Errbot's own state, which its default `dbm.dumb` Shelf files could lose to a crash, in the database."""
    Table(
        "bot_state",
        MetaData(),
        Column("namespace", String(255), primary_key=True),
        Column("key", Text, primary_key=True),
        Column("value", LargeBinary, nullable=False),
    ).create(conn)


def _v9_filing_hardening(conn: Connection) -> None:
    """An id for this installation, made once, that new items' filing keys carry (stored keys stay); and the
    outbox's write-ahead record of a create whose answer may be lost (see agent/filing/filer.py)."""
    meta = MetaData()
    installation = Table(
        "installation",
        meta,
        Column("id", String(32), primary_key=True),
        Column("created_at", UTCDateTime, nullable=False),
    )
    installation.create(conn)
    # 48 random bits as 12 lowercase hex digits: valid in Jira and GitHub labels, and never shared in practice.
    conn.execute(insert(installation).values(id=secrets.token_hex(6), created_at=datetime.now(UTC)))
    timestamp = UTCDateTime().compile(dialect=conn.dialect)  # DATETIME on SQLite, timestamptz on PostgreSQL
    for column in ("create_attempted_at", "confirm_until"):
        conn.execute(text(f"ALTER TABLE filing_outbox ADD COLUMN {column} {timestamp}"))


def _v10_private_incidents(conn: Connection) -> None:
    """Incidents so far were never private."""
    conn.execute(text("ALTER TABLE incidents ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE"))


def _v11_corrections(conn: Connection) -> None:
    """Milestone corrections and the review: the customer-impact window, replayed drills, struck events."""
    timestamp = UTCDateTime().compile(dialect=conn.dialect)
    for column in ("impact_started_at", "impact_ended_at"):
        conn.execute(text(f"ALTER TABLE incidents ADD COLUMN {column} {timestamp}"))
    conn.execute(text("ALTER TABLE incidents ADD COLUMN replayed BOOLEAN NOT NULL DEFAULT FALSE"))
    conn.execute(text("ALTER TABLE timeline_events ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE"))


def _v12_action_follow_up(conn: Connection) -> None:
    """Action items numbered per incident (existing ones in the order they were added: A1, A2 ... in each
    incident), a revision their tickets follow, and why one was dropped; each outbox row remembers the revision
    its ticket states. Filing keys stay as stored."""
    meta = MetaData()
    actions = Table("action_items", meta, Column("incident_number", Integer), Column("number", Integer))
    conn.execute(text("ALTER TABLE action_items ADD COLUMN number INTEGER NOT NULL DEFAULT 0"))
    conn.execute(
        text(
            "UPDATE action_items SET number = (SELECT count(*) FROM action_items AS earlier "
            "WHERE earlier.incident_number = action_items.incident_number AND earlier.id <= action_items.id)"
        )
    )
    Index("uq_action_items_number", actions.c.incident_number, actions.c.number, unique=True).create(conn)
    conn.execute(text("ALTER TABLE action_items ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"))
    conn.execute(text("ALTER TABLE action_items ADD COLUMN drop_reason TEXT"))
    conn.execute(text("ALTER TABLE filing_outbox ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0"))


def _v13_postmortem_revisions(conn: Connection) -> None:
    """Each change to a postmortem's text: one row per section a revision changed (a new draft: one row)."""
    meta = MetaData()
    Table("incidents", meta, Column("number", Integer, primary_key=True))
    Table(
        "postmortem_revisions",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("incident_number", Integer, ForeignKey("incidents.number"), nullable=False),
        Column("revision", Integer, nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Column("author", String(255), nullable=False),
        Column("change", String(16), nullable=False),
        Column("section", String(32)),
        Column("text", Text),
        Index("ix_postmortem_revisions_incident", "incident_number", "revision"),
        sqlite_autoincrement=True,
    ).create(conn)


def _v14_signals(conn: Connection) -> None:
    """Incidents with several services (each incident's service so far is its first); alerts, deploys and pages
    kept whether or not an incident took them (unmatched ones wait to be attached); timeline events that are context
    from before their incident."""
    meta = MetaData()
    Table("incidents", meta, Column("number", Integer, primary_key=True))
    Table("timeline_events", meta, Column("id", Integer, primary_key=True))
    services = Table(
        "incident_services",
        meta,
        Column("incident_number", Integer, ForeignKey("incidents.number"), primary_key=True),
        Column("name", String(255), primary_key=True),
    )
    Table(
        "signals",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("source", String(512), nullable=False, unique=True),
        Column("thread", String(512), nullable=False, index=True),
        Column("received_at", UTCDateTime, nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Column("kind", String(20), nullable=False),
        Column("key", Boolean, nullable=False),
        Column("author", String(255), nullable=False),
        Column("text", Text, nullable=False),
        Column("routing", JSON, nullable=False),
        Column("incident_number", Integer, ForeignKey("incidents.number"), index=True),
        Column("event_id", Integer, ForeignKey("timeline_events.id")),
        Column("attached_by", String(255)),
        sqlite_autoincrement=True,
    )
    meta.create_all(conn, tables=[services, meta.tables["signals"]])
    conn.execute(
        text(
            "INSERT INTO incident_services (incident_number, name) "
            "SELECT number, service FROM incidents WHERE service IS NOT NULL AND service <> ''"
        )
    )
    # `hidden` (struck or deleted) came with migration 11.
    conn.execute(text("ALTER TABLE timeline_events ADD COLUMN context BOOLEAN NOT NULL DEFAULT FALSE"))


def _v15_people(conn: Connection) -> None:
    """The names chat platforms show for person ids, for documents that name people."""
    Table(
        "people",
        MetaData(),
        Column("person_id", String(255), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("seen_at", UTCDateTime, nullable=False),
    ).create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "incidents, participants, timeline events, action items, append-only audit log", _v1_core),
    Migration(2, "nudges sent, so a restart never repeats a reminder", _v2_nudges),
    Migration(3, "index for key-event timeline queries", _v3_key_event_index),
    Migration(4, "postmortems: draft, review, publish", _v4_postmortems),
    Migration(5, "filing outbox: one row per action item and tracker", _v5_filing_outbox),
    Migration(6, "action items remember their source message, one item per message", _v6_action_source),
    Migration(
        7,
        "redact text stored before every write was redacted",
        _v7_redact_stored_text,
        rewrites=tuple(table for table, *_ in _STORED_TEXT),
    ),
    Migration(8, "Errbot's state (plugin settings, conversation references) in the database", _v8_bot_state),
    Migration(9, "installation id for filing keys; outbox records create attempts", _v9_filing_hardening),
    Migration(
        10, "private incidents: kept out of the knowledge base and away from the LLM", _v10_private_incidents
    ),
    Migration(11, "corrections: customer-impact window, replayed drills, struck events", _v11_corrections),
    Migration(
        12,
        "action items numbered per incident, revisions their tickets follow, drop reasons",
        _v12_action_follow_up,
    ),
    Migration(
        13, "postmortem revisions: who changed which section, when, and to what", _v13_postmortem_revisions
    ),
    Migration(14, "incident services, signals kept until attached, context events", _v14_signals),
    Migration(15, "the names chat platforms show for person ids", _v15_people),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The newest applied migration, 0 for an empty database."""
    SchemaVersionRow.metadata.tables[SchemaVersionRow.__tablename__].create(conn, checkfirst=True)
    return conn.execute(select(func.max(SchemaVersionRow.version))).scalar() or 0


def migrate(
    engine: Engine,
    target: int = LATEST_VERSION,
    on_rewritten: Callable[[Sequence[str]], None] | None = None,
) -> int:
    """Apply every migration newer than the database, up to `target`, atomically; return the version.

    `on_rewritten` hears, after the commit, the tables whose text was replaced (to purge the old versions).
    """
    rewritten: list[str] = []
    with engine.connect() as conn, conn.execution_options(debrief_write=True).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        version = current_version(conn)
        if version > LATEST_VERSION:
            raise StoreError(
                f"the database has schema version {version} but this Debrief knows only up to "
                f"{LATEST_VERSION}; upgrade Debrief"
            )
        for migration in MIGRATIONS:
            if version < migration.version <= target:
                migration.apply(conn)
                rewritten += migration.rewrites
                conn.execute(
                    insert(SchemaVersionRow).values(
                        version=migration.version,
                        description=migration.description,
                        applied_at=datetime.now(UTC),
                    )
                )
                version = migration.version
    if rewritten and on_rewritten is not None:
        on_rewritten(sorted(set(rewritten)))
    return version
