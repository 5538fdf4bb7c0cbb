"""Timeline capture off the chat thread: the chat thread only enqueues, one writer thread commits in batches.

Two things are queued: `NewEvent`s, whose incident is known, and `RoomMessage`s, chat lines that belong to
their room's open incident, if it has one when their batch is read (one query per batch, not per message, so
capture keeps up with any room). An event counts as acknowledged once the transaction holding it has committed
(`on_commit` is called then, and `flush` returns only after it). While one batch commits the next one fills up,
so throughput grows with load instead of paying one commit per message.

One retry policy covers the whole path: a database that is unreachable, restarting or locked delays capture
(retries with backoff); it never drops queued items. Only events that can never be stored (an unknown
incident, data the database rejects) are dropped, one by one, and logged.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from agent.errors import DebriefError
from agent.incidents import IncidentService
from agent.timeline import NewEvent, Timeline

log = logging.getLogger(__name__)

OnCommit = Callable[[Sequence[NewEvent]], None]
RoomIncidents = Callable[[Iterable[str]], dict[str, str]]
Settled = Callable[[], None]
_T = TypeVar("_T")
# The database is unreachable, restarting or locked: what a retry can fix.
_TRANSIENT: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# Reading where room messages go has no bad data to isolate: any database error is waited out.
_LOOKUP_TRANSIENT: tuple[type[Exception], ...] = (SQLAlchemyError, DebriefError)


class CaptureClosed(DebriefError):
    """Events were submitted after the writer was closed."""


class RoomMessage(NamedTuple):
    """A chat line said in `room`; it goes on the room's open incident, if any."""

    room: str
    at: datetime
    author: str
    text: str
    source: str | None


_Queued = tuple["NewEvent | RoomMessage", Settled | None]


class CaptureWriter:
    """A background thread + queue that batches events into `Timeline.record_many` (commit = ack)."""

    def __init__(
        self,
        timeline: Timeline,
        *,
        room_incidents: RoomIncidents | None = None,
        batch_size: int = 500,
        on_commit: OnCommit | None = None,
        max_retry_delay_s: float = 5.0,
        name: str = "debrief-capture",
    ) -> None:
        self._timeline = timeline
        self._room_incidents = room_incidents or IncidentService(timeline.store).open_by_room
        self._batch_size = max(batch_size, 1)
        self._on_commit = on_commit
        self._max_retry_delay_s = max_retry_delay_s
        self._queue: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._progress = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._inserted = 0
        self._dropped = 0
        self._closed = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Submitted items not yet committed, dropped or found to belong to no incident."""
        with self._progress:
            return self._submitted - self._done

    @property
    def inserted(self) -> int:
        """Events committed as new (duplicates of already recorded sources are committed but not counted)."""
        with self._progress:
            return self._inserted

    @property
    def dropped(self) -> int:
        """Events that could never be stored, such as ones for an unknown incident."""
        with self._progress:
            return self._dropped

    def submit(self, item: NewEvent | RoomMessage, settled: Settled | None = None) -> None:
        """Queue an event, or a room's chat line, for the writer thread; never blocks on the database.

        `settled` is called once the item is committed, or known to need no write (no open incident, a time
        no message can have): the moment a platform may be told the message is safe.
        """
        with self._progress:
            if self._closed:
                raise CaptureClosed("timeline capture is closed; the event was not recorded")
            self._submitted += 1
            self._queue.put((item, settled))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed (or dropped); False on timeout."""
        with self._progress:
            target = self._submitted
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Commit what is queued, then stop the thread; False if that did not finish within `timeout`."""
        with self._progress:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("timeline capture: %d events still uncommitted at close", self.pending)
            self._stopping.set()
            return False
        return self.pending == 0

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._handle(batch)

    def _handle(self, batch: list[_Queued]) -> None:
        resolved = self._events([item for item, _ in batch])
        if resolved is None:  # stopping while the database was down
            return
        events, dropped = resolved
        if events and not self._write(events):
            return  # stopping while the database was down: nothing is settled
        self._count(done=len(batch) - len(events), dropped=dropped)  # the items that became no event
        for _, settled in batch:
            if settled is not None:
                try:
                    settled()
                except Exception:
                    log.exception("timeline capture: a settled callback failed")

    def _events(self, batch: list[NewEvent | RoomMessage]) -> tuple[list[NewEvent], int] | None:
        """The batch as events (each room message on its room's open incident, others left out), and how many
        messages were dropped for a time no message can have."""
        rooms = {item.room for item in batch if isinstance(item, RoomMessage)}
        incidents = self._retrying(lambda: self._room_incidents(rooms), _LOOKUP_TRANSIENT) if rooms else {}
        if incidents is None:
            return None
        events: list[NewEvent] = []
        dropped = 0
        for item in batch:
            if isinstance(item, NewEvent):
                events.append(item)
            elif item.room in incidents:
                try:
                    events.append(
                        NewEvent(incidents[item.room], item.at, item.author, item.text, source=item.source)
                    )
                except DebriefError as exc:
                    log.warning(
                        "timeline capture: dropped message %s: %s", item.source or item.text[:40], exc
                    )
                    dropped += 1
        return events, dropped

    def _write(self, events: list[NewEvent]) -> bool:
        """Commit the events (one by one when the batch fails); False if stopping left them uncommitted."""
        try:
            inserted = self._retrying(lambda: self._timeline.record_many(events))
        except Exception as exc:
            # Something about the events themselves (unknown incident, bad data): isolate the culprits.
            return self._write_one_by_one(events, exc)
        if inserted is None:
            return False
        self._acknowledge(events, inserted)
        return True

    def _retrying(
        self, operation: Callable[[], _T], transient: tuple[type[Exception], ...] = _TRANSIENT
    ) -> _T | None:
        """`operation()`, retried with backoff while the database is unavailable; None once stopping."""
        delay = 0.05
        while True:
            try:
                return operation()
            except transient as exc:
                if self._stopping.is_set():
                    return None
                log.warning("timeline capture: database error, retrying in %.2fs: %s", delay, exc)
                self._stopping.wait(delay)
                delay = min(delay * 2, self._max_retry_delay_s)

    def _write_one_by_one(self, events: list[NewEvent], exc: Exception) -> bool:
        """One bad event must not sink its batch: retry each alone and drop only the ones that fail."""
        if len(events) == 1:
            log.warning(
                "timeline capture: dropped event %s: %s", events[0].source or events[0].text[:40], exc
            )
            self._count(done=1, dropped=1)
            return True
        return all([self._write([event]) for event in events])

    def _acknowledge(self, events: Sequence[NewEvent], inserted: int) -> None:
        if self._on_commit is not None:
            try:
                self._on_commit(events)
            except Exception:
                log.exception("timeline capture: on_commit callback failed")
        self._count(done=len(events), inserted=inserted)

    def _count(self, *, done: int, inserted: int = 0, dropped: int = 0) -> None:
        with self._progress:
            self._done += done
            self._inserted += inserted
            self._dropped += dropped
            self._progress.notify_all()
