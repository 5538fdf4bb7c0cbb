"""Recording alert groups: what a large group costs, on a new incident and on one that already holds many events,
and how long a chat writer waits meanwhile.

    python -m bench.signals [--alerts 1000] [--seeded 21000] [--json out.json]

Each case runs on a fresh SQLite database through `receive_alertmanager`, the webhook's engine call. "seeded"
first bulk-inserts that many signals with their events on the incident (as if received earlier). "notes" records
the group while a second engine on the same database adds a note every 0.2 s with the default lock timeout, and
reports the longest wait and any note that failed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from agent.engine import Engine
from agent.models import EventKind
from agent.signals import SignalRules, receive_alertmanager
from agent.store.tables import EventRow, SignalRow

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def group(prefix: str, alerts: int) -> bytes:
    """An Alertmanager group of `alerts` firing alerts for the service `checkout`."""
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "commonLabels": {"service": "checkout"},
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "PodDown", "service": "checkout", "pod": f"{prefix}-{i}"},
                    "annotations": {"summary": f"pod {prefix}-{i} is down"},
                    "startsAt": (T0 + timedelta(seconds=i % 600)).isoformat(),
                    "fingerprint": f"{prefix}{i:012x}",
                }
                for i in range(alerts)
            ],
        }
    ).encode()


def seed(engine: Engine, incident_number: int, count: int) -> None:
    """`count` signals already on the incident, each with its event."""
    with engine.store.write() as session:
        rows = [
            {
                "incident_number": incident_number,
                "at": T0,
                "author": "alertmanager",
                "text": f"old {i}",
                "kind": "alert",
                "key": True,
                "source": f"alertmanager:old{i}:x:firing",
                "hidden": False,
                "context": False,
            }
            for i in range(count)
        ]
        session.execute(insert(EventRow), rows)
        events = session.execute(
            select(EventRow.id, EventRow.source).where(EventRow.source.like("alertmanager:old%"))
        )
        session.execute(
            insert(SignalRow),
            [
                {
                    "source": source,
                    "thread": str(source).rsplit(":", 1)[0],
                    "received_at": T0,
                    "at": T0,
                    "kind": "alert",
                    "key": True,
                    "author": "alertmanager",
                    "text": "old",
                    "routing": {},
                    "incident_number": incident_number,
                    "event_id": event_id,
                }
                for event_id, source in events
            ],
        )


def record(engine: Engine, body: bytes) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    reply = receive_alertmanager(engine, SignalRules(), None, "", body)
    if reply.status != 200:
        raise SystemExit(f"the group was refused: {reply.body}")
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def case(alerts: int, seeded: int, with_notes: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="debrief-bench-signals-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'debrief.db'}"
        engine = Engine.open(url)
        incident = engine.incidents.start("#inc", "Checkout down", "alice", T0, services=("checkout",))
        if seeded:
            seed(engine, int(incident.id.split("-")[1]), seeded)
        body = group("p", alerts)
        if not with_notes:
            return {"alerts": alerts, "seeded": seeded, **record(engine, body)}
        writer = Engine.open(url)
        result: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: result.update(record(engine, body)))
        thread.start()
        waits: list[float] = []
        failed = 0
        while thread.is_alive():
            started = time.perf_counter()
            try:
                writer.timeline.record(incident.id, T0, "bob", f"note {len(waits)}", EventKind.NOTE)
            except Exception:  # "database is locked" after the lock timeout
                failed += 1
            waits.append(time.perf_counter() - started)
            time.sleep(0.2)
        thread.join()
        return {
            "alerts": alerts,
            "seeded": seeded,
            **result,
            "notes": len(waits),
            "notes_failed": failed,
            "longest_wait_s": max(waits, default=0.0),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--seeded", type=int, default=21000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [
        case(args.alerts, 0, False),
        case(args.alerts, args.seeded, False),
        case(args.alerts * 3, 0, True),
    ]
    for row in results:
        notes = (
            f", notes {row['notes']} ({row['notes_failed']} failed), longest wait {row['longest_wait_s']:.2f} s"
            if "notes" in row
            else ""
        )
        print(
            f"{row['alerts']} alerts, {row['seeded']} events already: {row['wall_s']:.2f} s wall, "
            f"{row['cpu_s']:.2f} s CPU{notes}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
