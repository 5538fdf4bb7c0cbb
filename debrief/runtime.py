"""The one Engine (with its capture queue) that all of a bot's Debrief plugins share.

Created when the first Debrief plugin activates and closed when the last one deactivates, so a bot owns exactly one
database connection pool and one capture thread, and a test that starts a fresh bot gets a fresh engine.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agent.engine import Engine
from agent.errors import DebriefError
from agent.models import Incident
from agent.redact import redact
from agent.settings import Settings, load_settings
from debrief.room_capture import RoomCapture

FLUSH_TIMEOUT_S = 5.0


class NoOpenIncident(DebriefError):
    """A room command needs an open incident and the room has none."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    capture: RoomCapture
    # Slow work that chat callbacks (on the backend's receive thread) hand off, in arrival order.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="debrief-callbacks")
    )
    users: int = 0

    def open_incident(self, room: str) -> Incident:
        """The room's open incident; `NoOpenIncident` tells the user how to start one."""
        incident = self.engine.incidents.open_in_room(room)
        if incident is None:
            raise NoOpenIncident(
                "There is no open incident in this room; start one with !incident start TITLE"
            )
        return incident

    def incident(self, room: str, incident_id: str | None) -> Incident:
        """The incident named by `incident_id`, else the room's open incident."""
        return self.engine.incidents.get(incident_id) if incident_id else self.open_incident(room)

    def flush(self) -> None:
        """Wait until every captured message is committed, so reads see what was said."""
        self.capture.flush(FLUSH_TIMEOUT_S)

    def close(self) -> None:
        """Finish handed-off work, commit the capture queues, release the database."""
        self.background.shutdown(wait=True)
        self.capture.close()
        self.engine.close()


_lock = threading.Lock()
_runtimes: dict[int, Runtime] = {}


def acquire(bot: object) -> Runtime:
    """The bot's runtime, created on first use from the bot config's `DEBRIEF_SETTINGS`."""
    with _lock:
        runtime = _runtimes.get(id(bot))
        if runtime is None:
            settings = getattr(getattr(bot, "bot_config", None), "DEBRIEF_SETTINGS", None) or load_settings()
            engine = Engine.from_settings(settings)
            runtime = Runtime(settings=settings, engine=engine, capture=RoomCapture(engine))
            _runtimes[id(bot)] = runtime
            redact_outgoing(bot)
        runtime.users += 1
        return runtime


class UsesRuntime:
    """Mixin for Debrief's Errbot plugins: `self.runtime` while the plugin is active.

    Not a `BotPlugin` itself, so Errbot's plugin discovery (every BotPlugin subclass in a plugin module) never
    mistakes it for a plugin. List it before `BotPlugin`: `class DebriefX(UsesRuntime, BotPlugin)`.
    """

    runtime: Runtime
    _bot: Any

    def activate(self) -> None:
        super().activate()  # type: ignore[misc]
        self.runtime = acquire(self._bot)

    def deactivate(self) -> None:
        super().deactivate()  # type: ignore[misc]
        release(self._bot)


def redact_outgoing(bot: object) -> None:
    """Every message the bot sends passes the redactor: a secret typed into a command is never echoed back."""
    send = getattr(bot, "send_message", None)
    if send is None or getattr(send, "redacts", False):
        return

    def send_message(msg: Any) -> Any:
        if isinstance(getattr(msg, "body", None), str):
            msg.body = redact(msg.body)
        return send(msg)

    send_message.redacts = True  # type: ignore[attr-defined]
    setattr(bot, "send_message", send_message)  # noqa: B010


def release(bot: object) -> None:
    """Drop one plugin's use; the last one out flushes the capture queue and closes the engine."""
    with _lock:
        runtime = _runtimes.get(id(bot))
        if runtime is None:
            return
        runtime.users -= 1
        if runtime.users > 0:
            return
        del _runtimes[id(bot)]
    runtime.close()
