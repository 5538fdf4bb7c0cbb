"""Timeline capture, notes, pins and `!timeline` through the real bot."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from errbot.backends.base import REACTION_ADDED, REACTION_REMOVED, Reaction
from errbot.backends.test import TestPerson

from agent.models import EventKind, TimelineEvent
from backends.slack.slack_backend import slack_source, slack_time
from tests.plugin_fixtures import ROOM, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]


def start(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=T0).startswith("INC-1 started")


def all_events(chat: Chat) -> list[TimelineEvent]:
    engine = chat.engine()
    try:
        return engine.timeline.events("INC-1", key_only=False)
    finally:
        engine.close()


def slack_message(channel: str, ts: str) -> dict[str, object]:
    """What Debrief's Slack backend puts in a message's extras: its time and key, from Slack's channel and ts."""
    return {"at": slack_time(ts), "source": slack_source(channel, ts)}


def slack_item(channel: str, ts: str) -> dict[str, str]:
    """A reaction's `reacted_to` as Debrief's Slack backend passes it on: Slack's item, with the message's key."""
    return {"type": "message", "channel": channel, "ts": ts, "source": slack_source(channel, ts)}


def test_room_messages_are_captured_with_their_own_time_and_author(chat: Chat) -> None:
    start(chat)
    chat.say("error rate 12% since the 09:55 deploy", frm="bob", at=T0 + timedelta(minutes=3))
    chat.say("rolling back", frm="carol", at=T0 + timedelta(minutes=5))

    shown = chat.ask("!timeline --all")

    assert "2024-03-01 10:03:00 UTC  bob  [message]  error rate 12% since the 09:55 deploy" in shown
    assert "2024-03-01 10:05:00 UTC  carol  [message]  rolling back" in shown
    messages = [e for e in all_events(chat) if e.kind is EventKind.MESSAGE]
    assert [(e.author, e.at, e.key) for e in messages] == [
        ("bob", T0 + timedelta(minutes=3), False),
        ("carol", T0 + timedelta(minutes=5), False),
    ]


def test_slack_timestamp_is_used_and_a_redelivered_message_is_recorded_once(chat: Chat) -> None:
    start(chat)
    extras = slack_message("C042", "1709287380.000101")  # 2024-03-01T10:03:00.000101Z
    chat.say("checkout pods restarting", frm="bob", extras=extras)
    chat.say("checkout pods restarting", frm="bob", extras=extras)

    chat.ask("!timeline --all")  # flushes the capture queue
    messages = [e for e in all_events(chat) if e.kind is EventKind.MESSAGE]
    assert len(messages) == 1
    assert messages[0].at == T0 + timedelta(minutes=3, microseconds=101)
    assert messages[0].source == "slack:C042:1709287380.000101"


def test_messages_outside_an_incident_room_and_commands_are_not_captured(chat: Chat) -> None:
    start(chat)
    chat.say("lunch?", room="#random", at=T0)
    chat.ask("!incident status", at=T0 + timedelta(minutes=1))

    assert [e.kind for e in all_events(chat)] == [EventKind.STATUS]


def test_note_adds_a_key_event_shown_by_timeline(chat: Chat) -> None:
    start(chat)
    at = T0 + timedelta(minutes=6, seconds=30)
    assert chat.ask("!note rolling back the 09:55 deploy", frm="bob", at=at) == (
        "Noted on the INC-1 timeline at 2024-03-01 10:06:30 UTC."
    )
    assert chat.ask("!timeline add canary looks healthy", at=at + timedelta(minutes=1)).startswith(
        "Noted on the INC-1"
    )

    shown = chat.ask("!timeline")

    assert shown.splitlines() == [
        "INC-1 key events:",
        "E1  2024-03-01 10:00:00 UTC  alice  [status]  Incident started (SEV2): Checkout 5xx spike",
        "E2  2024-03-01 10:06:30 UTC  bob  [note]  rolling back the 09:55 deploy",
        "E3  2024-03-01 10:07:30 UTC  alice  [note]  canary looks healthy",
    ]


def test_a_replayed_note_is_recorded_once(chat: Chat) -> None:
    start(chat)
    chat.ask("!note DNS flushed", source="m-7")
    assert chat.ask("!note DNS flushed", source="m-7") == "That note is already on the INC-1 timeline."
    assert [e.text for e in all_events(chat)].count("DNS flushed") == 1


@pytest.mark.parametrize("command", ["!note", "!timeline add"])
def test_empty_note_is_refused(chat: Chat, command: str) -> None:
    start(chat)
    assert chat.ask(command).startswith("Say what to note:")
    assert len(all_events(chat)) == 1


def test_note_without_an_incident_says_how_to_start_one(chat: Chat) -> None:
    assert "This room has no incident yet" in chat.ask("!note something")


def test_key_timeline_hides_plain_messages(chat: Chat) -> None:
    start(chat)
    chat.say("just chatting", at=T0 + timedelta(minutes=1))
    assert "just chatting" not in chat.ask("!timeline")
    assert "just chatting" in chat.ask("!timeline --all")


def test_timeline_of_a_resolved_incident_by_id(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve", at=T0 + timedelta(minutes=30))
    assert "Resolved" in chat.ask("!timeline")  # the room keeps its incident after the resolve
    assert "Resolved" in chat.ask("!timeline INC-1")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("--everything", "Unexpected '--everything'"),
        ("INC-1 INC-2", "Unexpected 'INC-2'"),
        ("INC-9", "no incident INC-9"),
    ],
)
def test_timeline_with_bad_arguments_explains(chat: Chat, args: str, expected: str) -> None:
    start(chat)
    assert expected in chat.ask(f"!timeline {args}")


def test_timeline_all_shows_only_the_latest_events_of_a_long_incident(chat: Chat) -> None:
    start(chat)
    for minute in range(1, 61):
        chat.say(f"update {minute}", at=T0 + timedelta(minutes=minute))
    shown = chat.ask("!timeline --all").splitlines()
    assert shown[0] == "INC-1 events (latest 50):"
    assert shown[-1].endswith("update 60")
    assert len(shown) == 51


def pin(chat: Chat, reacted_to: dict[str, str], action: str = REACTION_ADDED, name: str = "pushpin") -> None:
    bot = chat.testbot.bot
    bot.callback_reaction(
        Reaction(reactor=TestPerson("carol"), action=action, reaction_name=name, reacted_to=reacted_to)
    )


def wait_for_key(chat: Chat, text: str, timeout: float = 5) -> TimelineEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in all_events(chat) if e.text == text and e.key]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never became a key event")


def test_pin_reaction_marks_a_captured_message_key(chat: Chat) -> None:
    start(chat)
    chat.say("the pool size is 5, should be 50", frm="bob", extras=slack_message("C042", "1709287500.000200"))
    chat.say("unrelated chatter", frm="bob", extras=slack_message("C042", "1709287510.000300"))

    pin(chat, slack_item("C042", "1709287500.000200"))

    assert wait_for_key(chat, "the pool size is 5, should be 50").author == "bob"
    assert "unrelated chatter" not in chat.ask("!timeline")


def test_other_reactions_and_removed_pins_change_nothing(chat: Chat) -> None:
    start(chat)
    chat.say("maybe the cache?", frm="bob", extras=slack_message("C042", "1709287500.000200"))
    item = slack_item("C042", "1709287500.000200")
    pin(chat, item, name="eyes")
    pin(chat, item, action=REACTION_REMOVED)
    pin(chat, {"type": "file", "file": "F1"})
    # A pin on a message we did record, processed after the ones above, proves they were handled.
    chat.say("pinned for ordering", frm="bob", extras=slack_message("C042", "1709287600.000100"))
    pin(chat, slack_item("C042", "1709287600.000100"))
    wait_for_key(chat, "pinned for ordering")

    assert "maybe the cache?" not in chat.ask("!timeline")


def test_every_timeline_command_has_help(chat: Chat) -> None:
    help_text = chat.ask("!help DebriefTimeline")
    for command in ("!timeline add", "!note", "!timeline "):
        assert command in help_text


def test_notes_are_recorded_in_the_room_they_were_sent_from(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident start Search slow", room="#inc-search", at=T0)
    chat.ask("!note search index rebuilt", room="#inc-search")
    assert "search index rebuilt" not in chat.ask("!timeline", room=ROOM)
    assert "search index rebuilt" in chat.ask("!timeline", room="#inc-search")


def test_message_said_before_start_is_not_on_the_new_incident(chat: Chat) -> None:
    chat.say("is checkout slow for anyone?", frm="bob", at=T0 - timedelta(minutes=1))
    start(chat)
    assert "is checkout slow" not in chat.ask("!timeline --all")


def test_a_timeline_longer_than_one_message_arrives_in_parts(chat: Chat) -> None:
    """Errbot's test backend cuts at 10,000 characters, as a chat backend cuts at its platform's limit."""
    start(chat)
    for n in range(1, 4):
        chat.ask(f"!note {n} " + "checked the pool " * 250, at=T0 + timedelta(minutes=n))

    replies = [chat.ask("!timeline")]
    while " 3 checked" not in replies[-1]:
        replies.append(chat.next_reply())

    assert len(replies) > 1
    assert replies[0].startswith("INC-1 key events:")
    lines = [line for reply in replies for line in reply.splitlines()[1 if reply is replies[0] else 0 :]]
    assert [line.split()[0] for line in lines] == ["E1", "E2", "E3", "E4"]
