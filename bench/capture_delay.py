"""How long after a chat line reaches the bot it is committed: the window a crash can lose (DESIGN.md §5).

    python bench/capture_delay.py                      # steady 100 msg/s and a burst of 2,000, temp SQLite
    python bench/capture_delay.py --database postgresql://postgres@127.0.0.1:54320/bench

Each line goes through the real Errbot core and Debrief's plugins (test backend, `callback_message`) carrying the
acknowledgement a chat backend attaches (`backends/acknowledgement.py`); the delay runs from the call to the
moment the capture settles it, i.e. when Teams would get its 200 and Slack its ack. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from errbot.backends.base import Message
from errbot.backends.test import TestOccupant

from agent.settings import load_settings
from debrief.bot.config import errbot_config, plugins_dir
from tests.testbot import DebriefTestBot

START = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


class Timed:
    """An acknowledgement that notes when it was settled."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.settled: float | None = None
        self.event = threading.Event()

    def hold(self) -> None:
        pass

    def done(self) -> None:
        self.settled = time.perf_counter()
        self.event.set()


def delays(data_dir: Path, database: str | None, count: int, rate: float | None) -> list[float]:
    """Milliseconds from `callback_message` to the commit, per line, at `rate` lines/s (None: a burst)."""
    data_dir.mkdir(parents=True)
    settings = load_settings(
        DEBRIEF_DATA_DIR=data_dir,
        DEBRIEF_BACKEND="Test",
        DEBRIEF_ADMINS="root",
        DEBRIEF_TRACKERS="none",
        DEBRIEF_DATABASE_URL=database,
    )
    config = {**errbot_config(settings, backend="Test"), "BOT_LOG_FILE": str(data_dir / "errbot.log")}
    testbot = DebriefTestBot(
        extra_plugin_dir=str(plugins_dir()), loglevel=logging.WARNING, extra_config=config
    )
    testbot.start()
    try:
        bot = testbot.bot
        room = bot.query_room(f"#bench-{time.time_ns()}")

        def say(text: str, n: int, ack: Timed | None = None) -> None:
            extras: dict[str, object] = {"at": START + timedelta(milliseconds=250 * n), "source": f"b{n}"}
            if ack is not None:
                extras["ack"] = ack
            msg = Message(text, extras=extras)
            msg.frm, msg.to = TestOccupant(f"user{n % 7}", room), room
            bot.callback_message(msg)

        say("!incident start Capture delay --sev SEV3", 0)
        testbot.pop_message(timeout=10)
        acks = [Timed() for _ in range(count)]
        began = time.perf_counter()
        for n, ack in enumerate(acks, start=1):
            if rate is not None:
                time.sleep(max(0.0, began + n / rate - time.perf_counter()))
            ack.started = time.perf_counter()
            say(f"line {n}: error rate on checkout-api at {n % 100}%", n, ack)
        for ack in acks:
            if not ack.event.wait(600):
                raise SystemExit("a line was never committed")
        return [((ack.settled or 0) - ack.started) * 1e3 for ack in acks]
    finally:
        testbot.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--steady", type=int, default=500, help="lines sent at --rate")
    parser.add_argument("--rate", type=float, default=100.0, help="lines per second in the steady run")
    parser.add_argument("--burst", type=int, default=2000, help="lines sent as fast as possible")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, count, rate in (
            (f"steady, {args.rate:.0f} lines/s", args.steady, args.rate),
            ("burst, as fast as the chat thread sends", args.burst, None),
        ):
            measured = delays(Path(tmp) / label.split(",")[0], args.database, count, rate)
            cuts = statistics.quantiles(measured, n=100, method="inclusive")
            rows.append((label, count, cuts[49], cuts[98], max(measured)))
    backend = "PostgreSQL" if args.database else "SQLite"
    print(f"| capture-to-commit ({backend}) | lines | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for label, count, p50, p99, worst in rows:
        print(f"| {label} | {count:,} | {p50:.1f} ms | {p99:.1f} ms | {worst:.1f} ms |")


if __name__ == "__main__":
    main()
