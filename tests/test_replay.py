"""`replay`: a transcript through the real plugins, replies attributed, state left in the data dir."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.models import EventKind, IncidentStatus
from agent.settings import Settings
from debrief.bot.replay import ReplayResult, TranscriptError, replay
from tests.plugin_fixtures import debrief_settings

__all__ = ["debrief_settings"]

TRANSCRIPT = Path(__file__).parent / "data" / "checkout_transcript.json"


def transcript() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TRANSCRIPT.read_text())
    return data


def test_replay_answers_every_command_in_order(debrief_settings: Settings) -> None:
    result = replay(debrief_settings, transcript())

    assert result.incident_id == "INC-1"
    assert [reply.to for reply in result.replies] == [
        "!incident start Checkout 5xx spike --sev SEV2 --service checkout-api",
        "!incident sev SEV1 payments failing",
        "!incident commander @carol",
        "!note rolling back the 09:55 deploy",
        "!incident mitigated",
        "!action add Add a canary stage to checkout deploys @bob due:2024-03-15",
        "!timeline",
    ]
    texts = [reply.text for reply in result.replies]
    assert texts[0].startswith("INC-1 started: Checkout 5xx spike (SEV2, service checkout-api).")
    assert texts[1] == "INC-1 is now SEV1 (payments failing)."  # anyone in the room, with a reason
    assert (
        texts[4]
        == "INC-1 mitigated at 2024-03-01 10:12:00 UTC. Resolve it with !incident resolve once the fix is in."
    )
    assert "2024-03-01 10:06:30 UTC  carol  [note]  rolling back the 09:55 deploy" in texts[6]


def test_replay_keeps_every_message_with_its_own_time_in_the_data_dir(debrief_settings: Settings) -> None:
    replay(debrief_settings, transcript())

    engine = Engine.from_settings(debrief_settings)
    try:
        incident = engine.incidents.get("INC-1")
        assert incident.room == "#inc-checkout"
        assert incident.status is IncidentStatus.MITIGATED
        assert incident.started_at == datetime(2024, 3, 1, 10, 2, tzinfo=UTC)
        [message] = [
            e for e in engine.timeline.events("INC-1", key_only=False) if e.kind is EventKind.MESSAGE
        ]
        assert (message.author, message.at) == ("bob", datetime(2024, 3, 1, 10, 3, 10, tzinfo=UTC))
        assert [a.owner for a in engine.actions.list("INC-1")] == ["bob"]
    finally:
        engine.close()


def test_replaying_twice_records_messages_and_notes_once(debrief_settings: Settings) -> None:
    replay(debrief_settings, transcript())
    second = replay(debrief_settings, transcript())

    assert second.incident_id == "INC-1"
    assert second.replies[0].text == "room #inc-checkout already has open incident INC-1"
    engine = Engine.from_settings(debrief_settings)
    try:
        texts = [e.text for e in engine.timeline.events("INC-1", key_only=False)]
        assert texts.count("error rate 12% on checkout-api since the 09:55 deploy") == 1
        assert texts.count("rolling back the 09:55 deploy") == 1
    finally:
        engine.close()


def test_replaying_twice_adds_each_action_item_once_with_the_same_reply(debrief_settings: Settings) -> None:
    first = replay(debrief_settings, transcript())
    second = replay(debrief_settings, transcript())

    def added(result: ReplayResult) -> list[str]:
        return [r.text for r in result.replies if r.to.startswith("!action add")]

    assert (
        added(second)
        == added(first)
        == ["Added to INC-1: A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15) [pending]"]
    )
    engine = Engine.from_settings(debrief_settings)
    try:
        assert [a.title for a in engine.actions.list("INC-1")] == ["Add a canary stage to checkout deploys"]
        texts = [e.text for e in engine.timeline.events("INC-1") if e.kind is EventKind.ACTION]
        assert texts == ["Action A1: Add a canary stage to checkout deploys (owner bob, due 2024-03-15)"]
    finally:
        engine.close()


def test_replay_that_resolves_still_names_the_incident(debrief_settings: Settings) -> None:
    data = transcript()
    data["messages"].append({"at": "2024-03-01T10:30:00Z", "from": "carol", "text": "!incident resolve"})

    result = replay(debrief_settings, data)

    assert result.incident_id == "INC-1"
    assert result.replies[-1].text.startswith("INC-1 resolved at 2024-03-01 10:30:00 UTC after 28m.")


def test_replay_without_commands_has_no_replies_and_no_incident(debrief_settings: Settings) -> None:
    data: dict[str, object] = {
        "room": "#random",
        "messages": [{"at": "2024-03-01T10:00:00Z", "from": "bob", "text": "hi"}],
    }
    assert replay(debrief_settings, data).model_dump() == {"incident_id": None, "replies": [], "dropped": 0}


def mutate(path: str, value: Any) -> dict[str, Any]:
    """The sample transcript with one field replaced (`messages.1.at`) or removed (value None)."""
    data = copy.deepcopy(transcript())
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[int(last) if last.isdigit() else last]
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (["not", "a", "transcript"], "transcript: Input should be a valid dictionary"),
        (mutate("room", None), "transcript room: Field required"),
        (mutate("room", ""), "transcript room: String should have at least 1 character"),
        (mutate("messages", None), "transcript messages: Field required"),
        (
            mutate("messages", []),
            "transcript messages: List should have at least 1 item after validation, not 0",
        ),
        (mutate("messages.1.at", "yesterday"), "transcript messages.1.at: Input should be a valid datetime"),
        (
            mutate("messages.1.at", "2024-03-01T10:03:10"),
            "transcript messages.1.at: Input should have timezone info",
        ),
        (mutate("messages.1.at", None), "transcript messages.1.at: Field required"),
        (mutate("messages.2.text", 42), "transcript messages.2.text: Input should be a valid string"),
        (mutate("messages.2.from", None), "transcript messages.2.from: Field required"),
    ],
)
def test_malformed_transcript_is_refused_before_anything_runs(
    debrief_settings: Settings, data: Any, reason: str
) -> None:
    with pytest.raises(TranscriptError) as error:
        replay(debrief_settings, data)

    assert str(error.value).startswith(reason)
    assert not (debrief_settings.data_dir / "debrief.db").exists()
