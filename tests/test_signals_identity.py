"""A signal is known by what it is, not by how its sender wrote it, and recorded at a time it can stand for: the same
instant in another offset is the same alert or event, a resolution without an end time is no firing, and an
incident id is written in ASCII digits.

Through the webhooks' engine calls on SQLite and, when configured, PostgreSQL, with real senders' payloads
(tests/data/signals).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.models import EventKind
from agent.postmortem.facts import times_of
from agent.signals import SignalRules, receive_alertmanager, receive_events
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

DATA = Path(__file__).parent / "data" / "signals"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def alerts(engine: Engine, body: dict[str, Any], rules: SignalRules | None = None) -> dict[str, Any]:
    reply = receive_alertmanager(engine, rules or SignalRules(), None, "", json.dumps(body).encode())
    assert reply.status == 200, reply.body
    return reply.body


def in_utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def test_a_resolution_without_an_end_time_is_at_its_arrival_not_taken_for_the_firing(engine: Engine) -> None:
    """Alertmonitor's "Clear" carries endsAt 0001-01-01; its alerts started at 16:27:56, before the incident."""
    started = datetime(2019, 9, 27, 16, 30, tzinfo=UTC)
    incident = engine.incidents.start("#inc", "Pings lost", "alice", started, services=("blackbox-icmp",))
    before = datetime.now(UTC)

    body = alerts(engine, payload("alertmanager/alertmonitor-3-alerts-resolved.json"))

    assert body["recorded"] == 3
    events = [e for e in engine.timeline.events(incident.id, key_only=False) if e.kind is EventKind.ALERT]
    assert all(e.at >= before and "(its end time was not sent)" in e.text for e in events)
    times = times_of(engine.incidents.get(incident.id), engine.timeline.events(incident.id, key_only=False))
    assert times.started_at == started
    assert times.detected_at is None or times.detected_at >= started


def test_an_alert_sent_again_in_another_offset_is_the_same_alert(engine: Engine) -> None:
    engine.incidents.start(
        "#inc", "Memory", "alice", datetime(2021, 10, 12, 7, 50, tzinfo=UTC), services=("blue",)
    )
    by_team = SignalRules(labels=("team",))
    grafana = payload("grafana/zulip-grafana-alert_multiple_v8.json")  # startsAt in +02:00
    in_utc_again = json.loads(json.dumps(grafana))
    for alert in in_utc_again["alerts"]:
        alert["startsAt"] = in_utc(alert["startsAt"])

    first = alerts(engine, grafana, by_team)
    again = alerts(engine, in_utc_again, by_team)

    assert (first["recorded"], again["recorded"], again["duplicates"]) == (2, 0, 2)


def test_a_generic_event_sent_again_in_another_offset_is_the_same_event(engine: Engine) -> None:
    engine.incidents.start(
        "#inc", "Checkout", "alice", datetime(2024, 3, 1, 9, 0, tzinfo=UTC), services=("checkout",)
    )
    event = {"service": "checkout", "text": "Pipeline 4711 deployed checkout v2.3.1"}

    sent = [
        json.dumps({**event, "at": at}).encode()
        for at in ("2024-03-01T09:55:00Z", "2024-03-01T10:55:00+01:00")
    ]

    first, again = (receive_events(engine, SignalRules(), None, "", body) for body in sent)

    assert (first.body["recorded"], again.body["recorded"], again.body["duplicates"]) == (1, 0, 1)


@pytest.mark.parametrize("incident", ["INC-\u0661", "INC-\uff11", "\u0131nc-1"])
def test_an_incident_id_in_other_digits_or_letters_is_refused(engine: Engine, incident: str) -> None:
    engine.incidents.start("#inc", "Checkout", "alice", datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
    body = json.dumps({"incident": incident, "text": "Flag new-checkout off"}).encode()

    reply = receive_events(engine, SignalRules(), None, "", body)

    assert reply.status == 400
    assert (
        f"incident: Value error, {incident!r} is not an incident id; ids look like INC-3"
        in reply.body["error"]
    )
    assert engine.timeline.events("INC-1", key_only=False)[-1].kind is EventKind.STATUS
