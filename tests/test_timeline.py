"""The timeline keeps each source message once, at its own time, and answers key-event queries in time order."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.engine import Engine
from agent.incidents import UnknownIncident
from agent.models import EventKind, Incident
from agent.timeline import NewEvent
from agent.timestamps import TimestampError
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]


@pytest.fixture
def incident(engine: Engine) -> Incident:
    return engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", at(0))


def test_a_message_is_recorded_at_the_sources_time_with_its_author(
    engine: Engine, incident: Incident
) -> None:
    event = engine.timeline.record(incident.id, at(3), "bob", "error rate 12%", source="C1:100.1")
    assert event is not None
    assert (event.incident_id, event.at, event.author, event.text) == (
        incident.id,
        at(3),
        "bob",
        "error rate 12%",
    )
    assert (event.kind, event.key, event.source) == (EventKind.MESSAGE, False, "C1:100.1")
    assert engine.timeline.events(incident.id, key_only=False)[-1] == event


def test_duplicate_message_is_recorded_once(engine: Engine, incident: Incident) -> None:
    assert engine.timeline.record(incident.id, at(3), "bob", "error rate 12%", source="C1:100.1")
    assert engine.timeline.record(incident.id, at(3), "bob", "error rate 12%", source="C1:100.1") is None
    assert engine.timeline.count(incident.id) == 2  # the start event and the message


def test_the_same_source_in_two_incidents_is_two_events(engine: Engine, incident: Incident) -> None:
    other = engine.incidents.start("#inc-db", "DB slow", "bob", at(0))
    assert engine.timeline.record(incident.id, at(1), "bob", "see alert", source="alert:123")
    assert engine.timeline.record(other.id, at(1), "bob", "see alert", source="alert:123")


def test_events_without_a_source_are_never_deduplicated(engine: Engine, incident: Incident) -> None:
    for _ in range(2):
        assert engine.timeline.record(incident.id, at(1), "alice", "rolled back", kind=EventKind.NOTE)
    assert engine.timeline.count(incident.id) == 3


@pytest.mark.parametrize("kind", [EventKind.NOTE, EventKind.ALERT, EventKind.DEPLOY, EventKind.STATUS])
def test_notes_alerts_deploys_and_status_changes_are_key_events(
    engine: Engine, incident: Incident, kind: EventKind
) -> None:
    event = engine.timeline.record(incident.id, at(1), "alertmanager", "HighErrorRate firing", kind=kind)
    assert event is not None and event.key


def test_recording_for_an_unknown_incident_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownIncident, match="there is no incident INC-9"):
        engine.timeline.record("INC-9", at(1), "bob", "hello")


def test_naive_event_times_are_refused_in_the_callers_thread() -> None:
    with pytest.raises(TimestampError, match="has no timezone"):
        NewEvent("INC-1", datetime(2024, 3, 1, 10, 0), "bob", "hello")
    with pytest.raises(UnknownIncident, match="not an incident id"):
        NewEvent("checkout", at(0), "bob", "hello")


def test_record_many_skips_duplicates_in_the_batch_and_already_stored(
    engine: Engine, incident: Incident
) -> None:
    engine.timeline.record(incident.id, at(1), "bob", "first", source="m1")
    batch = [
        NewEvent(incident.id, at(1), "bob", "first", source="m1"),
        NewEvent(incident.id, at(2), "carol", "second", source="m2"),
        NewEvent(incident.id, at(2), "carol", "second", source="m2"),
        NewEvent(incident.id, at(3), "dave", "third", source="m3"),
    ]
    assert engine.timeline.record_many(batch) == 2
    assert engine.timeline.record_many(batch) == 0
    assert engine.timeline.record_many([]) == 0
    texts = [event.text for event in engine.timeline.events(incident.id, key_only=False)]
    assert texts[1:] == ["first", "second", "third"]


def test_record_many_is_all_or_nothing(engine: Engine, incident: Incident) -> None:
    batch = [
        NewEvent(incident.id, at(1), "bob", "fine", source="m1"),
        NewEvent("INC-77", at(1), "bob", "lost incident", source="m2"),
    ]
    with pytest.raises(UnknownIncident, match="INC-77"):
        engine.timeline.record_many(batch)
    assert engine.timeline.count(incident.id) == 1


def test_message_authors_become_participants_once(engine: Engine, incident: Incident) -> None:
    engine.timeline.record_many(
        [
            NewEvent(incident.id, at(1), "bob", "one", source="m1"),
            NewEvent(incident.id, at(2), "carol", "two", source="m2"),
            NewEvent(incident.id, at(3), "bob", "three", source="m3"),
        ]
    )
    assert engine.incidents.get(incident.id).participants == ["alice", "bob", "carol"]


def test_a_pin_marks_a_recorded_message_key(engine: Engine, incident: Incident) -> None:
    engine.timeline.record(incident.id, at(4), "bob", "rollback fixed it", source="C1:200.5")
    pinned = engine.timeline.mark_key("C1:200.5")
    assert pinned is not None and pinned.key and pinned.text == "rollback fixed it"
    assert [event.text for event in engine.timeline.events(incident.id)][-1] == "rollback fixed it"
    assert engine.timeline.mark_key("C1:never-seen") is None


def test_events_are_in_source_time_order_not_arrival_order(engine: Engine, incident: Incident) -> None:
    engine.timeline.record(incident.id, at(9), "bob", "late", kind=EventKind.NOTE)
    engine.timeline.record(incident.id, at(2), "bob", "early", kind=EventKind.NOTE)
    engine.timeline.record(incident.id, at(5), "bob", "chatter", source="m5")
    assert [e.text for e in engine.timeline.events(incident.id)][1:] == ["early", "late"]
    assert [e.text for e in engine.timeline.events(incident.id, key_only=False)][1:] == [
        "early",
        "chatter",
        "late",
    ]


def test_limit_returns_the_latest_events_oldest_first(engine: Engine, incident: Incident) -> None:
    for minute in range(1, 6):
        engine.timeline.record(incident.id, at(minute), "bob", f"note {minute}", kind=EventKind.NOTE)
    assert [e.text for e in engine.timeline.events(incident.id, limit=2)] == ["note 4", "note 5"]
    assert engine.timeline.events(incident.id, limit=0) == []


def test_count_and_events_of_an_unknown_incident_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownIncident):
        engine.timeline.count("INC-3")
    with pytest.raises(UnknownIncident):
        engine.timeline.events("INC-3")
