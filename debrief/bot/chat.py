"""What Debrief needs from a chat message on any backend: room, author, the source's own time, message key.

Backends put the platform's facts into `msg.extras`: `at` (the platform's timestamp; a replay passes the
transcript's), `source` (a stable key of the message, for dedupe and pins), where the platform's room name is
not stable, `room` (Slack keys a channel by id, so a renamed channel keeps its incident), where the author's id
is opaque, `author_name` (Teams: the display name the timeline shows; roles still go by the id), and
`author_shown`, the name the platform shows for the author (Slack, Teams), which documents use for the id. Every
plugin reads messages through `context_of`, so they all agree on these facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from errbot.backends.base import Message, RoomOccupant

from agent.identity import normalise_user
from agent.incidents import Asked, IncidentRef, InRoom
from agent.timestamps import as_utc

# Reactions that pin a message as a key timeline event (Slack names them pushpin / round_pushpin).
PIN_REACTIONS = frozenset({"pushpin", "round_pushpin", "pin"})


@dataclass(frozen=True)
class ChatContext:
    room: str
    author: str
    at: datetime
    source: str | None
    name: str = ""  # how the timeline names the author: the display name where the id is opaque (Teams)
    shown: str = ""  # the name the platform shows for the author, where it has one (`agent.people`)

    def incident(self, incident_id: str | None = None) -> IncidentRef:
        """The incident a command means: the one it names (`INC-n`, seen only from its own room or by an admin),
        else the room's latest."""
        return Asked(incident_id, self.room, self.author) if incident_id else InRoom(self.room)


def context_of(msg: Message) -> ChatContext:
    extras = msg.extras or {}
    author = user_name(msg.frm)
    named, shown = extras.get("author_name"), extras.get("author_shown")
    return ChatContext(
        room=room_of(msg),
        author=author,
        at=message_time(extras),
        source=message_source(extras),
        name=named.strip() if isinstance(named, str) and named.strip() else author,
        shown=shown.strip() if isinstance(shown, str) else "",
    )


def room_of(msg: Message) -> str:
    """The conversation's id: the room for group messages, the person for a one-to-one chat."""
    room = (msg.extras or {}).get("room")
    if isinstance(room, str) and room:
        return room
    if isinstance(msg.frm, RoomOccupant):
        return str(msg.frm.room)
    if msg.is_group:
        return str(msg.to)
    return str(msg.frm)


def user_name(identifier: object) -> str:
    """The person behind an Errbot identifier, as the engine names users (`agent.identity.normalise_user`)."""
    return normalise_user(str(getattr(identifier, "person", identifier)))


def message_time(extras: Mapping[str, Any]) -> datetime:
    """The platform's own timestamp when the message carries one, else now (UTC)."""
    at = extras.get("at")
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if isinstance(at, datetime):
        return as_utc(at)
    return datetime.now(UTC)


def message_source(extras: Mapping[str, Any]) -> str | None:
    """A stable key for the source message (dedupe and pins), when the backend gives one."""
    source = extras.get("source")
    return source if isinstance(source, str) else None


def reaction_source(reacted_to: Mapping[str, Any]) -> str | None:
    """The key of the message a reaction points at, when the backend gives one."""
    source = reacted_to.get("source")
    return source if isinstance(source, str) else None


class Acknowledges(Protocol):
    """What a backend attaches as `msg.extras["ack"]` (backends/acknowledgement.py): a plugin that records the
    message holds it, and says when that is committed, before the platform is told the message is safe."""

    def hold(self) -> None: ...

    def done(self) -> None: ...


def acknowledgement(msg: Message) -> Acknowledges | None:
    ack = (msg.extras or {}).get("ack")
    return ack if hasattr(ack, "hold") and hasattr(ack, "done") else None


def clock(at: datetime) -> str:
    """How times are shown in chat: UTC, to the second, unambiguous across time zones."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
