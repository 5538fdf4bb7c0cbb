"""The bot's resident memory with the local embedder, after an ingest and a question.

    python -m bench.bot_memory [--runs 3] [--settle 60]

A real `debrief run` on the Text console in a fresh data dir, with the starter knowledge (knowledge/): it
starts an incident, answers `!ask` in retrieval mode (no LLM key; the question ingests the knowledge dir
first, as the bot's assistant does), then, `--settle` seconds later, its VmRSS and VmHWM are read from
/proc. Median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.console_bot import console_bot

QUESTION = "!ask pods keep restarting after the deploy, what do we do?"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=60.0)
    args = parser.parse_args()
    rows = [measure(args.settle) for _ in range(args.runs)]
    for rss, peak, answered in rows:
        print(f"VmRSS {rss:.0f} MB, VmHWM {peak:.0f} MB, answered {answered:.1f} s after start")
    print(
        f"median: VmRSS {statistics.median(r[0] for r in rows):.0f} MB, "
        f"VmHWM {statistics.median(r[1] for r in rows):.0f} MB"
    )


def measure(settle: float) -> tuple[float, float, float]:
    started = time.monotonic()
    with console_bot() as bot:
        bot.send("!incident start Checkout 5xx --sev SEV2")
        bot.wait_for("INC-1 started")
        bot.send(QUESTION)
        bot.wait_for("Sources:")
        answered = time.monotonic() - started
        time.sleep(settle)
        status = _status(bot.pid)
    return status["VmRSS"], status["VmHWM"], answered


def _status(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


if __name__ == "__main__":
    main()
