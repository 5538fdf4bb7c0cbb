"""`debrief replay`: a transcript (DESIGN.md §3.2) through the real plugins on Errbot's test backend.

Each message is delivered as a group message in the transcript's room, from its author, carrying its own `at`
(`extras["at"]`, which the plugins use instead of the clock) and a stable source key, so replaying the same
transcript twice records every message once. Commands run synchronously, so every reply is attributed to the
message that triggered it. The engine state lands in the settings' data dir, where later commands find it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty

from errbot.backends.base import Message
from errbot.backends.test import TestBackend, TestOccupant, TestRoom
from errbot.bootstrap import setup_bot
from errbot.core_plugins.wsview import reset_app
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from agent.engine import Engine
from agent.errors import DebriefError
from agent.settings import Settings
from debrief.bot.config import config_namespace
from debrief.bot.runtime import Runtime, acquire, release


class TranscriptError(DebriefError):
    """The transcript does not follow the format; the message names the first field at fault."""


class TranscriptMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    at: AwareDatetime
    author: StrictStr = Field(alias="from", min_length=1)
    text: StrictStr


class Transcript(BaseModel):
    room: StrictStr = Field(min_length=1)
    messages: list[TranscriptMessage] = Field(min_length=1)


class Reply(BaseModel):
    to: str
    text: str


class ReplayResult(BaseModel):
    incident_id: str | None
    replies: list[Reply]
    dropped: int = 0  # chat lines that could not be recorded (e.g. a time no message can have)


@contextmanager
def replay_settings(settings: Settings, data_dir: Path | None = None) -> Iterator[Settings]:
    """The settings a replay runs with: its own data dir (`data_dir`, else DEBRIEF_REPLAY_DATA_DIR, else a fresh
    temporary one, removed afterwards) with SQLite there, never the live database."""
    chosen = data_dir or settings.replay_data_dir
    with contextlib.ExitStack() as stack:
        if chosen is None:
            chosen = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="debrief-replay-")))
        yield settings.model_copy(update={"data_dir": chosen, "database_url": None})


def parse_transcript(transcript: dict[str, object]) -> Transcript:
    """The validated transcript; `TranscriptError` names the first problem (`messages.2.at: ...`)."""
    try:
        return Transcript.model_validate(transcript)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = " ".join(["transcript", ".".join(str(part) for part in error["loc"])]).strip()
        raise TranscriptError(f"{where}: {error['msg']}") from None


def replay(settings: Settings, transcript: dict[str, object]) -> ReplayResult:
    """Feed `transcript` through the bot in order; the replies, and the room's incident (its latest).

    The incidents a replay starts are marked replayed: drills, which a live bot never reminds anyone of.
    """
    parsed = parse_transcript(transcript)
    replies: list[Reply] = []
    with _engine(settings) as engine, _test_bot(settings) as bot, _runtime(bot) as runtime:
        room = bot.query_room(parsed.room)
        newest_before = engine.incidents.newest_number()
        dropped_before = runtime.engine.capture.dropped
        for message in parsed.messages:
            _deliver(bot, room, message)
            replies += [Reply(to=message.text, text=text) for text in _drain(bot)]
        runtime.flush()
        dropped = runtime.engine.capture.dropped - dropped_before
        engine.incidents.mark_replayed(newest_before)
        latest = engine.incidents.latest_in_room(parsed.room)
    return ReplayResult(incident_id=latest.id if latest else None, replies=replies, dropped=dropped)


def _deliver(bot: TestBackend, room: TestRoom, message: TranscriptMessage) -> None:
    """What the test backend's loop does for one message, but as a group message with the transcript's facts."""
    msg = Message(message.text, extras={"at": message.at, "source": message_key(str(room), message)})
    msg.frm = TestOccupant(message.author, room)
    msg.to = room
    bot.callback_message(msg)
    mentioned = [bot.build_identifier(word[1:]) for word in message.text.split() if word.startswith("@")]
    if mentioned:
        bot.callback_mention(msg, mentioned)


def message_key(room: str, message: TranscriptMessage) -> str:
    """A message's key from what it is (room, time, author, text), not its position: replaying a second
    transcript into the same incident adds its messages, replaying the same one again adds nothing."""
    what = "\x1f".join((room, message.at.isoformat(), message.author, message.text))
    return f"replay:{hashlib.sha256(what.encode()).hexdigest()[:24]}"


@contextmanager
def _runtime(bot: TestBackend) -> Iterator[Runtime]:
    """The plugins' shared runtime, held while the replay reads its capture counters."""
    runtime = acquire(bot)
    try:
        yield runtime
    finally:
        release(bot)


def _drain(bot: TestBackend) -> list[str]:
    texts: list[str] = []
    while True:
        try:
            texts.append(str(bot.outgoing_message_queue.get_nowait()).strip())
        except Empty:
            return texts


@contextmanager
def _test_bot(settings: Settings) -> Iterator[TestBackend]:
    """Errbot's test backend with Debrief's plugins, commands run in the caller's thread, no webserver."""
    config = config_namespace(settings, backend="Test")
    config.BOT_ASYNC = False
    config.DEBRIEF_REPLAY = (
        True  # reminders run on the wall clock, not the transcript's: none during a replay
    )
    config.STORAGE = "Memory"
    config.BOT_LOG_FILE = None
    with _errbot_warnings_only():
        bot = setup_bot(config.BACKEND, logging.getLogger("debrief.replay.errbot"), config)
        with _running(bot):
            yield bot


@contextmanager
def _running(bot: TestBackend) -> Iterator[None]:
    bot.connect_callback()
    try:
        _drain(bot)  # start-up notices to the admins are not replies to the transcript
        yield
    finally:
        bot.disconnect_callback()
        bot.shutdown()
        bot.flow_executor._pool.close()
        bot.flow_executor._pool.join()
        reset_app()


@contextmanager
def _errbot_warnings_only() -> Iterator[None]:
    """Keep Errbot's start-up chatter off stderr: a replay's output is its replies."""
    errbot_log, root = logging.getLogger("errbot"), logging.getLogger()
    level, handlers = errbot_log.level, list(root.handlers)
    errbot_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        errbot_log.setLevel(level)
        for handler in set(root.handlers) - set(handlers):  # Errbot adds its console handler to the root
            root.removeHandler(handler)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """The replay's own engine, opened (and the write lock taken) before the bot starts: a database that
    cannot be used stops the replay with one line, not with plugins that failed to activate."""
    engine = Engine.from_settings(settings)
    try:
        engine.store.check_writable()
        yield engine
    finally:
        engine.close()
