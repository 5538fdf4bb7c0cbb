"""Room messages onto their room's open incident timeline, without the chat thread ever touching the database.

The chat thread only enqueues. One thread takes what has queued up, finds the open incidents with one query for
the whole batch, and hands the events to the engine's `CaptureWriter`, which commits them in batches. A lookup per
message would cap capture at a few hundred messages a second; a lookup per batch keeps up with any room.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.exc import SQLAlchemyError

from agent.engine import Engine
from agent.errors import DebriefError
from agent.timeline import NewEvent

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 5.0


class RoomMessage(NamedTuple):
    room: str
    at: datetime
    author: str
    text: str
    source: str | None


class RoomCapture:
    """A queue and a thread between the chat callbacks and `Engine.capture`."""

    def __init__(self, engine: Engine, batch_size: int = 500) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._queue: queue.SimpleQueue[RoomMessage | None] = queue.SimpleQueue()
        self._progress = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="debrief-room-capture", daemon=True)
        self._thread.start()

    def submit(self, message: RoomMessage) -> None:
        """Queue a message; it is recorded only if its room has an open incident when its batch is read."""
        with self._progress:
            self._submitted += 1
        self._queue.put(message)

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is committed (or known to belong to no incident)."""
        deadline = time.monotonic() + timeout
        with self._progress:
            target = self._submitted
            if not self._progress.wait_for(lambda: self._done >= target, timeout):
                return False
        return self._engine.capture.flush(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 10.0) -> None:
        """Hand over what is queued, then stop (the engine's writer commits it when the engine closes)."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stopping.set()
            log.warning("room capture: %d messages not handed over at close", self._submitted - self._done)

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            if batch:
                self._hand_over(batch)
            if stop:
                return

    def _next_batch(self) -> tuple[list[RoomMessage], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _hand_over(self, batch: list[RoomMessage]) -> None:
        incidents = self._open_incidents()
        for message in batch:
            incident_id = incidents.get(message.room)
            if incident_id is not None:
                event = NewEvent(incident_id, message.at, message.author, message.text, source=message.source)
                self._engine.capture.submit(event)
        with self._progress:
            self._done += len(batch)
            self._progress.notify_all()

    def _open_incidents(self) -> dict[str, str]:
        """Room -> open incident id; a database outage delays the batch, it does not drop it."""
        delay = 0.05
        while True:
            try:
                return {incident.room: incident.id for incident in self._engine.incidents.list_open()}
            except (DebriefError, SQLAlchemyError) as exc:
                if self._stopping.is_set():
                    return {}
                log.warning("room capture: cannot read open incidents, retrying in %.2fs: %s", delay, exc)
                self._stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)
