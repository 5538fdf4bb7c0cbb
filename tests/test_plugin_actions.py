"""`!action add` and `!actions` through the real bot (edits, done, drop and overdue items:
tests/test_plugin_action_changes.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from agent.models import ActionItem, EventKind
from tests.plugin_fixtures import T0, Chat, chat, debrief_settings

LATER = T0 + timedelta(minutes=30)  # commands are typed during the incident: due dates in March are ahead

__all__ = ["chat", "debrief_settings"]


def start(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout 5xx spike", at=T0).startswith("INC-1 started")


def stored_actions(chat: Chat) -> list[ActionItem]:
    engine = chat.engine()
    try:
        return engine.actions.list("INC-1")
    finally:
        engine.close()


def test_anyone_adds_an_action_with_owner_and_due_date(chat: Chat) -> None:
    start(chat)
    reply = chat.ask(
        "!action add Add a canary stage to checkout deploys @bob due:2024-03-15", frm="dave", at=LATER
    )

    assert (
        reply
        == "Added to INC-1: A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15) [pending]"
    )
    [item] = stored_actions(chat)
    assert (item.title, item.owner, item.due) == (
        "Add a canary stage to checkout deploys",
        "bob",
        date(2024, 3, 15),
    )
    assert re.fullmatch(r"debrief-[0-9a-f]{12}-INC-1\.A1", item.idempotency_key)


def test_action_is_a_key_timeline_event_at_the_message_time(chat: Chat) -> None:
    start(chat)
    chat.ask("!action add Alert on pool saturation", at=T0 + timedelta(minutes=20))
    shown = chat.ask("!timeline")
    assert "2024-03-01 10:20:00 UTC  alice  [action]  Action A1: Alert on pool saturation" in shown


def test_the_gate_says_at_once_what_an_added_item_lacks_and_keeps_it(chat: Chat) -> None:
    start(chat)

    assert chat.ask("!action add Write the runbook", at=LATER).splitlines() == [
        "Added to INC-1: A1 Write the runbook (no owner) [needs_revision]",
        "Needs revision before it can be filed: no owner: add @owner; no due date: add due:YYYY-MM-DD. "
        "Fix it with !action edit A1 ...",
    ]
    vague = chat.ask("!action add Improve monitoring @bob due:2024-03-15", at=LATER).splitlines()
    assert vague[1].startswith(
        "Needs revision before it can be filed: the title is vague ('Improve monitoring')"
    )
    late = chat.ask("!action add Add a canary stage to checkout deploys @bob due:2024-02-29", at=LATER)
    assert late.splitlines()[1].startswith(
        "Needs revision before it can be filed: due date 2024-02-29 is in the past"
    )
    assert [item.status.value for item in stored_actions(chat)] == ["needs_revision"] * 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "Not added: action needs a description"),
        ("@bob due:2024-03-15", "Not added: action needs a description"),
        ("Fix it due:2024-02-30", "due date 2024-02-30 is not a valid YYYY-MM-DD date"),
        ("Fix it due:next-week", "due date next-week is not a valid YYYY-MM-DD date"),
        ("Fix it @bob @carol", "give one owner, not two"),
    ],
)
def test_bad_action_is_refused_with_the_reason_and_nothing_is_stored(
    chat: Chat, args: str, expected: str
) -> None:
    start(chat)
    reply = chat.ask(f"!action add {args}".strip())
    assert expected in reply
    assert reply.endswith("use !action add TEXT [@owner] [due:YYYY-MM-DD]")
    assert stored_actions(chat) == []
    engine = chat.engine()
    try:
        assert [e.kind for e in engine.timeline.events("INC-1")] == [EventKind.STATUS]
    finally:
        engine.close()


def test_a_redelivered_message_gets_the_same_reply_and_adds_nothing(chat: Chat) -> None:
    start(chat)
    source = "slack:C1:1709287500.000100"  # the message's key, as the Slack backend gives it
    command = "!action add Add a canary stage @bob due:2024-03-15"
    first = chat.ask(command, source=source, at=LATER)
    again = chat.ask(command, source=source, at=LATER)  # Slack retries an event it thinks was not received

    assert again == first == "Added to INC-1: A1 Add a canary stage (owner bob, due 2024-03-15) [pending]"
    assert [item.id for item in stored_actions(chat)] == [1]
    assert chat.ask(
        "!action add Add a second region", source="slack:C1:1709287501.000100", at=LATER
    ).startswith("Added to INC-1: A2 ")


def test_the_same_item_typed_twice_is_not_a_second_item(chat: Chat) -> None:
    start(chat)
    chat.ask("!action add Alert when queue depth exceeds 1000 for 10 minutes @bob due:2030-01-01", at=LATER)

    again = chat.ask("!action add alert when queue depth  exceeds 1000 for 10 minutes @carol", at=LATER)

    assert again == "Not added: A1 already says that; change it with !action edit A1"
    assert [item.owner for item in stored_actions(chat)] == ["bob"]
    chat.ask("!action drop A1 covered by the SLO alert", at=LATER)
    assert chat.ask("!action add Alert when queue depth exceeds 1000 for 10 minutes", at=LATER).startswith(
        "Added to INC-1: A2 "
    )


def test_action_without_an_incident_says_how_to_start_one(chat: Chat) -> None:
    reply = chat.ask("!action add Fix it")
    assert "This room has no incident yet" in reply
    assert "!incident start TITLE" in reply


def test_actions_lists_items_in_order(chat: Chat) -> None:
    start(chat)
    chat.ask("!action add Add a canary stage @bob due:2024-03-15", at=LATER)
    chat.ask("!action add Write the runbook", at=LATER)

    assert chat.ask("!actions").splitlines() == [
        "INC-1 action items:",
        "A1 Add a canary stage (owner bob, due 2024-03-15) [pending]",
        "A2 Write the runbook (no owner) [needs_revision]",
    ]
    # Named from the room or elsewhere, an incident's items carry its id, as commands take them there.
    assert (
        chat.ask("!actions INC-1", frm="root", room="#ops")
        .splitlines()[1]
        .startswith("INC-1/A1 Add a canary")
    )


def test_actions_of_an_incident_with_none(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!actions").startswith("INC-1 has no action items yet.")


def test_actions_of_a_resolved_incident_in_its_room_and_by_id(chat: Chat) -> None:
    start(chat)
    chat.ask("!action add Write the runbook")
    chat.ask("!incident resolve")
    assert "A1 Write the runbook" in chat.ask("!actions")
    assert "INC-1/A1 Write the runbook" in chat.ask("!actions INC-1")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("everything", "Use !actions, !actions INC-n for another incident, or !actions --overdue"),
        ("INC-1 INC-2", "Use !actions"),
        ("INC-42", "no incident INC-42"),
    ],
)
def test_actions_with_bad_arguments_explains(chat: Chat, args: str, expected: str) -> None:
    start(chat)
    assert expected in chat.ask(f"!actions {args}")


def test_every_action_command_has_help(chat: Chat) -> None:
    help_text = chat.ask("!help DebriefActions")
    for command in ("!action add", "!action edit", "!action done", "!action drop", "!actions"):
        assert command in help_text
    assert "--overdue" in help_text
