"""A signal that goes to an incident takes the unmatched signals of its thread with it: Alertmonitor's firing
group (published example, tests/data/signals) arrived before any incident had its service, the resolution after."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from agent.engine import Engine
from agent.models import EventKind
from agent.signals import SignalRules, receive_alertmanager
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

ALERTMANAGER = Path(__file__).parent / "data" / "signals" / "alertmanager"


def send(engine: Engine, name: str) -> dict[str, object]:
    reply = receive_alertmanager(engine, SignalRules(), None, "", (ALERTMANAGER / name).read_bytes())
    assert reply.status == 200, reply.body
    return reply.body


def test_a_resolution_brings_its_unmatched_firing_and_follows_it(engine: Engine) -> None:
    assert send(engine, "alertmonitor-3-alerts-firing.json")["unmatched"] == 3
    started = datetime(2019, 9, 27, 16, 30, tzinfo=UTC)  # 2 minutes after the alerts started
    incident = engine.incidents.start("#inc", "Pings lost", "alice", started, services=("blackbox-icmp",))

    assert send(engine, "alertmonitor-3-alerts-resolved.json")["recorded"] == 3

    alerts = [e for e in engine.timeline.events(incident.id, key_only=False) if e.kind is EventKind.ALERT]
    firing = [e for e in alerts if e.text.startswith("Alert firing")]
    resolved = [e for e in alerts if e.text.startswith("Alert resolved")]
    assert len(firing) == len(resolved) == 3
    assert all(not e.context and e.at < started for e in firing)
    followed = sorted(int(re.search(r"\(follows E(\d+)\)", e.text)[1]) for e in resolved)  # type: ignore[index]
    assert followed == sorted(e.id for e in firing)


def test_an_unmatched_signal_long_before_the_incident_stays_unmatched(engine: Engine) -> None:
    send(engine, "alertmonitor-3-alerts-firing.json")
    later = datetime(2019, 9, 27, 18, 30, tzinfo=UTC)  # two hours on: past the 60-minute pre-incident window
    incident = engine.incidents.start("#inc", "Pings lost again", "alice", later, services=("blackbox-icmp",))

    send(engine, "alertmonitor-3-alerts-resolved.json")

    alerts = [e for e in engine.timeline.events(incident.id, key_only=False) if e.kind is EventKind.ALERT]
    assert alerts and all(e.text.startswith("Alert resolved") for e in alerts)
