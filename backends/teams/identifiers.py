"""Errbot's people and rooms on Teams.

A person is their Teams user id (`29:...`, what activities and mentions carry); their display name and Entra
object id ride along. Put these ids in DEBRIEF_ADMINS (`!whoami` shows yours). A room is a channel or group chat
conversation id (`19:...`). Rooms cannot be joined or left by the bot: people add it in Teams.
"""

from __future__ import annotations

from errbot.backends.base import Person, Room, RoomOccupant


class TeamsPerson(Person):
    def __init__(self, user_id: str, name: str | None = None, aad_object_id: str | None = None) -> None:
        self._id = user_id
        self._name = name
        self._aad_object_id = aad_object_id

    @property
    def person(self) -> str:
        return self._id

    @property
    def userid(self) -> str:
        return self._id

    @property
    def nick(self) -> str:
        return self._name or self._id

    @property
    def fullname(self) -> str:
        return self._name or ""

    @property
    def client(self) -> str:
        return ""

    @property
    def aclattr(self) -> str:
        return self._id

    @property
    def aad_object_id(self) -> str | None:
        return self._aad_object_id

    def __str__(self) -> str:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TeamsPerson) and other.person == self.person

    def __hash__(self) -> int:
        return hash(self._id)


class TeamsRoom(Room):
    def __init__(self, conversation_id: str, name: str | None = None) -> None:
        self._id = conversation_id
        self._name = name

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name or self._id

    def join(self, username: str | None = None, password: str | None = None) -> None:
        """Nothing to do: the bot is in a Teams conversation once someone adds it there."""

    def leave(self, reason: str | None = None) -> None:
        """Nothing to do: people remove the bot from a conversation in Teams."""

    def create(self) -> None:
        """Teams channels are created in Teams, not by the bot."""

    def destroy(self) -> None:
        """Teams channels are deleted in Teams, not by the bot."""

    @property
    def exists(self) -> bool:
        return True

    @property
    def joined(self) -> bool:
        return True

    @property
    def topic(self) -> str:
        return self.name

    @property
    def occupants(self) -> list[RoomOccupant]:
        return []  # listing members needs the roster API; no Debrief feature uses it

    def __str__(self) -> str:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TeamsRoom) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self._id)


class TeamsRoomOccupant(TeamsPerson, RoomOccupant):
    """A person speaking in a channel or group chat."""

    def __init__(self, person: TeamsPerson, room: TeamsRoom) -> None:
        super().__init__(person.person, person.fullname or None, person.aad_object_id)
        self._room = room

    @property
    def room(self) -> TeamsRoom:
        return self._room

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and getattr(other, "room", None) == self._room

    def __hash__(self) -> int:
        return hash((self.person, self._room.id))
