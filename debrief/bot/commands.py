"""The edges every Debrief chat command shares: reading an optional `INC-n`, and turning errors into replies.

A command raises `DebriefError` (the engine's or `ChatInputError`) and `replies_errors` answers with its sentence
instead of Errbot's "Computer says nooo" and a traceback; any other exception is logged and answered with one
line. It works for commands that return a reply and for generator commands that yield several.
"""

from __future__ import annotations

import functools
import inspect
import logging
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
    """Answer a command's `DebriefError` with its sentence, and anything else with one line (logged)."""
    if inspect.isgeneratorfunction(command):

        @functools.wraps(command)
        def generator(*args: Any, **kwargs: Any) -> Iterator[str]:
            try:
                yield from command(*args, **kwargs)
            except Exception as exc:
                yield _failure(command, exc)

        return generator

    @functools.wraps(command)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            return _failure(command, exc)

    return plain


def _failure(command: Callable[..., Any], exc: Exception) -> str:
    if isinstance(exc, DebriefError):
        return str(exc)
    log.error("%s failed", command.__name__, exc_info=exc)
    if isinstance(exc, SQLAlchemyError):
        return (
            f"Sorry, the database failed ({first_line(exc)}); nothing was changed. The log has the details."
        )
    return FAILED
