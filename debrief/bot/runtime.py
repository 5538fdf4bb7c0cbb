"""The one Engine (with its capture queue) that all of a bot's Debrief plugins share.

Created when the first Debrief plugin activates and closed when the last one deactivates, so a bot owns exactly one
database connection pool and one capture thread, and a test that starts a fresh bot gets a fresh engine.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agent.capture import RoomMessage, Settled
from agent.engine import Engine
from agent.people import People
from agent.settings import Settings, load_settings

FLUSH_TIMEOUT_S = 5.0


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    # Slow work that chat callbacks (on the backend's receive thread) hand off, in arrival order.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="debrief-callbacks")
    )
    users: int = 0

    def capture(self, message: RoomMessage, settled: Settled | None = None) -> None:
        """Queue a chat line for its room's open incident; never waits for the database. `settled` is called
        once it is committed (or needs no write)."""
        self.engine.capture.submit(message, settled)

    def flush(self) -> None:
        """Wait until every captured message is committed, so reads see what was said."""
        self.engine.capture.flush(FLUSH_TIMEOUT_S)

    def close(self) -> None:
        """Finish handed-off work, commit the capture queue, release the database."""
        self.background.shutdown(wait=True)
        self.engine.close()


_lock = threading.Lock()
_runtimes: dict[int, Runtime] = {}


def acquire(bot: object) -> Runtime:
    """The bot's runtime, created on first use from the bot config's `DEBRIEF_SETTINGS`."""
    with _lock:
        runtime = _runtimes.get(id(bot))
        if runtime is None:
            settings = getattr(getattr(bot, "bot_config", None), "DEBRIEF_SETTINGS", None) or load_settings()
            runtime = Runtime(settings=settings, engine=Engine.from_settings(settings))
            _runtimes[id(bot)] = runtime
            _name_people(bot, runtime.engine)
        runtime.users += 1
        return runtime


def _name_people(bot: object, engine: Engine) -> None:
    """A backend that names people in its replies starts with the names the database remembers."""
    people = getattr(bot, "people", None)
    if isinstance(people, People):
        for person_id, name in engine.people.names().items():
            people.learn(person_id, name)


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


class UsesRuntime:
    """Mixin for Debrief's Errbot plugins: `self.runtime` (and `self.engine`) while the plugin is active.

    Not a `BotPlugin` itself, so Errbot's plugin discovery (every BotPlugin subclass in a plugin module) never
    mistakes it for a plugin. List it before `BotPlugin`: `class DebriefX(UsesRuntime, BotPlugin)`.
    """

    runtime: Runtime
    _bot: Any

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def activate(self) -> None:
        super().activate()  # type: ignore[misc]
        self.runtime = acquire(self._bot)

    def deactivate(self) -> None:
        super().deactivate()  # type: ignore[misc]
        release(self._bot)
