"""Action items as people type them: `TEXT [@owner] [due:YYYY-MM-DD]`, and the ids that name them (`A2`,
`INC-3/A2`) in `!action edit A2 ...`, `!action done A2` and `!action drop A2 REASON`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from agent.errors import DebriefError
from agent.identity import normalise_user

_REF = re.compile(r"(?:(INC-\d{1,9})/)?A(\d{1,9})", re.IGNORECASE)
REF_HINT = "ids look like A2, or INC-3/A2 for another incident's item"


class ActionParseError(DebriefError):
    """An action item command that cannot be understood; the message says which part."""


@dataclass(frozen=True)
class ParsedAction:
    title: str
    owner: str | None = None
    due: date | None = None


@dataclass(frozen=True)
class ActionRef:
    """An item as people name it: its number in an incident, and that incident when the text named it."""

    number: int
    incident_id: str | None = None  # `INC-3` from `INC-3/A2`; None means the room's incident

    def __str__(self) -> str:
        return f"{self.incident_id}/A{self.number}" if self.incident_id else f"A{self.number}"


@dataclass(frozen=True)
class ParsedEdit:
    """`!action edit`: which item, and what changes (None: left as it is)."""

    ref: ActionRef
    title: str | None = None
    owner: str | None = None
    due: date | None = None


def parse_action(text: str) -> ParsedAction:
    """Split `TEXT [@owner] [due:YYYY-MM-DD]`; owner and due are read from the end, in either order.

    A mention inside the text ("ask @bob about the pool size @alice") stays part of the title.
    """
    words, owner, due = _split_tail(text.split())
    if not words:
        raise ActionParseError("action needs a description")
    return ParsedAction(" ".join(words), owner, due)


def parse_ref(text: str) -> ActionRef:
    """`A2` (the room's incident) or `INC-3/A2`, case-insensitive."""
    match = _REF.fullmatch(text.strip())
    if not match or int(match.group(2)) == 0:
        shown = text.strip() or "nothing"
        raise ActionParseError(f"{shown} is not an action item id; {REF_HINT}")
    incident = match.group(1).upper() if match.group(1) else None
    return ActionRef(int(match.group(2)), incident)


def parse_edit(text: str) -> ParsedEdit:
    """`A2 [TEXT] [@owner] [due:YYYY-MM-DD]`: at least one of the three."""
    words = text.split()
    if not words:
        raise ActionParseError("say which item to edit")
    ref = parse_ref(words[0])
    rest, owner, due = _split_tail(words[1:])
    if not rest and owner is None and due is None:
        raise ActionParseError(f"nothing to change in {ref}: give a new text, an @owner or a due:YYYY-MM-DD")
    return ParsedEdit(ref, " ".join(rest) or None, owner, due)


def parse_drop(text: str) -> tuple[ActionRef, str]:
    """`A2 REASON`: why it will not be done is required."""
    words = text.split()
    if not words:
        raise ActionParseError("say which item to drop")
    ref = parse_ref(words[0])
    reason = " ".join(words[1:])
    if not reason:
        raise ActionParseError(f"say why {ref} is dropped")
    return ref, reason


def _split_tail(words: list[str]) -> tuple[list[str], str | None, date | None]:
    """The words before a trailing `@owner` and `due:YYYY-MM-DD` (either order), and those two."""
    words = list(words)
    owner: str | None = None
    due: date | None = None
    while words:
        word = words[-1]
        if word.lower().startswith("due:"):
            if due is not None:
                raise ActionParseError("give one due date, not two")
            due = _parse_due(word[4:])
        elif word == "@":
            raise ActionParseError("an owner needs a name after the @, like @bob")
        elif word.startswith("@"):
            if owner is not None:
                raise ActionParseError(f"give one owner, not two (@{word[1:]} and @{owner})")
            owner = normalise_user(word)
        else:
            break
        words.pop()
    return words, owner, due


def _parse_due(value: str) -> date:
    if not value:
        raise ActionParseError("due date is empty; use due:YYYY-MM-DD")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ActionParseError(f"due date {value} is not a valid YYYY-MM-DD date") from None
