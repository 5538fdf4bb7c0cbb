"""Opening the database: URL handling, SQLite pragmas, transactions, migrations at open, the audit trail."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from agent.models import AuditEntry
from agent.redact import redact, redact_tree
from agent.store.errors import StoreError
from agent.store.migrations import migrate
from agent.store.tables import AuditRow
from agent.store.types import redactions

# The audit trail's actor for what Debrief does on its own (redacting what was about to be stored).
REDACTOR = "debrief"
# Seconds a SQLite writer waits for the lock before giving up (busy_timeout), unless the settings say otherwise.
SQLITE_LOCK_TIMEOUT_S = 30.0


def normalize_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` (and `postgres://`) mean the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"database URL must be sqlite:// or postgresql://, got {parsed.drivername}://")
    return parsed


class Store:
    """One database: an SQLAlchemy engine and session factory, migrated to the current schema on open."""

    def __init__(self, url: str, lock_timeout_s: float = SQLITE_LOCK_TIMEOUT_S) -> None:
        self.url = normalize_url(url)
        self.engine = _create_engine(self.url, lock_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self.schema_version = migrate(self.engine, on_rewritten=self._forget_old_pages)
        except DBAPIError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database at {self.display_url}: {first_line(exc)}") from exc
        except BaseException:
            self.engine.dispose()
            raise

    def check_writable(self) -> None:
        """Take the write lock and let it go: `StoreError` with the reason (read-only, locked) if that fails.

        For start-up, so a bot never comes up on a database it cannot write to.
        """
        try:
            with self.write() as session:
                if (
                    self.dialect == "sqlite"
                ):  # rewriting the header is a real write, refused on a read-only file
                    version = int(session.execute(text("PRAGMA user_version")).scalar() or 0)
                    session.execute(text(f"PRAGMA user_version = {version}"))
                elif session.execute(text("SHOW transaction_read_only")).scalar() == "on":
                    raise StoreError(f"cannot write to the database at {self.display_url}: it is read-only")
        except DBAPIError as exc:
            raise StoreError(
                f"cannot write to the database at {self.display_url}: {first_line(exc)}"
            ) from exc

    def _forget_old_pages(self, tables: Sequence[str]) -> None:
        """After stored text was redacted, its old versions leave the database files: SQLite's freed pages are
        zeroed (`secure_delete`) and its write-ahead log truncated; PostgreSQL rewrites the tables (`VACUUM
        FULL`). PostgreSQL's own write-ahead log keeps them until it recycles its segments."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return
            for table in tables:
                conn.exec_driver_sql(f"VACUUM FULL {table}")

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing is committed."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session that takes the write lock up front and commits on success, rolls back on error.

        Text columns redact on their way in (`RedactedText`); when they did, the same transaction records an
        audit entry saying where and what kind of secret was removed (never the secret).
        """
        noted: Counter[str] = Counter()
        token = redactions.set(noted)
        try:
            with self._sessions() as session, session.begin():
                session.connection(execution_options={"debrief_write": True})
                yield session
                session.flush()
                if noted:
                    add_audit(session, REDACTOR, "redact", None, {"columns": dict(sorted(noted.items()))})
        finally:
            redactions.reset(token)

    def audit(self, actor: str, action: str, incident_id: str | None, detail: str | dict[str, Any]) -> None:
        """Append one entry to the audit trail in its own transaction."""
        with self.write() as session:
            add_audit(session, actor, action, incident_id, detail)

    def audit_trail(self, incident_id: str | None = None) -> list[AuditEntry]:
        """The audit trail, oldest first; only one incident's entries when `incident_id` is given."""
        query = select(AuditRow).order_by(AuditRow.id)
        if incident_id is not None:
            query = query.where(AuditRow.incident_id == incident_id)
        with self.read() as session:
            return [
                AuditEntry(
                    id=row.id,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    incident_id=row.incident_id,
                    detail=row.detail,
                )
                for row in session.scalars(query)
            ]

    def close(self) -> None:
        self.engine.dispose()


def add_audit(
    session: Session, actor: str, action: str, incident_id: str | None, detail: str | dict[str, Any]
) -> None:
    """Append an audit entry inside the caller's transaction, so it commits with the change it records.

    The detail is redacted: it often quotes what people typed (an impact, a title).
    """
    text = (
        redact(detail)
        if isinstance(detail, str)
        else json.dumps(redact_tree(detail), sort_keys=True, default=str)
    )
    session.add(
        AuditRow(at=datetime.now(UTC), actor=actor, action=action, incident_id=incident_id, detail=text)
    )


def _create_engine(url: URL, lock_timeout_s: float) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url, lock_timeout_s)
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no database driver for {url.drivername}:// ({exc})") from None


def _sqlite_engine(url: URL, lock_timeout_s: float) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        # One shared connection, or every thread would see its own empty database.
        engine = create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": lock_timeout_s},
        )
    else:
        # SQLite creates the file but not its folder (the data dir on a first start).
        folder = Path(str(url.database)).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder {folder}: {exc.strerror}") from None
        engine = create_engine(url, connect_args={"timeout": lock_timeout_s})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL + synchronous=NORMAL: a commit survives a process crash without an fsync per transaction."""
    # We issue BEGIN ourselves (see _sqlite_on_begin); pysqlite's implicit transactions skip DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed: replaced text leaves no trace
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch to WAL once per database file (it persists); the switch needs a lock the busy timeout ignores."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() in ("wal", "memory"):
        return
    deadline = time.monotonic() + SQLITE_LOCK_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(conn: Connection) -> None:
    """Writers lock at BEGIN (IMMEDIATE), so they queue on busy_timeout instead of failing mid-way."""
    immediate = conn.get_execution_options().get("debrief_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def first_line(exc: BaseException) -> str:
    """A database error as one line: the driver's message, never the SQL or a traceback."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
