"""Room messages reach their open incident's timeline off the chat thread, and flush means stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agent.capture import CaptureWriter, RoomMessage
from agent.engine import Engine
from agent.settings import Settings
from tests.plugin_fixtures import debrief_settings

__all__ = ["debrief_settings"]

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(debrief_settings: Settings) -> Iterator[Engine]:
    engine = Engine.from_settings(debrief_settings)
    engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", T0)
    yield engine
    engine.close()


def message(n: int, room: str = "#inc-checkout") -> RoomMessage:
    return RoomMessage(room, T0 + timedelta(seconds=n), "bob", f"update {n}", f"m-{room}-{n}")


def test_flushed_messages_are_on_the_timeline_of_their_rooms_incident(engine: Engine) -> None:
    capture = CaptureWriter(engine.timeline, batch_size=100)
    for n in range(1000):
        capture.submit(message(n))
        capture.submit(message(n, room="#random"))

    assert capture.flush(timeout=30)
    assert engine.timeline.count("INC-1") == 1 + 1000
    capture.close()


def test_close_hands_over_everything_queued(debrief_settings: Settings, engine: Engine) -> None:
    capture = CaptureWriter(engine.timeline)
    for n in range(500):
        capture.submit(message(n))
    capture.close()
    engine.close()

    reopened = Engine.from_settings(debrief_settings)
    try:
        assert reopened.timeline.count("INC-1") == 1 + 500
    finally:
        reopened.close()


def test_a_redelivered_message_is_recorded_once(engine: Engine) -> None:
    capture = CaptureWriter(engine.timeline)
    capture.submit(message(1))
    capture.submit(message(1))
    assert capture.flush(timeout=10)
    assert engine.timeline.count("INC-1") == 2
    capture.close()
