"""INSERT ... ON CONFLICT for SQLite and PostgreSQL: how duplicates are skipped (or a row replaced), not failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def _statement(
    session: Session,
    model: type[DeclarativeBase],
    conflict: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> Any:
    """`where` names a partial unique index by its predicate; both databases need it to match that index."""
    dialect = session.get_bind().dialect.name
    table = cast(Table, model.__table__)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(conflict), index_where=where
        )
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
    raise ValueError(f"unsupported dialect {dialect}")  # normalize_url admits only the two above


def insert_ignore(
    session: Session, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """Insert `rows`, skipping any that collide on the unique `conflict` columns; return how many went in."""
    if not rows:
        return 0
    # Count RETURNING rows: rowcount after a batched executemany is not reliable on every driver (psycopg).
    table = cast(Table, model.__table__)
    statement = _statement(session, model, conflict).returning(*table.primary_key.columns)
    return len(session.execute(statement, list(rows)).all())


def insert_ignore_one(
    session: Session,
    model: type[DeclarativeBase],
    row: dict[str, Any],
    conflict: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> int | None:
    """Insert one row unless it collides on `conflict` (a partial index: also give its `where`).

    Return its primary key, or None for a duplicate.
    """
    table = cast(Table, model.__table__)
    statement = _statement(session, model, conflict, where).values(row).returning(*table.primary_key.columns)
    found = session.execute(statement).scalar_one_or_none()
    return None if found is None else int(found)


def upsert(
    session: Session, model: type[DeclarativeBase], row: dict[str, Any], conflict: Sequence[str]
) -> None:
    """Insert `row`, or update the row it collides with on `conflict` to its other values: one statement, so two
    writers inserting the same key at once cannot collide."""
    table = cast(Table, model.__table__)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(row)
    changed = {column: statement.excluded[column] for column in row if column not in conflict}
    session.execute(statement.on_conflict_do_update(index_elements=list(conflict), set_=changed))
