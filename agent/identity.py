"""Who people are and what they may do: one normalised name per user, one decision per (user, permission, incident).

Chat platforms spell one person several ways (`@alice`, `alice`, Slack's `<@U123>`); `normalise_user` is the only
place that turns them into the name the store keeps. `Roles.require` is the only place that decides whether a user
may change an incident; the engine calls it inside the change's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from agent.errors import DebriefError


class NotAllowed(DebriefError):
    """The user may not do this; the message says who may."""


class Operator(str):
    """Whoever runs `debrief ...` on the host, or Debrief's own background work: trusted, never a chat user.

    A `str`, so it stands wherever a user name does (the audit trail records its name). A chat user who calls
    themselves "cli" is a plain `str` and gains nothing from it.
    """

    __slots__ = ()


OPERATOR = Operator("cli")
DEBRIEF = Operator("debrief")


class NotVisible(NotAllowed):
    """The incident belongs to another room and the user is no admin."""


class Permission(StrEnum):
    # Anyone in the incident's room adds notes and action items and sets severity (with a reason), impact,
    # cause and services: no permission is needed for those. The lead's and the admins' own:
    LEAD_INCIDENT = "lead"  # mitigated, resolve, hand over, corrections of milestones, private
    FILE_ACTIONS = "file"
    APPROVE_POSTMORTEM = "approve"
    REDRAFT_POSTMORTEM = "redraft"
    PUBLISH_POSTMORTEM = "publish"
    REOPEN_POSTMORTEM = "reopen"


# Who may, besides admins: the incident's lead (its commander; before one is named, whoever started it) or nobody.
_LEAD_MAY = frozenset(
    {
        Permission.LEAD_INCIDENT,
        Permission.FILE_ACTIONS,
        Permission.APPROVE_POSTMORTEM,
        Permission.REDRAFT_POSTMORTEM,
    }
)

_REFUSALS = {
    Permission.LEAD_INCIDENT: "only {who} or an admin can change {incident}",
    Permission.FILE_ACTIONS: "Only {who} or an admin can file {incident}'s action items.",
    Permission.APPROVE_POSTMORTEM: "only {who} or an admin can approve {incident}'s postmortem",
    Permission.REDRAFT_POSTMORTEM: "only {who} or an admin can draft {incident}'s approved postmortem again",
    Permission.PUBLISH_POSTMORTEM: "only an admin can publish {incident}'s postmortem",
    Permission.REOPEN_POSTMORTEM: "only an admin can reopen {incident}'s published postmortem",
}


def normalise_user(name: str) -> str:
    """`@alice`, ` alice `, `<@U123>` and `<@U123|alice>` -> `alice`, `U123`; an `Operator` stays one."""
    if isinstance(name, Operator):
        return name
    text = name.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].partition("|")[0]
    return text.strip().removeprefix("@").strip()


@dataclass(frozen=True)
class Lead:
    """What the roles need to know of an incident: its id and who leads it."""

    incident_id: str
    commander: str | None
    started_by: str | None

    @property
    def name(self) -> str | None:
        return self.commander or self.started_by

    def describe(self) -> str:
        return f"the commander ({self.commander})" if self.commander else "whoever started it"


@dataclass(frozen=True)
class Roles:
    """The installation's admins (DEBRIEF_ADMINS) and the rule of who may do what."""

    admins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, admins: Iterable[str]) -> Roles:
        return cls(frozenset(normalise_user(admin) for admin in admins))

    def is_admin(self, user: str) -> bool:
        return isinstance(user, Operator) or normalise_user(user) in self.admins

    def may(self, user: str, permission: Permission, lead: Lead) -> bool:
        if self.is_admin(user):
            return True
        return permission in _LEAD_MAY and normalise_user(user) == lead.name

    def require(self, user: str, permission: Permission, lead: Lead) -> None:
        """`NotAllowed`, saying who may, unless `user` may."""
        if not self.may(user, permission, lead):
            refusal = _REFUSALS[permission]
            raise NotAllowed(refusal.format(who=lead.describe(), incident=lead.incident_id))

    def require_view(self, user: str, room: str, incident_room: str, incident_id: str) -> None:
        """An incident's timeline, actions and postmortem are seen in its own room, by admins anywhere, and by
        the operator; anyone else gets `NotVisible` (which says nothing of the incident)."""
        if room.strip() != incident_room and not self.is_admin(user):
            raise NotVisible(f"{incident_id} is not visible here: ask in its own room, or ask an admin")
