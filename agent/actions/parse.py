"""Action items as people type them: `TEXT [@owner] [due:YYYY-MM-DD]`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from agent.errors import DebriefError
from agent.identity import normalise_user


class ActionParseError(DebriefError):
    """An action item command that cannot be understood; the message says which part."""


@dataclass(frozen=True)
class ParsedAction:
    title: str
    owner: str | None = None
    due: date | None = None


def parse_action(text: str) -> ParsedAction:
    """Split `TEXT [@owner] [due:YYYY-MM-DD]`; owner and due are read from the end, in either order.

    A mention inside the text ("ask @bob about the pool size @alice") stays part of the title.
    """
    words = text.split()
    owner: str | None = None
    due: date | None = None
    while words:
        word = words[-1]
        if word.lower().startswith("due:"):
            if due is not None:
                raise ActionParseError("give one due date, not two")
            due = _parse_due(word[4:])
        elif word.startswith("@") and len(word) > 1:
            if owner is not None:
                raise ActionParseError(f"give one owner, not two (@{word[1:]} and @{owner})")
            owner = normalise_user(word)
        else:
            break
        words.pop()
    if not words:
        raise ActionParseError("action needs a description")
    return ParsedAction(" ".join(words), owner, due)


def _parse_due(value: str) -> date:
    if not value:
        raise ActionParseError("due date is empty; use due:YYYY-MM-DD")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ActionParseError(f"due date {value} is not a valid YYYY-MM-DD date") from None
