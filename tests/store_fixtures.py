"""Database fixtures for the engine tests: every test runs on SQLite and, when configured, on PostgreSQL.

Import the fixtures a module uses (`from tests.store_fixtures import backend, db_url, engine`) and list
them in its `__all__`. PostgreSQL runs only when DEBRIEF_TEST_POSTGRES_URL is set
(`eval "$(bash .ci/postgres.sh)"`); each test then gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text

from agent.engine import Engine
from agent.store import normalize_url

POSTGRES_URL = os.environ.get("DEBRIEF_TEST_POSTGRES_URL", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="DEBRIEF_TEST_POSTGRES_URL is not set"),
    ),
]
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float = 0) -> datetime:
    """A time `minutes` after T0 (10:00 UTC on 2024-03-01)."""
    return T0 + timedelta(minutes=minutes)


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file in `tmp_path`, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'debrief.db'}"
        return
    schema = f"test_{uuid4().hex[:16]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = normalize_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = Engine.open(db_url)
    yield engine
    engine.close()
