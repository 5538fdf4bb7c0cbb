"""Timeline capture throughput and `!timeline` query latency, through the plugins and the engine alone.

    python bench/capture.py                        # 1k and 10k messages, 10k-event timeline, temp SQLite
    python bench/capture.py --sizes 1000 50000 --database postgresql://postgres@127.0.0.1:54320/bench

Throughput counts a message only once its transaction has committed (CaptureWriter + Timeline.record_many),
from the first submit to the last commit. The plugin path delivers each message through the real Errbot core
(test backend, `callback_message`) in a room with an open incident. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.capture import CaptureWriter
from agent.engine import Engine
from agent.models import EventKind
from agent.timeline import NewEvent

START = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
KEY_EVERY = 20  # one key event (a note) per 20 messages, roughly a busy incident channel


def _events(incident_id: str, count: int) -> list[NewEvent]:
    return [
        NewEvent(
            incident_id,
            START + timedelta(milliseconds=250 * n),
            f"user{n % 7}",
            f"message {n}: error rate on checkout-api at {n % 100}%",
            kind=EventKind.NOTE if n % KEY_EVERY == 0 else EventKind.MESSAGE,
            source=f"C1:{n}",
        )
        for n in range(count)
    ]


def capture_rate(engine: Engine, count: int, run: int) -> tuple[float, float]:
    """Messages/s committed, and the p95 cost of one `submit` on the chat thread in microseconds."""
    incident = engine.incidents.start(f"#bench-{run}-{time.time_ns()}", "bench", "bench", START)
    events = _events(incident.id, count)
    submit_costs: list[float] = []
    with CaptureWriter(engine.timeline) as writer:
        started = time.perf_counter()
        for event in events:
            before = time.perf_counter()
            writer.submit(event)
            submit_costs.append(time.perf_counter() - before)
        if not writer.flush(timeout=600):
            raise SystemExit("capture did not finish within 10 minutes")
        elapsed = time.perf_counter() - started
    if engine.timeline.count(incident.id) != count + 1:
        raise SystemExit("not every message was stored")
    return count / elapsed, _percentile(submit_costs, 95) * 1e6


def plugin_capture_rate(data_dir: Path, count: int) -> float:
    """Messages/s from Errbot's `callback_message` to committed timeline rows, through Debrief's plugins."""
    import logging

    from errbot.backends.base import Message
    from errbot.backends.test import TestOccupant

    from agent.settings import load_settings
    from debrief.bot.config import errbot_config, plugins_dir
    from tests.testbot import DebriefTestBot

    data_dir.mkdir(parents=True)
    settings = load_settings(
        DEBRIEF_DATA_DIR=data_dir, DEBRIEF_BACKEND="Test", DEBRIEF_ADMINS="root", DEBRIEF_TRACKERS="none"
    )
    config = {**errbot_config(settings, backend="Test"), "BOT_LOG_FILE": str(data_dir / "errbot.log")}
    testbot = DebriefTestBot(
        extra_plugin_dir=str(plugins_dir()), loglevel=logging.WARNING, extra_config=config
    )
    testbot.start()
    engine = Engine.from_settings(settings)
    try:
        bot = testbot.bot
        room = bot.query_room("#bench")

        def say(text: str, n: int) -> None:
            msg = Message(text, extras={"at": START + timedelta(milliseconds=250 * n)})
            msg.frm = TestOccupant(f"user{n % 7}", room)
            msg.to = room
            bot.callback_message(msg)

        say("!incident start Bench incident --sev SEV3", 0)
        testbot.pop_message(timeout=10)
        incident = engine.incidents.open_in_room(str(room))
        assert incident is not None, "the bench incident did not start"
        before = engine.timeline.count(incident.id)
        started = time.perf_counter()
        for n in range(1, count + 1):
            say(f"message {n}: error rate on checkout-api at {n % 100}%", n)
        while engine.timeline.count(incident.id) < before + count:
            if time.perf_counter() - started > 600:
                raise SystemExit("plugin capture did not finish within 10 minutes")
            time.sleep(0.01)
        return count / (time.perf_counter() - started)
    finally:
        engine.close()
        testbot.stop()


def query_latency(engine: Engine, count: int, queries: int) -> dict[str, tuple[float, float]]:
    """p50/p95 milliseconds of `Timeline.events` on one incident holding `count` events."""
    incident = engine.incidents.start(f"#bench-timeline-{time.time_ns()}", "bench", "bench", START)
    events = _events(incident.id, count)
    for first in range(0, count, 5000):
        engine.timeline.record_many(events[first : first + 5000])
    results: dict[str, tuple[float, float]] = {}
    for label, key_only in (("key events", True), ("all events", False)):
        timings = []
        for _ in range(queries):
            before = time.perf_counter()
            engine.timeline.events(incident.id, key_only=key_only)
            timings.append(time.perf_counter() - before)
        results[label] = (_percentile(timings, 50) * 1e3, _percentile(timings, 95) * 1e3)
    return results


def _percentile(values: Sequence[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10_000], help="messages per capture run"
    )
    parser.add_argument("--timeline-events", type=int, default=10_000, help="events in the queried incident")
    parser.add_argument("--queries", type=int, default=100, help="Timeline.events calls to time")
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file in a temp dir)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = Engine.open(url)
        backend = engine.store.dialect
        rows = []
        for run, size in enumerate(args.sizes):
            rate, submit_p95 = capture_rate(engine, size, run)
            rows.append(
                (
                    f"capture {size:,} messages, durable ({backend})",
                    f"{rate:,.0f} msg/s",
                    f"{submit_p95:.0f} µs",
                )
            )
        latency = query_latency(engine, args.timeline_events, args.queries)
        engine.close()
        for size in args.sizes:
            rate = plugin_capture_rate(Path(tmp) / f"plugin-{size}", size)
            rows.append(
                (
                    f"capture {size:,} messages through the plugins, durable (sqlite)",
                    f"{rate:,.0f} msg/s",
                    "-",
                )
            )

    key_count = (args.timeline_events + KEY_EVERY - 1) // KEY_EVERY
    print("| measure | result | chat-thread submit p95 |")
    print("|---|---|---|")
    for measure, result, submit in rows:
        print(f"| {measure} | {result} | {submit} |")
    for label, (p50, p95) in latency.items():
        shown = f"{key_count:,} key" if label == "key events" else f"{args.timeline_events:,}"
        print(
            f"| `Timeline.events` {label} on a {args.timeline_events:,}-event incident ({shown} returned) "
            f"| p50 {p50:.1f} ms, p95 {p95:.1f} ms | - |"
        )


if __name__ == "__main__":
    main()
