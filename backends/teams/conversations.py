"""Where to reach a room or a person without a message to reply to (nudges, `!help` in private, warnings).

Teams only lets a bot post to a conversation through that conversation's `serviceUrl`, which it learns from
activities. Each activity updates the address of its room (channel, group chat) or, in a one-to-one chat, of its
person. The addresses are plain data, so the backend can keep them in Errbot's storage across restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import NamedTuple

from microsoft_agents.activity import Activity

from backends.teams.activities import room_of


class Address(NamedTuple):
    service_url: str
    conversation_id: str


class Conversations:
    def __init__(self, known: Mapping[str, tuple[str, str]] | None = None) -> None:
        self._addresses = {key: Address(*value) for key, value in (known or {}).items()}
        self._lock = threading.Lock()

    def remember(self, activity: Activity) -> bool:
        """Record the activity's conversation; True when that changed what is known."""
        key = _key(activity)
        if key is None or not activity.service_url or activity.conversation is None:
            return False
        conversation_id = room_of(activity) or activity.conversation.id
        address = Address(activity.service_url, conversation_id)
        with self._lock:
            if self._addresses.get(key) == address:
                return False
            self._addresses[key] = address
            return True

    def address(self, key: str) -> Address | None:
        """The address of a room (`19:...`) or person (`29:...`)."""
        with self._lock:
            return self._addresses.get(key)

    def rooms(self) -> list[str]:
        with self._lock:
            return [key for key, address in self._addresses.items() if key == address.conversation_id]

    def as_data(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            return {
                key: (address.service_url, address.conversation_id)
                for key, address in self._addresses.items()
            }


def _key(activity: Activity) -> str | None:
    """The room for group conversations, else the person on the other side of a one-to-one chat."""
    room = room_of(activity)
    if room is not None:
        return room
    return activity.from_property.id if activity.from_property else None
