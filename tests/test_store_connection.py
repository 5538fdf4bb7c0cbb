"""Opening the store: URLs, SQLite pragmas, UTC timestamps, foreign keys and the append-only audit trail."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from agent.engine import Engine
from agent.settings import load_settings
from agent.store import Store, StoreError, normalize_url
from agent.store.tables import EventRow
from agent.timestamps import TimestampError
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@db.example:5432/debrief", "postgresql+psycopg"),
        ("postgres://u@db.example/debrief", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/debrief", "postgresql+psycopg"),
        ("sqlite:////var/lib/debrief/debrief.db", "sqlite"),
    ],
)
def test_database_urls_map_to_the_drivers_we_ship(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@db/debrief", "must be sqlite:// or postgresql://, got mysql://"),
        ("not a url", "is not a valid SQLAlchemy URL"),
    ],
)
def test_unsupported_database_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store(url)


def test_unreachable_postgres_fails_with_one_line_naming_it_without_the_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StoreError) as caught:
        Store(f"postgresql://debrief:s3cret@127.0.0.1:{port}/debrief?connect_timeout=2")
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the database at postgresql+psycopg://debrief:***@127.0.0.1:{port}/"
    )
    assert "s3cret" not in message and "\n" not in message


def test_default_database_is_sqlite_in_a_data_dir_created_on_first_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    engine = Engine.from_settings(load_settings(DEBRIEF_DATA_DIR=str(data_dir)))
    engine.incidents.start("#inc-a", "Disk full", "alice", at(0))
    engine.close()
    assert (data_dir / "debrief.db").is_file()


def test_sqlite_runs_in_wal_mode_with_normal_sync_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'debrief.db'}")
    with store.engine.connect() as conn:
        pragmas = [
            conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")
        ]
        foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    store.close()
    assert pragmas == ["wal", 1]  # 1 = NORMAL
    assert foreign_keys == 1


def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    engine = Engine.open("sqlite://")
    incident = engine.incidents.start("#inc-a", "Disk full", "alice", at(0))
    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(engine.incidents.get(incident.id).title))
    thread.start()
    thread.join()
    engine.close()
    assert seen == ["Disk full"]


def test_timestamps_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    started = datetime(2024, 3, 1, 12, 0, 30, 123456, tzinfo=paris)
    incident = engine.incidents.start("#inc-a", "Disk full", "alice", started)
    stored = engine.incidents.get(incident.id).started_at
    assert stored == started
    assert stored.tzinfo == UTC
    assert stored.hour == 10 and stored.microsecond == 123456


def test_naive_timestamps_are_refused_before_anything_is_written(engine: Engine) -> None:
    with pytest.raises(TimestampError, match="has no timezone"):
        engine.incidents.start("#inc-a", "Disk full", "alice", datetime(2024, 3, 1, 10, 0))
    assert engine.incidents.list_open() == []


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.store.write() as session:
        session.add(EventRow(incident_number=42, at=at(0), author="bob", text="x", kind="message", key=False))
        session.flush()


def test_audit_entries_are_appended_in_order_and_filtered_by_incident(engine: Engine) -> None:
    engine.store.audit("alice", "ingest", None, "12 files")
    engine.store.audit("bob", "approve", "INC-4", {"postmortem": "v2"})
    assert [(e.actor, e.action, e.incident_id, e.detail) for e in engine.store.audit_trail()] == [
        ("alice", "ingest", None, "12 files"),
        ("bob", "approve", "INC-4", '{"postmortem": "v2"}'),
    ]
    assert [e.action for e in engine.store.audit_trail("INC-4")] == ["approve"]
    assert all(entry.at.tzinfo == UTC for entry in engine.store.audit_trail())


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_rewrite_the_audit_trail(engine: Engine, statement: str) -> None:
    engine.store.audit("alice", "resolve", "INC-1", "")
    with pytest.raises(DBAPIError, match="audit_log is append-only"), engine.store.engine.begin() as conn:
        conn.execute(text(statement))
    assert [entry.actor for entry in engine.store.audit_trail()] == ["alice"]
