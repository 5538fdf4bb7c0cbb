"""The body of `POST /api/messages` as an activity, only when it is plain JSON (`backends.request_body` reads it).

Parsing (`parse_activity`): JSON nested deeper than `MAX_DEPTH`, holding a NUL character (raw or `\\u0000`) or a
lone surrogate (`\\ud800`, not Unicode text) is refused with a sentence saying so. Nothing real in a Teams activity
comes close to that depth, PostgreSQL text refuses NULs, and a surrogate cannot be stored at all: the message would
be acknowledged, then dropped.
"""

from __future__ import annotations

import json

from microsoft_agents.activity import Activity
from pydantic import ValidationError

from agent.errors import DebriefError

MAX_DEPTH = 64  # Adaptive Cards in `attachments` and `value` nest deepest, a dozen levels or so


class BadActivity(DebriefError):
    """The body is not an activity Debrief takes; the message says why, in a sentence for the sender."""


def parse_activity(raw: bytes) -> Activity:
    """The activity in `raw`, or `BadActivity` saying what is wrong with it."""
    if b"\x00" in raw:
        raise BadActivity("the activity contains a NUL character")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadActivity(f"the activity is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also bytes that are not UTF-8
        raise BadActivity("the body is not JSON") from None
    _check_plain(data)
    if not isinstance(data, dict):
        raise BadActivity("not a Bot Framework activity")
    try:
        return Activity.model_validate(data)
    except ValidationError:
        raise BadActivity("not a Bot Framework activity") from None


def _check_plain(data: object) -> None:
    """No container deeper than `MAX_DEPTH`, only plain text in keys and strings (without recursion)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadActivity(f"the activity is nested deeper than {MAX_DEPTH} levels")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadActivity("the activity contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadActivity("the activity contains text that is not valid Unicode (a lone surrogate)") from None
