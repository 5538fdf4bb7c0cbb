"""The schema is versioned: new databases get every migration, old ones are upgraded in place, data kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import BindParameter, bindparam, create_engine, inspect, text

from agent.engine import Engine
from agent.incidents import IncidentError
from agent.models import EventKind, IncidentStatus
from agent.store import LATEST_VERSION, MIGRATIONS, Store, StoreError, migrate, normalize_url
from agent.store.tables import Base
from agent.store.types import UTCDateTime
from tests.store_fixtures import at, backend, db_url

__all__ = ["backend", "db_url"]


def _at(value: datetime) -> BindParameter[datetime]:
    """A `:at` parameter stored the way the ORM stores timestamps."""
    return bindparam("at", value, type_=UTCDateTime)


def test_new_database_gets_every_migration_in_order(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT version, description FROM schema_version ORDER BY version")).all()
    store.close()
    assert [tuple(row) for row in rows] == [(m.version, m.description) for m in MIGRATIONS]
    assert store.schema_version == LATEST_VERSION == MIGRATIONS[-1].version
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1)), "migration numbers are consecutive"


def test_migrations_build_exactly_the_schema_the_orm_expects(db_url: str) -> None:
    store = Store(db_url)
    found = inspect(store.engine)
    for table in Base.metadata.sorted_tables:
        columns = {column["name"] for column in found.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
        indexes = {index["name"] for index in found.get_indexes(table.name)}
        assert {index.name for index in table.indexes} <= indexes, table.name
    store.close()


def test_reopening_a_current_database_changes_nothing(db_url: str) -> None:
    first = Engine.open(db_url)
    incident = first.incidents.start("#inc-a", "Disk full", "alice", at(0))
    first.close()
    second = Engine.open(db_url)
    assert second.incidents.get(incident.id) == incident
    with second.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == len(MIGRATIONS)
    second.close()


def test_a_version_1_database_is_upgraded_without_losing_data(db_url: str) -> None:
    """A database left by the first release: only migration 1, with an incident, events and an action."""
    old = create_engine(normalize_url(db_url))
    assert migrate(old, target=1) == 1
    with old.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (title, room, status, severity, started_by, started_at) "
                "VALUES ('Checkout 5xx', '#inc-checkout', 'investigating', 'SEV2', 'alice', :at)"
            ).bindparams(_at(datetime(2024, 3, 1, 10, 2, tzinfo=UTC))),
        )
        conn.execute(
            text(
                "INSERT INTO timeline_events (incident_number, at, author, text, kind, key, source) VALUES "
                "(1, :at, 'bob', 'error rate 12%', 'message', false, 'C1:1709287390.1'), "
                "(1, :at, 'alice', 'rolled back', 'note', true, NULL)"
            ).bindparams(_at(datetime(2024, 3, 1, 10, 3, 10, tzinfo=UTC))),
        )
        conn.execute(
            text(
                "INSERT INTO action_items (incident_number, title, kind, status, refs, idempotency_key, "
                "created_by, created_at) VALUES (1, 'Alert on pool saturation', 'detect', 'filed', "
                "'[\"jira:OPS-12\"]', 'debrief-INC-1-A1', 'alice', :at)"
            ).bindparams(_at(datetime(2024, 3, 1, 11, 0, tzinfo=UTC))),
        )
    with old.connect() as conn:
        assert "nudges_sent" not in inspect(conn).get_table_names()
    old.dispose()

    engine = Engine.open(db_url)
    assert engine.store.schema_version == LATEST_VERSION
    incident = engine.incidents.get("INC-1")
    assert (incident.title, incident.status, incident.started_at) == (
        "Checkout 5xx",
        IncidentStatus.INVESTIGATING,
        datetime(2024, 3, 1, 10, 2, tzinfo=UTC),
    )
    events = engine.timeline.events("INC-1", key_only=False)
    assert [(e.author, e.kind, e.source) for e in events] == [
        ("bob", EventKind.MESSAGE, "C1:1709287390.1"),
        ("alice", EventKind.NOTE, None),
    ]
    [action] = engine.actions.list("INC-1")
    assert (action.refs, action.idempotency_key, action.ref) == (["jira:OPS-12"], "debrief-INC-1-A1", "A1")
    # The new code works on the upgraded data: the old room binding holds, new ids continue.
    with pytest.raises(IncidentError, match="already has open incident INC-1"):
        engine.incidents.start("#inc-checkout", "again", "bob", at(5))
    assert engine.incidents.start("#inc-other", "Other", "bob", at(5)).id == "INC-2"
    assert engine.timeline.record("INC-1", at(6), "bob", "still here", source="C1:1709287390.1") is None
    engine.close()


def test_a_version_5_database_keeps_its_action_items_and_dedupes_new_ones(db_url: str) -> None:
    """Items from before migration 6 have no source; new items are kept once per source message."""
    old = create_engine(normalize_url(db_url))
    assert migrate(old, target=5) == 5
    with old.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (title, room, status, started_by, started_at) "
                "VALUES ('Checkout 5xx', '#inc-checkout', 'investigating', 'alice', :at)"
            ).bindparams(_at(datetime(2024, 3, 1, 10, 2, tzinfo=UTC))),
        )
        conn.execute(
            text(
                "INSERT INTO action_items (incident_number, title, kind, status, refs, idempotency_key, "
                "created_by, created_at) VALUES "
                "(1, 'Alert on pool saturation', 'detect', 'filed', '[\"jira:OPS-12\"]', "
                "'debrief-INC-1-A1', 'alice', :at), "
                "(1, 'Alert on pool saturation', 'detect', 'pending', '[]', 'debrief-INC-1-A2', 'alice', :at)"
            ).bindparams(_at(datetime(2024, 3, 1, 11, 0, tzinfo=UTC))),
        )
    old.dispose()

    engine = Engine.open(db_url)
    assert engine.store.schema_version == LATEST_VERSION
    kept = engine.actions.list("INC-1")
    assert [(a.id, a.status.value, a.refs) for a in kept] == [
        (1, "filed", ["jira:OPS-12"]),
        (2, "pending", []),
    ]
    with engine.store.engine.connect() as conn:
        assert conn.execute(text("SELECT source FROM action_items ORDER BY id")).scalars().all() == [
            None,
            None,
        ]
    added = engine.actions.add("INC-1", "Add a canary stage", None, None, "bob", at(70), source="C1:7")
    assert (
        engine.actions.add("INC-1", "Add a canary stage", None, None, "bob", at(70), source="C1:7") == added
    )
    assert [a.id for a in engine.actions.list("INC-1")] == [1, 2, added.id]
    engine.close()


def test_a_version_10_database_numbers_its_action_items_per_incident_and_keeps_their_keys(
    db_url: str,
) -> None:
    """Before migration 12 items had one id across incidents; each incident's are numbered A1, A2 ... in the
    order they were added, new ones continue each incident's numbers, and stored filing keys stay."""
    old = create_engine(normalize_url(db_url))
    assert migrate(old, target=10) == 10
    with old.begin() as conn:
        for room in ("#inc-checkout", "#inc-db"):
            conn.execute(
                text(
                    "INSERT INTO incidents (title, room, status, started_by, started_at) "
                    f"VALUES ('Outage', '{room}', 'resolved', 'alice', :at)"
                ).bindparams(_at(datetime(2024, 3, 1, 10, 2, tzinfo=UTC))),
            )
        for action_id, incident in ((1, 1), (2, 2), (3, 1), (4, 2), (5, 2)):
            conn.execute(
                text(
                    "INSERT INTO action_items (incident_number, title, kind, status, refs, idempotency_key, "
                    f"created_by, created_at) VALUES ({incident}, 'Item {action_id}', 'prevent', 'filed', "
                    f"'[]', 'debrief-0123456789ab-INC-{incident}-A{action_id}', 'alice', :at)"
                ).bindparams(_at(datetime(2024, 3, 1, 11, 0, tzinfo=UTC))),
            )
        conn.execute(
            text(
                "INSERT INTO filing_outbox (action_id, tracker, state, attempts, ref, created_at, updated_at) "
                "VALUES (5, 'jira', 'filed', 1, 'jira:OPS-5', :at, :at)"
            ).bindparams(_at(datetime(2024, 3, 1, 11, 0, tzinfo=UTC))),
        )
    old.dispose()

    engine = Engine.open(db_url)
    try:
        numbered = [(a.id, a.qualified_ref, a.idempotency_key) for a in engine.actions.list()]
        assert numbered == [
            (1, "INC-1/A1", "debrief-0123456789ab-INC-1-A1"),
            (2, "INC-2/A1", "debrief-0123456789ab-INC-2-A2"),
            (3, "INC-1/A2", "debrief-0123456789ab-INC-1-A3"),
            (4, "INC-2/A2", "debrief-0123456789ab-INC-2-A4"),
            (5, "INC-2/A3", "debrief-0123456789ab-INC-2-A5"),
        ]
        assert engine.actions.find("INC-2", 3).id == 5
        # INC-2's next items are A4 and A5; the new key form cannot take the old "INC-2-A5" for its own.
        added = [engine.actions.add("INC-2", f"New {n}", None, None, "bob", at(90)) for n in (4, 5)]
        assert [(a.ref, a.revision) for a in added] == [("A4", 0), ("A5", 0)]
        assert added[1].idempotency_key.endswith("-INC-2.A5")
        with engine.store.engine.connect() as conn:
            synced = conn.execute(text("SELECT synced_revision FROM filing_outbox")).scalars().all()
        assert synced == [0]  # the ticket states the item as it is
    finally:
        engine.close()


def test_a_database_from_a_newer_debrief_is_refused(db_url: str) -> None:
    Store(db_url).close()
    raw = create_engine(normalize_url(db_url))
    with raw.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', :at)"
            ).bindparams(_at(datetime(2030, 1, 1, tzinfo=UTC))),
        )
    raw.dispose()
    expected = f"schema version 99 but this Debrief knows only up to {LATEST_VERSION}"
    with pytest.raises(StoreError, match=expected):
        Store(db_url)


def test_processes_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(Store(db_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with stores[0].engine.connect() as conn:
        versions = conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    for store in stores:
        store.close()
    assert versions == [m.version for m in MIGRATIONS]
