"""The edges every Debrief chat command shares: reading an optional `INC-n`, and turning errors into replies.

A command raises `DebriefError` (the engine's or `ChatInputError`) and `replies_errors` answers with its sentence
instead of Errbot's "Computer says nooo" and a traceback; any other exception is logged and answered with one
line. It works for commands that return a reply and for generator commands that yield several.
"""

from __future__ import annotations

import functools
import inspect
import logging
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from errbot.backends.base import Identifier, Message, RoomOccupant
from sqlalchemy.exc import SQLAlchemyError

from agent.errors import DebriefError
from agent.store import first_line

log = logging.getLogger(__name__)

FAILED = "Sorry, that failed; the error is in the bot's log."


class ChatInputError(DebriefError):
    """A command's arguments do not parse; the message says what was expected."""


def incident_argument(args: str, usage: str) -> str | None:
    """The optional `INC-n` a command takes (`!actions INC-3`); None when absent, `ChatInputError` otherwise."""
    words = args.split()
    if len(words) > 1 or (words and not words[0].upper().startswith("INC-")):
        raise ChatInputError(usage)
    return words[0] if words else None


def reply_target(msg: Message) -> Identifier:
    """Where replies to `msg` go: its room for group messages, the person for direct messages."""
    return msg.frm.room if isinstance(msg.frm, RoomOccupant) else msg.frm


def announce_to(plugin: Any, msg: Message) -> Callable[[str], None]:
    """Say something in reply to `msg` right away, before a command's slow work finishes (progress)."""
    return lambda text: plugin.send(reply_target(msg), text, in_reply_to=msg)


def replies_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a command's `DebriefError` with its sentence, and anything else with one line (logged). The
    command's arguments come without invisible characters at their ends (`trimmed`)."""
    if inspect.isgeneratorfunction(command):

        @functools.wraps(command)
        def generator(*args: Any, **kwargs: Any) -> Iterator[str]:
            try:
                yield from command(*_trimmed_arguments(args), **kwargs)
            except Exception as exc:
                yield _failure(command, exc)

        return generator

    @functools.wraps(command)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*_trimmed_arguments(args), **kwargs)
        except Exception as exc:
            return _failure(command, exc)

    return plain


def trimmed(text: str) -> str:
    """`text` without whitespace or format characters (zero-width spaces and joiners, bidi marks, soft hyphens)
    at its ends: a zero-width space typed alone is no text. It passed every "say what" check as a summary,
    impact and root cause, and a postmortem was published with nothing visible in them."""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def _trimmed_arguments(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Errbot calls a command with (plugin, message, arguments)."""
    if len(args) == 3 and isinstance(args[2], str):
        return (*args[:2], trimmed(args[2]))
    return args


def _failure(command: Callable[..., Any], exc: Exception) -> str:
    if isinstance(exc, DebriefError):
        return str(exc)
    log.error("%s failed", command.__name__, exc_info=exc)
    if isinstance(exc, SQLAlchemyError):
        return (
            f"Sorry, the database failed ({first_line(exc)}); nothing was changed. The log has the details."
        )
    return FAILED
