"""When a platform may hear "got it": after what a message made Debrief record is committed.

A backend gives each incoming message an `Acknowledgement` (`msg.extras["ack"]`) and dispatches it to the
plugins. A plugin that records the message (the timeline's capture) `hold`s it and calls `done` once its write
is committed; everything else lets it go. The backend then `settle`s it (no holder: done at once) and waits
before it answers the platform (Teams' HTTP 200, Slack's Socket Mode ack or Events API 200). Past the wait it
does not acknowledge, so the platform delivers again and the message's key makes the second delivery a no-op.
"""

from __future__ import annotations

import threading

# Slack wants its ack within 3 s and Teams its answer within 15 s; both deliver again when it does not come.
WAIT_S = 2.5


class Acknowledgement:
    def __init__(self) -> None:
        self._holders = 0
        self._settled = False
        self._lock = threading.Lock()
        self._done = threading.Event()

    def hold(self) -> None:
        """A plugin will record the message and call `done` once that is committed."""
        with self._lock:
            self._holders += 1

    def done(self) -> None:
        """One holder's write is committed (or the message turned out to need none)."""
        with self._lock:
            self._holders -= 1
            self._release_if_free()

    def settle(self) -> None:
        """Dispatch is over: with nobody holding it, the message is acknowledged now."""
        with self._lock:
            self._settled = True
            self._release_if_free()

    def wait(self, timeout: float = WAIT_S) -> bool:
        """True once every holder is done (after `settle`); False if that took longer than `timeout`."""
        return self._done.wait(timeout)

    def _release_if_free(self) -> None:
        if self._settled and self._holders <= 0:
            self._done.set()
