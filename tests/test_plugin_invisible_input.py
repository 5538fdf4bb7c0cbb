"""Text that shows nothing is no text: a zero-width space typed alone passed every "say what" check, and a
postmortem was published with an invisible summary, impact and root cause."""

from __future__ import annotations

import pytest

from tests.plugin_fixtures import T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]

INVISIBLE = "\u200b \u2060\ufeff"  # zero-width space, word joiner, byte-order mark


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("!note", "Say what to note"),
        ("!incident cause", "Say what the cause is"),
        ("!incident impact", "Say what the impact is"),
        ("!postmortem edit summary", "Use !postmortem edit SECTION TEXT"),
        ("!action add", "Not added: action needs a description"),
    ],
)
def test_a_command_given_only_invisible_characters_is_refused(chat: Chat, command: str, refusal: str) -> None:
    chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=T0)
    reply = chat.ask(f"{command} {INVISIBLE}")
    assert reply.startswith(refusal), reply


def test_visible_text_keeps_its_inner_joiners(chat: Chat) -> None:
    chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=T0)
    assert chat.ask("!note \u200bfailover by 👩\u200d💻 done\u200b").startswith("Noted")
    assert "failover by 👩\u200d💻 done" in chat.ask("!timeline")


def test_bidirectional_overrides_are_not_shown_in_replies(chat: Chat) -> None:
    """After a right-to-left override the rest of the line shows reversed: an owner typed as "@\\u202eboB"."""
    chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=T0)
    added = chat.ask("!action add Alert on pool saturation @\u202eboB due:2030-01-01")
    listed = chat.ask("!actions")
    shown = chat.ask("!timeline")

    for reply in (added, listed, shown):
        assert not any(mark in reply for mark in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), (
            reply
        )
    assert "boB" in listed
