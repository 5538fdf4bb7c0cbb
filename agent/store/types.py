"""Column types that keep the store's promises: datetimes go in as UTC and come out timezone-aware; text that
people typed never holds a raw secret.
"""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from agent.redact import redact
from agent.timestamps import as_utc

# Inside a write transaction (`Store.write`): which redacted columns changed a value, for its audit entry.
redactions: ContextVar[Counter[str] | None] = ContextVar("debrief_redactions", default=None)


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; naive UTC on SQLite (no timezone type there), tagged UTC on read."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _without_nul(value: str) -> str:
    """PostgreSQL refuses NUL in text (and one NUL would sink a whole batch): it carries nothing readable."""
    return value.replace("\x00", "") if "\x00" in value else value


class CleanString(TypeDecorator[str]):
    """A name-like column (room, author, source): stored without NUL characters, on every database alike."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _without_nul(value)


class RedactedText(TypeDecorator[str]):
    """Text that passes the redactor on its way in, however it is written (ORM or Core, insert or update): the
    raw secret never enters the database. Which column redacted something is noted for the audit trail."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        value = _without_nul(value)
        clean = redact(value)
        noted = redactions.get()
        if clean != value and noted is not None:
            noted[self.column] += 1
        return clean
