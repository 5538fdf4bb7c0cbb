"""Child process for the crash-safety test: capture a stream, print each acknowledged source id as it commits.

Usage: python tests/capture_crash_child.py DATABASE_URL INCIDENT_ID COUNT
The parent SIGKILLs this process mid-stream; every line printed before that names a committed event.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from agent.capture import CaptureWriter
from agent.engine import Engine
from agent.timeline import NewEvent

START = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def source(n: int) -> str:
    return f"C1:{n}"


def stream(incident_id: str, count: int) -> list[NewEvent]:
    return [
        NewEvent(incident_id, START + timedelta(milliseconds=n), "bob", f"message {n}", source=source(n))
        for n in range(count)
    ]


def _acknowledge(batch: Sequence[NewEvent]) -> None:
    sys.stdout.write("".join(f"{event.source}\n" for event in batch))
    sys.stdout.flush()


def main(url: str, incident_id: str, count: int) -> None:
    engine = Engine.open(url)
    writer = CaptureWriter(engine.timeline, batch_size=50, on_commit=_acknowledge)
    for n, event in enumerate(stream(incident_id, count)):
        writer.submit(event)
        if n % 20 == 19:
            time.sleep(0.002)  # a chat-like trickle, so the kill lands mid-stream
    writer.close()
    engine.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
