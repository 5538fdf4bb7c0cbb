"""Hostile or broken input gets a clear answer and loses nothing else: NUL bytes, deep nesting, impossible times.

PostgreSQL refuses NUL in text, so one NUL used to sink a whole Alertmanager batch (retried, and refused, forever)
and echo SQL into the chat; a year-9999 alert sorted every timeline wrong. Each case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.engine import Engine
from agent.incidents import IncidentError
from agent.models import EventKind
from agent.signals import SignalRules, receive_alertmanager
from agent.timestamps import TimestampError
from debrief.bot.replay import replay
from tests.plugin_fixtures import debrief_settings
from tests.store_fixtures import at, backend, db_url, engine
from tests.test_plugin_webhooks import ALERT

__all__ = ["backend", "db_url", "debrief_settings", "engine"]


def alerts(*changes: dict[str, Any]) -> bytes:
    """An Alertmanager notification with one alert per `changes` (each applied to a copy of the sample)."""
    payload = copy.deepcopy(ALERT)
    template = payload["alerts"][0]
    payload["alerts"] = [
        {**copy.deepcopy(template), "fingerprint": f"fp{n}", **change} for n, change in enumerate(changes)
    ]
    return json.dumps(payload).encode()


def started(engine: Engine) -> str:
    return engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", at(0), service="checkout-api").id


def test_a_nul_in_an_alert_is_dropped_and_the_batch_recorded(engine: Engine) -> None:
    incident_id = started(engine)
    body = alerts({"annotations": {"summary": "5xx\u0000 above 5%"}}, {})

    reply = receive_alertmanager(engine, SignalRules(), None, "", body)

    assert (reply.status, reply.body["recorded"]) == (200, 2)
    texts = [e.text for e in engine.timeline.events(incident_id) if e.kind is EventKind.ALERT]
    assert "Alert firing: HighErrorRate: 5xx above 5%" in texts


def test_a_nul_in_a_note_or_chat_line_is_stored_without_it(engine: Engine) -> None:
    incident_id = started(engine)

    note = engine.timeline.record(incident_id, at(1), "bob\u0000", "rolled\u0000 back", kind=EventKind.NOTE)
    engine.incidents.set_impact(incident_id, "12%\u0000 of checkouts", "alice", at(2))

    assert note is not None
    stored = engine.timeline.events(incident_id)
    assert [(e.author, e.text) for e in stored if e.kind is EventKind.NOTE] == [("bob", "rolled back")]
    assert engine.incidents.get(incident_id).impact == "12% of checkouts"


def test_deeply_nested_json_is_a_clear_400(engine: Engine) -> None:
    started(engine)
    body = b'{"alerts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    reply = receive_alertmanager(engine, SignalRules(), None, "", body)

    assert reply.status == 400
    assert reply.body["error"] == "the request body is nested too deeply to be a webhook payload"


def test_impossible_alert_times_are_refused_one_by_one_and_the_rest_recorded(engine: Engine) -> None:
    incident_id = started(engine)
    body = alerts(
        {"startsAt": "9999-12-31T23:59:59-05:00"},  # no UTC equivalent
        {"startsAt": "0001-01-01T00:00:00Z"},
        {"startsAt": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
        {},
    )

    reply = receive_alertmanager(engine, SignalRules(), None, "", body)

    assert (reply.status, reply.body["recorded"]) == (200, 1)
    assert [r["index"] for r in reply.body["rejected"]] == [0, 1, 2]
    assert all("out of range" in r["error"] for r in reply.body["rejected"])
    assert len([e for e in engine.timeline.events(incident_id) if e.kind is EventKind.ALERT]) == 1


def test_a_batch_of_nothing_but_impossible_times_is_a_400(engine: Engine) -> None:
    started(engine)

    reply = receive_alertmanager(
        engine, SignalRules(), None, "", alerts({"startsAt": "0001-01-01T00:00:00Z"})
    )

    assert reply.status == 400
    assert "out of range" in reply.body["error"]


def test_an_incident_cannot_be_resolved_or_mitigated_before_it_started(engine: Engine) -> None:
    incident_id = started(engine)

    with pytest.raises(
        IncidentError, match=r"^INC-1 cannot be resolved before it started \(2024-03-01 10:00:00"
    ):
        engine.incidents.resolve(incident_id, "alice", at(-5))
    with pytest.raises(IncidentError, match="cannot be mitigated before it started"):
        engine.incidents.mitigate(incident_id, "alice", at(-1))
    with pytest.raises(TimestampError, match="out of range"):
        engine.incidents.resolve(incident_id, "alice", datetime(9999, 1, 1, tzinfo=UTC))
    assert engine.incidents.get(incident_id).resolved_at is None


def transcript(*lines: tuple[str, str, str]) -> dict[str, object]:
    return {"room": "#inc-replay", "messages": [{"at": a, "from": who, "text": t} for a, who, t in lines]}


def test_replay_counts_a_message_it_could_not_record(debrief_settings: Any) -> None:
    fine = transcript(
        ("2024-03-01T10:00:00Z", "alice", "!incident start Replay drill"),
        ("2024-03-01T10:01:00Z", "bob", "a line that is fine"),
    )
    future = transcript(
        ("2024-03-01T10:02:00Z", "bob", "another fine line"),
        ("9999-01-01T00:00:00Z", "bob", "a line from the far future"),
    )

    assert replay(debrief_settings, fine).dropped == 0
    assert replay(debrief_settings, future).dropped == 1


def test_a_second_transcript_into_the_same_incident_adds_its_messages(debrief_settings: Any) -> None:
    first = transcript(
        ("2024-03-01T10:00:00Z", "alice", "!incident start Replay drill"),
        ("2024-03-01T10:01:00Z", "bob", "pods restarting"),
    )
    second = transcript(
        ("2024-03-01T10:05:00Z", "carol", "rollback started"),
        ("2024-03-01T10:06:00Z", "carol", "error rate back to 0.1%"),
    )
    replay(debrief_settings, first)
    replay(debrief_settings, second)
    replay(debrief_settings, second)  # the same transcript again adds nothing

    engine = Engine.from_settings(debrief_settings)
    try:
        texts = [
            e.text for e in engine.timeline.events("INC-1", key_only=False) if e.kind is EventKind.MESSAGE
        ]
    finally:
        engine.close()
    assert texts == ["pods restarting", "rollback started", "error rate back to 0.1%"]
