"""Secrets typed into an incident never rest in the database: not in its rows, not in its files' bytes.

Every text column people write to redacts on the way in, an audit entry says a redaction happened (never what),
and a database written before that is redacted by a migration, old row versions included (SQLite).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from agent.capture import RoomMessage
from agent.engine import Engine
from agent.models import EventKind, Incident, Severity
from agent.postmortem.naming import published_file_name
from agent.store import Store, migrate, normalize_url
from agent.timeline import NewEvent
from tests.store_fixtures import POSTGRES_URL, at, backend, db_url

__all__ = ["backend", "db_url"]

ROOM = "#inc-secrets"


def planted() -> dict[str, str]:
    """Fresh secrets of shapes the redactor knows, unique to one test (so other tests' data cannot match)."""
    alnum = string.ascii_letters + string.digits

    def pick(alphabet: str, n: int) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(n))

    return {
        "github": f"ghp_{pick(alnum, 36)}",
        "aws": f"AKIA{pick(string.ascii_uppercase + string.digits, 16)}",
        "slack": f"xoxb-{pick(string.digits, 12)}-{pick(string.digits, 12)}-{pick(alnum, 24)}",
        "password": f"Pw{pick(alnum, 14)}",
    }


def write_everything(engine: Engine, secret: dict[str, str]) -> str:
    """An incident whose every free-text field, note, chat line and action item holds a secret."""
    incident = engine.incidents.start(ROOM, f"Deploy leaked {secret['github']}", "alice", at(0))
    engine.incidents.set_severity(incident.id, Severity.SEV2, f"key {secret['aws']}", "alice", at(1))
    engine.incidents.set_impact(
        incident.id, f"login with password={secret['password']} failed", "alice", at(2)
    )
    engine.incidents.set_cause(incident.id, f"token {secret['slack']} was revoked", "alice", at(3))
    engine.timeline.record(incident.id, at(4), "bob", f"rotated {secret['github']}", kind=EventKind.NOTE)
    engine.capture.submit(RoomMessage(ROOM, at(5), "carol", f"old key AWS {secret['aws']}", "m-1"))
    engine.capture.submit(NewEvent(incident.id, at(6), "carol", f"password={secret['password']} again"))
    engine.capture.flush(10)
    engine.actions.add(
        incident.id,
        f"Revoke {secret['slack']} everywhere",
        "bob",
        date(2024, 4, 1),
        "alice",
        at(7),
        success_criteria=f"no service uses {secret['github']}",
    )
    engine.incidents.resolve(incident.id, "alice", at(8), f"rotated password={secret['password']}")
    return incident.id


def stored_text(url: str) -> str:
    """Every row of every table, as text."""
    sa = create_engine(normalize_url(url))
    try:
        with sa.connect() as conn:
            tables = [
                "incidents",
                "timeline_events",
                "action_items",
                "audit_log",
                "postmortems",
                "filing_outbox",
            ]
            return "\n".join(
                str(row) for table in tables for row in conn.execute(text(f"SELECT * FROM {table}"))
            )
    finally:
        sa.dispose()


def database_bytes(url: str) -> Iterator[tuple[Path, bytes]]:
    """The bytes of the database's files: SQLite's file and its write-ahead log, or PostgreSQL's data dir."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = Path(str(parsed.database))
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                yield path, path.read_bytes()
        return
    sa = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with sa.connect() as conn:
            conn.execute(text("CHECKPOINT"))
            data_dir = Path(str(conn.execute(text("SHOW data_directory")).scalar()))
    finally:
        sa.dispose()
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and (
            path.is_relative_to(data_dir / "base") or path.is_relative_to(data_dir / "pg_wal")
        ):
            yield path, path.read_bytes()


def leaks(url: str, secret: dict[str, str], *, wal: bool = True) -> list[str]:
    found = [f"row: {name}" for name, value in secret.items() if value in stored_text(url)]
    for path, data in database_bytes(url):
        if wal or "pg_wal" not in path.parts:
            found += [f"{path.name}: {name}" for name, value in secret.items() if value.encode() in data]
    return found


def test_every_field_is_stored_redacted_and_the_audit_trail_says_so(db_url: str) -> None:
    secret = planted()
    engine = Engine.open(db_url)
    try:
        incident_id = write_everything(engine, secret)
        incident = engine.incidents.get(incident_id)
        redactions = [entry for entry in engine.store.audit_trail() if entry.action == "redact"]
    finally:
        engine.close()

    assert leaks(db_url, secret) == []
    assert incident.title == "Deploy leaked [REDACTED:github-token]"
    columns = set().union(*(json.loads(entry.detail)["columns"] for entry in redactions))
    assert columns >= {
        "incidents.title",
        "incidents.severity_reason",
        "incidents.impact",
        "incidents.cause",
        "timeline_events.text",
        "action_items.title",
        "action_items.success_criteria",
    }


def test_a_database_written_before_redaction_is_redacted_when_it_opens(db_url: str) -> None:
    secret = planted()
    sa = create_engine(normalize_url(db_url))
    migrate(sa, target=6)
    document = {"summary": {"text": f"caused by {secret['github']}"}, "title": "x"}
    with sa.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (number, title, room, status, started_by, started_at, detected_at, impact) "
                "VALUES (1, :title, :room, 'resolved', 'alice', :at, :at, :impact)"
            ),
            {
                "title": f"Leak {secret['aws']}",
                "room": ROOM,
                "at": at(0).replace(tzinfo=None),
                "impact": secret["slack"],
            },
        )
        conn.execute(
            text(
                "INSERT INTO timeline_events (incident_number, at, author, text, kind, key) "
                "VALUES (1, :at, 'bob', :text, 'message', false)"
            ),
            {"at": at(1).replace(tzinfo=None), "text": f"password={secret['password']}"},
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, incident_id, detail) "
                "VALUES (:at, 'alice', 'set_impact', 'INC-1', :detail)"
            ),
            {"at": at(2).replace(tzinfo=None), "detail": json.dumps({"impact": secret["slack"]})},
        )
        conn.execute(
            text(
                "INSERT INTO postmortems (incident_number, revision, status, document, markdown, reviewers, "
                "drafted_by, drafted_at) VALUES (1, 1, 'draft', :document, :markdown, '[]', 'alice', :at)"
            ),
            {
                "document": json.dumps(document),
                "markdown": f"# Leak {secret['aws']}",
                "at": at(3).replace(tzinfo=None),
            },
        )
    sa.dispose()

    store = Store(db_url)
    try:
        trail = store.audit_trail()
    finally:
        store.close()

    # PostgreSQL's write-ahead log still holds what this test wrote raw, until PostgreSQL recycles it.
    assert leaks(db_url, secret, wal=False) == []
    [summary] = [entry for entry in trail if entry.action == "redact_stored"]
    assert json.loads(summary.detail)["columns"] == {
        "audit_log.detail": 1,
        "incidents.impact": 1,
        "incidents.title": 1,
        "postmortems.document": 1,
        "postmortems.markdown": 1,
        "timeline_events.text": 1,
    }
    sa = create_engine(normalize_url(db_url))
    try:
        with pytest.raises(Exception, match="append-only"), sa.begin() as conn:
            conn.execute(text("UPDATE audit_log SET detail = 'x'"))
    finally:
        sa.dispose()


def test_a_published_file_name_never_carries_a_secret() -> None:
    secret = planted()
    incident = Incident(id="INC-4", title=f"Leaked {secret['github']} in CI", room=ROOM, started_at=at(0))

    name = published_file_name(incident)

    assert secret["github"] not in name and secret["github"].lower() not in name
    assert name.startswith("2024-03-01-inc-4-leaked-redacted")


@pytest.mark.skipif(not POSTGRES_URL, reason="DEBRIEF_TEST_POSTGRES_URL is not set")
def test_the_postgresql_files_are_searched_too() -> None:
    """The byte search above really reads PostgreSQL's files: a value written raw is found there."""
    marker = f"plainmarker{secrets.token_hex(8)}"
    sa = create_engine(normalize_url(POSTGRES_URL))
    try:
        with sa.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS debrief_bytes_probe (value text)"))
            conn.execute(text("INSERT INTO debrief_bytes_probe VALUES (:v)"), {"v": marker})
        found = [path for path, data in database_bytes(POSTGRES_URL) if marker.encode() in data]
    finally:
        with sa.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS debrief_bytes_probe"))
        sa.dispose()
    assert found
