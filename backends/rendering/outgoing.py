"""Every Debrief chat backend renders its replies for its platform: one outgoing hook, beside the redactor's.

Plugins reply in CommonMark, the same on every platform. A backend lists `RendersOutgoing` after
`RedactsOutgoing`, says how its platform writes a reply (`render_reply`) and, where its base class converts a
body with Python-Markdown, swaps that converter for `AsWritten`; a platform with cards says how a part is sent
(`send_rendered`); a platform whose ids of people read as noise keeps `people`, and its replies name them
(except `!whoami`'s, which is asked for the id). The reply is rendered whole and cut into parts
only where a cut is safe (`split`), never inside a code block, instead of Errbot's cut every N characters; each
part is redacted once more, as sent (rendering removes escapes: `ghp\\_...` reads as a token only afterwards).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from errbot.backends.base import Message

from agent.people import People
from agent.redact import redact
from backends.rendering.blocks import Names


@dataclass(frozen=True)
class Part:
    """One message of a rendered reply: its text, and for platforms with cards, the card that carries it."""

    text: str
    card: dict[str, Any] | None = None


class RendersOutgoing:
    """Mix into an `ErrBot` backend after `RedactsOutgoing`: `class B(RedactsOutgoing, RendersOutgoing, Base)`."""

    people: People | None = None

    def render_reply(self, markdown: str, limit: int, names: Names | None) -> list[Part]:
        raise NotImplementedError

    def send_rendered(self, msg: Message, part: Part) -> None:
        """Send one rendered part (`msg.body` is its text); by default the base backend sends it as it is."""
        super().send_message(msg)  # type: ignore[misc]

    def split_and_send_message(self, msg: Message) -> None:
        self.send_message(msg)  # whole: `render_reply` cuts it where a cut is safe

    def send_message(self, msg: Message) -> None:
        limit = int(getattr(self, "message_size_limit", 0) or 10_000)
        names = self.people.named if self.people is not None and not _asks_for_ids(msg) else None
        parts = self.render_reply(msg.body if isinstance(msg.body, str) else str(msg.body), limit, names)
        for part in parts:
            piece = msg if len(parts) == 1 else _copy(msg)
            piece.body = redact(_without_overrides(part.text))
            self.send_rendered(piece, Part(piece.body, _redacted(part.card)))


class AsWritten:
    """Stands in for the Python-Markdown converter of Errbot's backends (`md`, the console's `md_ansi`): a
    rendered reply is sent as it is."""

    def convert(self, text: str) -> str:
        return text


def _asks_for_ids(msg: Message) -> bool:
    """A reply to `!whoami`, which people send to learn their id (for DEBRIEF_ADMINS)."""
    parent = getattr(msg, "parent", None)
    said = parent.body if parent is not None and isinstance(parent.body, str) else ""
    return re.match(r"\W?whoami\b", said.strip(), re.IGNORECASE) is not None


def _copy(msg: Message) -> Message:
    """One part of a long reply, with extras of its own (a backend records each part's id in them). Without the
    reply's flow: Errbot's `Message.flow` returns the sender, not the flow, and a sender passed as a flow failed
    every long reply (`'SlackPerson' object has no attribute 'ctx'`); a reply's flow is never read."""
    extras = {key: value for key, value in (msg.extras or {}).items() if key != "ts"}
    return Message(msg.body, msg.frm, msg.to, msg.parent, msg.delayed, partial=True, extras=extras)


# Bidirectional embeddings, overrides and isolates: text after a right-to-left override (an owner typed as
# "@\u202eboB") shows reversed, and the rest of its line with it. Shown nowhere; the marks (U+200E/F) stay.
_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _without_overrides(text: str) -> str:
    return _OVERRIDES.sub("", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(_without_overrides(value))
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value
