"""The engine: one object holding the store and the services every chat command, CLI command and test uses."""

from __future__ import annotations

import threading

from agent.actions import ActionService
from agent.capture import CaptureWriter
from agent.identity import Roles
from agent.incidents import IncidentService
from agent.people import Directory
from agent.settings import Settings
from agent.store import Store
from agent.timeline import Timeline


class Engine:
    """Incidents, timeline, actions and people's names over one database. Cheap to build: no models, no network."""

    def __init__(self, store: Store, roles: Roles | None = None) -> None:
        self.store = store
        self.roles = roles or Roles()
        self.incidents = IncidentService(store, self.roles)
        self.timeline = Timeline(store, self.roles)
        self.actions = ActionService(store, self.roles)
        self.people = Directory(store)
        self._capture: CaptureWriter | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        """Open (creating or upgrading) the configured database: SQLite in the data dir unless set."""
        return cls(Store(settings.database, settings.database_lock_timeout_s), Roles.of(settings.admins))

    @classmethod
    def open(cls, url: str, admins: tuple[str, ...] = ()) -> Engine:
        return cls(Store(url), Roles.of(admins))

    @property
    def capture(self) -> CaptureWriter:
        """The shared timeline capture writer, started on first use."""
        with self._lock:
            if self._capture is None:
                self._capture = CaptureWriter(self.timeline, room_incidents=self.incidents.open_by_room)
            return self._capture

    def close(self) -> None:
        """Commit queued timeline events, then release the database."""
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.close()
        self.store.close()


def check_database(settings: Settings) -> None:
    """`StoreError` with the reason unless the configured database opens, is current and takes writes."""
    engine = Engine.from_settings(settings)
    try:
        engine.store.check_writable()
    finally:
        engine.close()
