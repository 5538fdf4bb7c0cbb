"""`!action edit`, `!action done`, `!action drop` and `!actions --overdue` through the real bot: good and bad
input, after resolve too, per-incident ids (`A2` here, `INC-3/A2` anywhere). Tickets: test_plugin_action_tickets.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agent.models import ActionItem
from tests.plugin_fixtures import ADMIN, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]

LATER = T0 + timedelta(minutes=40)
CANARY = "Add a canary stage to checkout deploys"


def start_with_items(chat: Chat) -> None:
    """INC-1 in #inc-checkout with A1 (bob, due 2024-03-15) and A2 (vague, no owner), then resolved."""
    assert chat.ask("!incident start Checkout 5xx spike", at=T0).startswith("INC-1 started")
    chat.ask(f"!action add {CANARY} @bob due:2024-03-15", at=T0 + timedelta(minutes=5))
    chat.ask("!action add Improve monitoring", at=T0 + timedelta(minutes=6))
    assert chat.ask("!incident resolve rolled back", at=T0 + timedelta(minutes=30)).startswith(
        "INC-1 resolved"
    )


def stored(chat: Chat, incident: str = "INC-1") -> list[ActionItem]:
    engine = chat.engine()
    try:
        return engine.actions.list(incident)
    finally:
        engine.close()


def audit(chat: Chat, action: str) -> list[tuple[str, dict[str, object]]]:
    engine = chat.engine()
    try:
        return [
            (e.actor, json.loads(e.detail)) for e in engine.store.audit_trail("INC-1") if e.action == action
        ]
    finally:
        engine.close()


def test_after_resolve_anyone_in_the_room_edits_an_item_and_hears_what_it_still_lacks(chat: Chat) -> None:
    start_with_items(chat)

    first = chat.ask("!action edit A2 @erin", frm="dave", at=LATER).splitlines()
    fixed = chat.ask(
        "!action edit A2 Alert when checkout 5xx exceed 1% for 5 minutes due:2024-03-20", frm="erin", at=LATER
    ).splitlines()

    assert first == [
        "Edited INC-1/A2: owner set to erin",
        "INC-1/A2 Improve monitoring (owner erin) [needs_revision]",
        "Needs revision before it can be filed: the title is vague ('Improve monitoring'): name the concrete change "
        "(what, where, which threshold) and how we will know it is done; no due date: add due:YYYY-MM-DD. "
        "Fix it with !action edit INC-1/A2 ...",
    ]
    assert fixed == [
        "Edited INC-1/A2: text was 'Improve monitoring', due set to 2024-03-20",
        "INC-1/A2 Alert when checkout 5xx exceed 1% for 5 minutes (owner erin, due 2024-03-20) [pending]",
    ]
    assert [(a.ref, a.owner, a.status.value) for a in stored(chat)] == [
        ("A1", "bob", "pending"),
        ("A2", "erin", "pending"),
    ]
    assert [(who, detail["ref"]) for who, detail in audit(chat, "edit_action")] == [
        ("dave", "A2"),
        ("erin", "A2"),
    ]


def test_an_edit_that_changes_nothing_says_so(chat: Chat) -> None:
    start_with_items(chat)

    reply = chat.ask("!action edit A1 @bob due:2024-03-15", at=LATER)

    assert reply.splitlines()[0] == "INC-1/A1 already says that; nothing changed."
    assert audit(chat, "edit_action") == []


def test_done_and_drop_after_resolve_are_audited_with_who_and_why(chat: Chat) -> None:
    start_with_items(chat)

    done = chat.ask("!action done A1", frm="bob", at=LATER)
    dropped = chat.ask("!action drop a2 covered by the SLO alerts in A1", frm="carol", at=LATER)

    assert done.splitlines() == [
        "INC-1/A1 is done.",
        f"INC-1/A1 {CANARY} (owner bob, due 2024-03-15) [done]",
    ]
    assert dropped.splitlines() == [
        "INC-1/A2 is dropped: covered by the SLO alerts in A1",
        "INC-1/A2 Improve monitoring (no owner) [dropped: covered by the SLO alerts in A1]",
    ]
    assert chat.ask("!actions").splitlines()[1:] == [
        f"A1 {CANARY} (owner bob, due 2024-03-15) [done]",
        "A2 Improve monitoring (no owner) [dropped: covered by the SLO alerts in A1]",
    ]
    assert [who for who, _ in audit(chat, "complete_action")] == ["bob"]
    assert [(who, detail["reason"]) for who, detail in audit(chat, "drop_action")] == [
        ("carol", "covered by the SLO alerts in A1")
    ]
    assert chat.ask("!action done A1") == "INC-1/A1 is already done, so it cannot be marked done"
    assert chat.ask("!action edit A2 @bob") == (
        "INC-1/A2 was dropped (covered by the SLO alerts in A1), so it cannot be edited"
    )


def test_items_added_after_resolve_continue_the_incidents_numbers(chat: Chat) -> None:
    start_with_items(chat)

    reply = chat.ask("!action add Write the checkout rollback runbook @carol due:2024-03-22", at=LATER)

    assert (
        reply
        == "Added to INC-1: A3 Write the checkout rollback runbook (owner carol, due 2024-03-22) [pending]"
    )


def test_ids_are_per_incident_and_another_rooms_incident_is_named_with_its_id(chat: Chat) -> None:
    start_with_items(chat)
    chat.ask("!incident start DB slow", room="#inc-db", frm="bob", at=LATER)
    chat.ask("!action add Raise the pgbouncer pool to 200 @bob due:2024-03-20", room="#inc-db", at=LATER)

    assert chat.ask("!action done A1", room="#inc-db", frm="bob").startswith("INC-2/A1 is done.")
    assert [a.status.value for a in stored(chat)] == ["pending", "needs_revision"]  # INC-1's A1 untouched
    assert (
        chat.ask("!action done INC-2/A1", frm="bob")
        == "INC-2 is not visible here: ask in its own room, or ask an admin"
    )
    assert chat.ask("!action edit INC-1/A1 @carol", frm=ADMIN, room="#ops").startswith(
        "Edited INC-1/A1: owner bob -> carol"
    )
    assert chat.ask("!action edit INC-1/A1 @dave", room="#inc-checkout").startswith("Edited INC-1/A1")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!action edit A9 @bob", "INC-1 has no action item A9"),
        ("!action done A9", "INC-1 has no action item A9"),
        ("!action drop A9 not needed", "INC-1 has no action item A9"),
        ("!action edit INC-7/A1 @bob", "there is no incident INC-7"),
        (
            "!action edit",
            "Not changed: say which item to edit; use !action edit A2 [TEXT] [@owner] [due:YYYY-MM-DD]",
        ),
        (
            "!action edit A1",
            "Not changed: nothing to change in A1: give a new text, an @owner or a due:YYYY-MM-DD",
        ),
        ("!action edit X1 @bob", "Not changed: X1 is not an action item id; ids look like A2, or INC-3/A2"),
        ("!action edit 1 @bob", "Not changed: 1 is not an action item id"),
        ("!action edit A1 due:2024-02-30", "Not changed: due date 2024-02-30 is not a valid YYYY-MM-DD date"),
        ("!action edit A1 due:tomorrow", "Not changed: due date tomorrow is not a valid YYYY-MM-DD date"),
        ("!action edit A1 @bob @carol", "Not changed: give one owner, not two"),
        ("!action done", "Say which one item is done: !action done A2"),
        ("!action done A1 A2", "Say which one item is done: !action done A2"),
        ("!action done INC-1-A1", "Not changed: INC-1-A1 is not an action item id"),
        ("!action drop A1", "Not changed: say why A1 is dropped; use !action drop A2 REASON"),
        ("!action drop", "Not changed: say which item to drop; use !action drop A2 REASON"),
    ],
)
def test_bad_changes_are_refused_with_the_reason_and_change_nothing(
    chat: Chat, command: str, expected: str
) -> None:
    start_with_items(chat)
    before = stored(chat)

    reply = chat.ask(command, at=LATER)

    assert expected in reply, reply
    assert stored(chat) == before


def test_changes_in_a_room_without_an_incident_say_how_to_start_one(chat: Chat) -> None:
    assert "!incident start TITLE" in chat.ask("!action done A1", room="#random")


def test_overdue_items_across_the_incidents_the_asker_sees(chat: Chat) -> None:
    start_with_items(chat)
    chat.ask("!action edit A2 Alert when checkout 5xx exceed 1% @erin due:2024-03-10", at=LATER)
    chat.ask("!incident start DB slow", room="#inc-db", frm="bob", at=LATER)
    chat.ask("!action add Raise the pgbouncer pool to 200 @bob due:2024-03-12", room="#inc-db", at=LATER)
    chat.ask("!action add Rehearse the failover in staging @bob due:2024-04-30", room="#inc-db", at=LATER)
    march_16 = T0 + timedelta(days=15)

    here = chat.ask("!actions --overdue", at=march_16).splitlines()
    everywhere = chat.ask("!actions --overdue", frm=ADMIN, room="#ops", at=march_16).splitlines()

    assert here == [
        "Overdue action items in this room's incidents:",
        "INC-1/A2 Alert when checkout 5xx exceed 1% (owner erin, due 2024-03-10, 6 days overdue) [pending]",
        f"INC-1/A1 {CANARY} (owner bob, due 2024-03-15, 1 day overdue) [pending]",
    ]
    assert everywhere == [
        "Overdue action items:",
        "INC-1/A2 Alert when checkout 5xx exceed 1% (owner erin, due 2024-03-10, 6 days overdue) [pending]",
        "INC-2/A1 Raise the pgbouncer pool to 200 (owner bob, due 2024-03-12, 4 days overdue) [pending]",
        f"INC-1/A1 {CANARY} (owner bob, due 2024-03-15, 1 day overdue) [pending]",
    ]
    chat.ask("!action done A1", at=march_16)
    assert chat.ask("!actions --overdue", at=march_16).splitlines()[1:] == here[1:2]
    assert chat.ask("!actions --overdue", room="#random", at=march_16) == (
        "No overdue action items in this room's incidents."
    )
