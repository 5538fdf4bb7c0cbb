"""Every message a Debrief backend sends passes the redactor: a secret typed into a command is never echoed back.

One mixin, listed first in each backend Debrief runs (Teams, Slack, the Text console and the test backend behind
`debrief replay` and the tests), so it wraps the backend's own sending. It redacts a reply as a whole before it
is rendered and cut into parts (a secret can never straddle two parts), anything sent directly, and cards.
"""

from __future__ import annotations

from typing import Any

from errbot.backends.base import Card, Message

from agent.redact import redact


class RedactsOutgoing:
    """Mix into an `ErrBot` backend, before it: `class Backend(RedactsOutgoing, TextBackend)`."""

    def split_and_send_message(self, msg: Message) -> None:
        _redact_body(msg)
        super().split_and_send_message(msg)  # type: ignore[misc]

    def send_message(self, msg: Message) -> Any:
        _redact_body(msg)
        return super().send_message(msg)  # type: ignore[misc]

    def send_card(self, card: Card) -> Any:
        _redact_body(card)
        for name in ("_title", "_summary"):
            value = getattr(card, name, None)
            if isinstance(value, str):
                setattr(card, name, redact(value))
        fields = getattr(card, "_fields", None)
        if fields:
            card._fields = tuple((redact(str(key)), redact(str(value))) for key, value in fields)
        return super().send_card(card)  # type: ignore[misc]


def _redact_body(msg: Message) -> None:
    if isinstance(msg.body, str):
        msg.body = redact(msg.body)
