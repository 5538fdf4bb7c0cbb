"""The bot's resident memory with the local embedder, after an ingest and a question.

    python -m bench.bot_memory [--runs 3] [--settle 60]

A real `debrief run` on the Text console in a fresh data dir, with the starter knowledge (knowledge/): it
starts an incident, answers `!ask` in retrieval mode (no LLM key; the question ingests the knowledge dir
first, as the bot's assistant does), then, `--settle` seconds later, its VmRSS and VmHWM are read from
/proc. Median of the runs.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
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
    with tempfile.TemporaryDirectory(prefix="debrief-memory-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBRIEF_", "SLACK_", "OPENAI_"))}
        env.update(
            DEBRIEF_DATA_DIR=f"{tmp}/data",
            DEBRIEF_KNOWLEDGE_DIR=str(REPO / "knowledge"),
            DEBRIEF_HTTP_PORT=str(_free_port()),
            DEBRIEF_TRACKERS="none",
        )
        output = Path(tmp) / "console.txt"
        with output.open("w") as stdout:
            started = time.monotonic()
            bot = subprocess.Popen(
                [sys.executable, "-m", "debrief", "run"],
                cwd=tmp,
                env=env,
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert bot.stdin is not None
            try:
                bot.stdin.write("!incident start Checkout 5xx --sev SEV2\n")
                bot.stdin.flush()
                _wait_for(output, "INC-1 started")
                bot.stdin.write(QUESTION + "\n")
                bot.stdin.flush()
                _wait_for(output, "Sources:")
                answered = time.monotonic() - started
                time.sleep(settle)
                status = _status(bot.pid)
            finally:
                bot.stdin.close()
                try:
                    bot.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait()
    return status["VmRSS"], status["VmHWM"], answered


def _status(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def _wait_for(path: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{text!r} never appeared:\n{path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
