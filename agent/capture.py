"""Timeline capture off the chat thread: the chat thread only enqueues, one writer thread commits in batches.

An event counts as acknowledged once the transaction holding it has committed (`on_commit` is called then, and
`flush` returns only after it). While one batch commits the next one fills up, so throughput grows with load
instead of paying one commit per message. A database outage delays capture (retries with backoff); it never
drops queued events. Only events that can never be stored (an unknown incident, data the database rejects)
are dropped, one by one, and logged.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

from sqlalchemy.exc import InterfaceError, OperationalError

from agent.errors import DebriefError
from agent.timeline import NewEvent, Timeline

log = logging.getLogger(__name__)

OnCommit = Callable[[Sequence[NewEvent]], None]


class CaptureClosed(DebriefError):
    """Events were submitted after the writer was closed."""


class CaptureWriter:
    """A background thread + queue that batches `NewEvent`s into `Timeline.record_many` (commit = ack)."""

    def __init__(
        self,
        timeline: Timeline,
        *,
        batch_size: int = 500,
        on_commit: OnCommit | None = None,
        max_retry_delay_s: float = 5.0,
        name: str = "debrief-capture",
    ) -> None:
        self._timeline = timeline
        self._batch_size = max(batch_size, 1)
        self._on_commit = on_commit
        self._max_retry_delay_s = max_retry_delay_s
        self._queue: queue.SimpleQueue[NewEvent | None] = queue.SimpleQueue()
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
        """Submitted events not yet committed or dropped."""
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

    def submit(self, event: NewEvent) -> None:
        """Queue `event` for the writer thread; never blocks on the database."""
        with self._progress:
            if self._closed:
                raise CaptureClosed("timeline capture is closed; the event was not recorded")
            self._submitted += 1
            self._queue.put(event)

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
            self._write(batch)

    def _write(self, batch: list[NewEvent]) -> None:
        delay = 0.05
        while True:
            try:
                inserted = self._timeline.record_many(batch)
            except (OperationalError, InterfaceError) as exc:
                # The database is unreachable, restarting or locked: keep the batch and try again.
                if self._stopping.is_set():
                    return
                log.warning("timeline capture: database error, retrying in %.2fs: %s", delay, exc)
                self._stopping.wait(delay)
                delay = min(delay * 2, self._max_retry_delay_s)
                continue
            except Exception as exc:
                # Something about the events themselves (unknown incident, bad data): isolate the culprits.
                self._write_one_by_one(batch, exc)
                return
            self._acknowledge(batch, inserted)
            return

    def _write_one_by_one(self, batch: list[NewEvent], exc: Exception) -> None:
        """One bad event must not sink its batch: retry each alone and drop only the ones that fail."""
        if len(batch) == 1:
            log.warning("timeline capture: dropped event %s: %s", batch[0].source or batch[0].text[:40], exc)
            with self._progress:
                self._dropped += 1
                self._done += 1
                self._progress.notify_all()
            return
        for event in batch:
            self._write([event])

    def _acknowledge(self, batch: Sequence[NewEvent], inserted: int) -> None:
        if self._on_commit is not None:
            try:
                self._on_commit(batch)
            except Exception:
                log.exception("timeline capture: on_commit callback failed")
        with self._progress:
            self._inserted += inserted
            self._done += len(batch)
            self._progress.notify_all()
