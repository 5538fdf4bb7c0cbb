"""A Debrief bot on Errbot's test backend (`TestBot`, what the `testbot` fixture runs), one data dir per test.

The stock `testbot` fixture takes its config from module attributes, fixed for the whole module; these fixtures
build the same `TestBot` from per-test settings so every test starts with an empty database. `Chat` delivers
group messages the way a chat backend does (sender, room, the platform's timestamp in `extras`) through the bot's
real `callback_message`, so commands, ACLs and capture all run as in production.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from errbot.backends.base import Message
from errbot.backends.test import TestOccupant

from agent.engine import Engine
from agent.settings import Settings, load_settings
from debrief.bot.config import errbot_config, plugins_dir
from tests.testbot import DebriefTestBot

with warnings.catch_warnings():
    # Errbot's Webserver plugin imports webtest -> webob, which imports the deprecated `cgi` module; under
    # warnings-as-errors that import would fail inside Errbot's plugin loader and leave the webhooks unserved.
    warnings.simplefilter("ignore", DeprecationWarning)
    import webtest  # noqa: F401

ADMIN = "root"
ROOM = "#inc-checkout"
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


class Chat:
    """Talk to the bot as anyone, in any room, at any time."""

    def __init__(self, testbot: DebriefTestBot, settings: Settings) -> None:
        self.testbot = testbot
        self.settings = settings

    def say(
        self,
        text: str,
        frm: str = "alice",
        room: str = ROOM,
        at: datetime | None = None,
        extras: dict[str, Any] | None = None,
    ) -> None:
        """Deliver a group message; nothing is awaited."""
        bot = self.testbot.bot
        msg = Message(text, extras={**({"at": at} if at else {}), **(extras or {})})
        msg.frm = TestOccupant(frm, bot.query_room(room))
        msg.to = bot.query_room(room)
        bot.callback_message(msg)

    def ask(
        self, text: str, frm: str = "alice", room: str = ROOM, at: datetime | None = None, **extras: Any
    ) -> str:
        """Deliver a message and return the bot's (first) reply."""
        self.say(text, frm, room, at, extras)
        return str(self.testbot.pop_message(timeout=5))

    def next_reply(self, timeout: float = 5) -> str:
        return str(self.testbot.pop_message(timeout=timeout))

    def assert_silent(self, timeout: float = 0.3) -> None:
        """Nothing more was said by the bot."""
        with pytest.raises(Empty):
            reply = self.testbot.pop_message(timeout=timeout)
            pytest.fail(f"unexpected reply: {reply}")

    def engine(self) -> Engine:
        """A second engine on the bot's database, to check what was stored (close it after use)."""
        return Engine.from_settings(self.settings)


def bot_settings(tmp_path: Path, **overrides: object) -> Settings:
    """A test bot's settings under `tmp_path` (SQLite, no trackers, `root` the admin), with `overrides`."""
    return load_settings(
        DEBRIEF_DATA_DIR=tmp_path / "data",
        DEBRIEF_KNOWLEDGE_DIR=tmp_path / "knowledge",
        DEBRIEF_BACKEND="Test",
        DEBRIEF_DATABASE_URL=None,
        DEBRIEF_ADMINS=ADMIN,
        DEBRIEF_TRACKERS="none",
        **overrides,
    )


@pytest.fixture
def debrief_settings(tmp_path: Path) -> Settings:
    return bot_settings(tmp_path)


@contextmanager
def running_chat(settings: Settings, log_dir: Path) -> Iterator[Chat]:
    """A started test bot with Debrief's plugins, stopped (and its log handlers closed) on exit."""
    root = logging.getLogger()
    level_before, handlers_before = root.level, list(root.handlers)
    extra_config = {**errbot_config(settings, backend="Test"), "BOT_LOG_FILE": str(log_dir / "errbot.log")}
    testbot = DebriefTestBot(
        extra_plugin_dir=str(plugins_dir()), loglevel=logging.INFO, extra_config=extra_config
    )
    testbot.start()
    try:
        yield Chat(testbot, settings)
    finally:
        testbot.stop()
        for handler in set(root.handlers) - set(handlers_before):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level_before)


@pytest.fixture
def chat(debrief_settings: Settings, tmp_path: Path) -> Iterator[Chat]:
    """A started bot with Debrief's plugins, for one test."""
    with running_chat(debrief_settings, tmp_path) as started:
        yield started
