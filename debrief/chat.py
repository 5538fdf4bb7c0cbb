"""What Debrief needs from a chat message on any backend: room, author, the source's own time, message key.

Backends differ: Slack puts its `ts` in `msg.extras["slack_event"]`, the Text console has no timestamp, a replay
passes `extras["at"]`. Every plugin reads messages through `context_of` so they all agree on these four facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from errbot.backends.base import Message, RoomOccupant

from agent.errors import DebriefError
from agent.timestamps import as_utc

# Reactions that pin a message as a key timeline event (Slack names them pushpin / round_pushpin).
PIN_REACTIONS = frozenset({"pushpin", "round_pushpin", "pin"})

_SLACK_CHANNEL = re.compile(r"<#([CG][0-9A-Z]+)(?:\|[^>]*)?>")


class ChatInputError(DebriefError):
    """A command's arguments do not parse; the message says what was expected."""


@dataclass(frozen=True)
class ChatContext:
    room: str
    author: str
    at: datetime
    source: str | None


def context_of(msg: Message) -> ChatContext:
    extras = msg.extras or {}
    room = room_of(msg)
    return ChatContext(
        room=room, author=user_name(msg.frm), at=message_time(extras), source=message_source(extras)
    )


def room_of(msg: Message) -> str:
    """The conversation's id: the room for group messages, the person for a one-to-one chat."""
    if isinstance(msg.frm, RoomOccupant):
        return stable_room(str(msg.frm.room))
    if msg.is_group:
        return stable_room(str(msg.to))
    return str(msg.frm)


def stable_room(room: str) -> str:
    """Slack shows a channel as `<#C123|name>`; keep only the id, so a renamed channel keeps its incident."""
    match = _SLACK_CHANNEL.fullmatch(room)
    return f"<#{match.group(1)}>" if match else room


def user_name(identifier: object) -> str:
    """`@alice`, `alice` and Slack's `<@U123>` all name one user: `alice`, `U123`."""
    person = getattr(identifier, "person", identifier)
    return str(person).strip().removeprefix("<").removesuffix(">").removeprefix("@").strip()


def message_time(extras: Mapping[str, Any]) -> datetime:
    """The platform's own timestamp when the message carries one, else now (UTC)."""
    at = extras.get("at")
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if isinstance(at, datetime):
        return as_utc(at)
    slack_ts = _slack_event(extras).get("ts")
    if slack_ts:
        return slack_time(str(slack_ts))
    return datetime.now(UTC)


def slack_time(ts: str) -> datetime:
    """Slack's `ts` ("1709287380.000100": seconds.microseconds) exactly, without float rounding."""
    seconds, _, micros = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int(micros.ljust(6, "0")[:6]))


def message_source(extras: Mapping[str, Any]) -> str | None:
    """A stable key for the source message (dedupe and pins), when the backend gives one."""
    if isinstance(extras.get("source"), str):
        return str(extras["source"])
    event = _slack_event(extras)
    edited = event.get("message")  # a message_changed event carries the message it changed
    message: Mapping[str, Any] = edited if isinstance(edited, dict) else event
    if event.get("channel") and message.get("ts"):
        return slack_source(str(event["channel"]), str(message["ts"]))
    return None


def reaction_source(reacted_to: Mapping[str, Any]) -> str | None:
    """The key of the message a reaction points at (Slack: its channel and ts)."""
    if reacted_to.get("channel") and reacted_to.get("ts"):
        return slack_source(str(reacted_to["channel"]), str(reacted_to["ts"]))
    return None


def slack_source(channel: str, ts: str) -> str:
    return f"slack:{channel}:{ts}"


def clock(at: datetime) -> str:
    """How times are shown in chat: UTC, to the second, unambiguous across time zones."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def user_errors(command: Callable[..., str]) -> Callable[..., str]:
    """Reply with a DebriefError's sentence instead of Errbot's 'Computer says nooo' and a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return command(*args, **kwargs)
        except DebriefError as exc:
            return str(exc)

    return wrapper


def _slack_event(extras: Mapping[str, Any]) -> Mapping[str, Any]:
    event = extras.get("slack_event")
    return event if isinstance(event, dict) else {}
