"""The chat host's own key-value state (for Errbot: plugin settings, conversation references, ACL data).

One `bot_state` row per (namespace, key); the value is bytes the host encodes. Every write is one transaction,
committed before it returns, and every read asks the database (nothing is cached), so a crash loses no write that
returned and bots sharing one PostgreSQL database see each other's writes.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select

from agent.store.dedupe import upsert
from agent.store.store import Store
from agent.store.tables import BotStateRow


class BotState:
    """One namespace of the host's state, read and written like a dict of bytes."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def get(self, key: str) -> bytes:
        """The value stored under `key`; `KeyError` when there is none."""
        with self.store.read() as session:
            value = session.scalar(select(BotStateRow.value).where(self._is(key)))
        if value is None:
            raise KeyError(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        """Store `value` under `key`, replacing what was there; committed when this returns."""
        with self.store.write() as session:
            row = {"namespace": self.namespace, "key": key, "value": value}
            upsert(session, BotStateRow, row, ("namespace", "key"))

    def remove(self, key: str) -> None:
        """Delete `key`; committed when this returns. `KeyError` when there is none."""
        with self.store.write() as session:
            removed = session.execute(delete(BotStateRow).where(self._is(key)).returning(BotStateRow.key))
            found = removed.first() is not None
        if not found:
            raise KeyError(key)

    def keys(self) -> list[str]:
        with self.store.read() as session:
            query = select(BotStateRow.key).where(BotStateRow.namespace == self.namespace)
            return sorted(session.scalars(query))  # in Python: the same order on every database

    def count(self) -> int:
        with self.store.read() as session:
            query = (
                select(func.count()).select_from(BotStateRow).where(BotStateRow.namespace == self.namespace)
            )
            return session.scalar(query) or 0

    def _is(self, key: str) -> ColumnElement[bool]:
        return (BotStateRow.namespace == self.namespace) & (BotStateRow.key == key)
