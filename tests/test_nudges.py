"""Nudges: one reminder per missing commander, missing severity or quiet stretch; never repeated, even on restart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from agent.engine import Engine
from agent.models import EventKind, Severity
from agent.nudges import Nudge, NudgeThresholds, due_nudges
from agent.timestamps import TimestampError
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

NO_COMMANDER = "INC-1 has had no commander for {} minutes. Whoever leads it: `!incident commander @you`."
NO_SEVERITY = "INC-1 has no severity yet. Set one with `!incident sev SEVn [reason]`."
QUIET = (
    "INC-1: nothing key recorded for {} minutes. Add a status note with `!note TEXT`, "
    "or `!incident mitigated` / `!incident resolve` if it is over."
)


def test_a_new_incident_is_not_nudged_before_the_thresholds(engine: Engine) -> None:
    engine.incidents.start("#inc-a", "Disk full", "alice", at(0))
    assert due_nudges(engine, at(9)) == []


def test_missing_commander_and_severity_are_each_nudged_once(engine: Engine) -> None:
    engine.incidents.start("#inc-a", "Disk full", "alice", at(0))
    assert due_nudges(engine, at(12)) == [
        Nudge("#inc-a", "INC-1", NO_COMMANDER.format(12)),
        Nudge("#inc-a", "INC-1", NO_SEVERITY),
    ]
    assert due_nudges(engine, at(13)) == []
    assert due_nudges(engine, at(40)) == []


def test_a_restart_does_not_repeat_a_nudge(db_url: str) -> None:
    first = Engine.open(db_url)
    first.incidents.start("#inc-a", "Disk full", "alice", at(0), severity=Severity.SEV3)
    assert len(due_nudges(first, at(12))) == 1
    first.close()
    second = Engine.open(db_url)
    assert due_nudges(second, at(13)) == []
    second.close()


def test_an_incident_with_commander_and_severity_is_left_alone(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Disk full", "alice", at(0), severity=Severity.SEV2)
    engine.incidents.set_commander(incident.id, "alice", "alice", at(3))
    assert due_nudges(engine, at(30)) == []


def test_a_quiet_incident_is_nudged_once_per_quiet_stretch(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Disk full", "alice", at(0), severity=Severity.SEV2)
    engine.incidents.set_commander(incident.id, "alice", "alice", at(1))
    engine.timeline.record(incident.id, at(20), "bob", "still looking", source="m1")  # chatter is not key
    assert due_nudges(engine, at(60)) == []
    assert due_nudges(engine, at(61)) == [Nudge("#inc-a", "INC-1", QUIET.format(60))]
    assert due_nudges(engine, at(90)) == []
    engine.timeline.record(incident.id, at(95), "bob", "failover started", kind=EventKind.NOTE)
    assert due_nudges(engine, at(120)) == []
    assert due_nudges(engine, at(156)) == [Nudge("#inc-a", "INC-1", QUIET.format(61))]


def test_resolved_incidents_are_never_nudged(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Disk full", "alice", at(0))
    engine.incidents.resolve(incident.id, "alice", at(5))
    assert due_nudges(engine, at(300)) == []


def test_thresholds_are_configurable(engine: Engine) -> None:
    engine.incidents.start("#inc-a", "Disk full", "alice", at(0), severity=Severity.SEV2)
    limits = NudgeThresholds(no_commander_after=timedelta(minutes=2), quiet_after=timedelta(hours=5))
    assert due_nudges(engine, at(3), limits) == [Nudge("#inc-a", "INC-1", NO_COMMANDER.format(3))]


def test_nudges_need_an_aware_now(engine: Engine) -> None:
    with pytest.raises(TimestampError):
        due_nudges(engine, datetime(2024, 3, 1, 11, 0))
