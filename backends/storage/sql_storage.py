"""Errbot's storage (`STORAGE = "DebriefSQL"`) in Debrief's SQL store instead of Errbot's default Shelf.

The Shelf (`dbm.dumb`) rewrites a value in place but its index only on close: a bot killed during its first run
leaves an index that no longer fits the data, and every later start fails until the files are deleted. Here every
`self[key] = value` of a plugin or backend is one committed transaction on the `bot_state` table (SQLite WAL or
PostgreSQL, `agent.store.BotState`), so a crash loses no write that returned.

Values are pickled: Errbot's storage API takes any picklable object, as its Shelf does. Unpickling is safe here
because only the bot writes this table; write access to Debrief's database is trusted like write access to its
data dir, where the Shelf kept the same pickles.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from typing import Any

from errbot.storage.base import StorageBase, StoragePluginBase

from agent.store import BotState, Store, StoreError, normalize_url

log = logging.getLogger(__name__)


class DebriefSQLStorage(StorageBase):
    """One namespace of Errbot's state (`core`, a plugin's name, the backend's), read through to the database."""

    def __init__(self, state: BotState, on_close: Callable[[], None]) -> None:
        self._state = state
        self._on_close = on_close

    def get(self, key: str) -> Any:
        return pickle.loads(self._state.get(key))

    def set(self, key: str, value: Any) -> None:
        self._state.put(key, pickle.dumps(value))

    def remove(self, key: str) -> None:
        self._state.remove(key)

    def len(self) -> int:
        return self._state.count()

    def keys(self) -> list[str]:
        return self._state.keys()

    def close(self) -> None:
        self._on_close()


class DebriefSQLStoragePlugin(StoragePluginBase):
    """Opens the store at `STORAGE_CONFIG["url"]` at once, so a wrong database fails the start with one line.

    The namespaces share its connections, which are released when the last one closes (reopened on demand).
    """

    def __init__(self, bot_config: Any) -> None:
        super().__init__(bot_config)
        url = self._storage_config.get("url")
        if not url:
            raise StoreError('STORAGE_CONFIG has no "url": the DebriefSQL storage needs the database URL')
        self._url = str(url)
        log.info(
            "Opening %s for Errbot's state", normalize_url(self._url).render_as_string(hide_password=True)
        )
        self._lock = threading.Lock()
        self._store: Store | None = Store(self._url)
        self._open = 0

    def open(self, namespace: str) -> DebriefSQLStorage:
        with self._lock:
            if self._store is None:
                self._store = Store(self._url)
            self._open += 1
            return DebriefSQLStorage(BotState(self._store, namespace), self._closed)

    def _closed(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0 and self._store is not None:
                self._store.close()
                self._store = None
