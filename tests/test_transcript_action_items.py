"""tests/data/action_items_transcript.json through the real bot: action items added, edited, done and dropped after
the incident is resolved, the gate speaking at once, a bad id refused, the overdue list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.engine import Engine
from agent.settings import Settings
from debrief.bot.replay import replay
from tests.plugin_fixtures import debrief_settings

__all__ = ["debrief_settings"]

TRANSCRIPT = Path(__file__).parent / "data" / "action_items_transcript.json"
ALERT = "Alert when payment gateway p99 exceeds 2s for 5 minutes"
SYNTHETIC = "Add a synthetic payment check every minute against each gateway region"
DROPPED = "dropped: the vendor now fails over between regions on its own"


def transcript() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TRANSCRIPT.read_text())
    return data


def test_action_items_are_added_edited_done_and_dropped_after_resolve(debrief_settings: Settings) -> None:
    result = replay(debrief_settings, transcript())

    replies = {reply.to: reply.text.splitlines() for reply in result.replies}
    assert result.incident_id == "INC-1"
    assert replies["!incident resolve failover complete, the vendor fixed their region"][0].startswith(
        "INC-1 resolved at 2024-03-12 10:40:00 UTC"
    )
    assert replies["!action add Improve monitoring"] == [
        "Added to INC-1: A2 Improve monitoring (no owner) [needs_revision]",
        "Needs revision before it can be filed: the title is vague ('Improve monitoring'): name the concrete change "
        "(what, where, which threshold) and how we will know it is done; no owner: add @owner; no due date: add "
        "due:YYYY-MM-DD. Fix it with !action edit A2 ...",
    ]
    assert replies[f"!action edit A2 {SYNTHETIC} @dana due:2024-03-22"] == [
        "Edited INC-1/A2: text was 'Improve monitoring', owner set to dana, due set to 2024-03-22",
        f"INC-1/A2 {SYNTHETIC} (owner dana, due 2024-03-22) [pending]",
    ]
    assert replies["!action add Automate the gateway region failover @erin due:2024-02-28"][1] == (
        "Needs revision before it can be filed: due date 2024-02-28 is in the past. Fix it with !action edit A3 ..."
    )
    assert replies["!action edit A3 due:2024-03-29"][0] == "Edited INC-1/A3: due 2024-02-28 -> 2024-03-29"
    assert replies["!action edit A1 @gina"][0] == "Edited INC-1/A1: owner erin -> gina"
    assert replies["!action edit A9 @gina"] == ["INC-1 has no action item A9"]
    assert replies["!action done A1"][0] == "INC-1/A1 is done."
    assert replies["!action done A3"] == [
        "INC-1/A3 was dropped (the vendor now fails over between regions on its own), so it cannot be marked done"
    ]
    assert replies["!actions"] == [
        "INC-1 action items:",
        f"A1 {ALERT} (owner gina, due 2024-03-20) [done]",
        f"A2 {SYNTHETIC} (owner dana, due 2024-03-22) [pending]",
        f"A3 Automate the gateway region failover (owner erin, due 2024-03-29) [{DROPPED}]",
    ]
    assert replies["!actions --overdue"] == [
        "Overdue action items in this room's incidents:",
        f"INC-1/A2 {SYNTHETIC} (owner dana, due 2024-03-22, 3 days overdue) [pending]",
    ]


def test_the_changes_are_audited_with_who_made_them_and_why(debrief_settings: Settings) -> None:
    replay(debrief_settings, transcript())

    engine = Engine.from_settings(debrief_settings)
    try:
        items = engine.actions.list("INC-1")
        trail = [
            (e.actor, e.action, json.loads(e.detail).get("reason"))
            for e in engine.store.audit_trail("INC-1")
            if e.action.endswith("_action")
        ]
    finally:
        engine.close()

    assert [(i.ref, i.status.value, i.owner) for i in items] == [
        ("A1", "done", "gina"),
        ("A2", "pending", "dana"),
        ("A3", "dropped", "erin"),
    ]
    assert trail == [
        ("frank", "add_action", None),
        ("dana", "add_action", None),
        ("dana", "edit_action", None),
        ("erin", "add_action", None),
        ("erin", "edit_action", None),
        ("frank", "edit_action", None),
        ("gina", "complete_action", None),
        ("frank", "drop_action", "the vendor now fails over between regions on its own"),
    ]
