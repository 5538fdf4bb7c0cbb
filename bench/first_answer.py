"""First-question latency after the bot starts, with and without the start-up warm-up (DEBRIEF_WARM_UP).

    python -m bench.first_answer [--runs 3] [--after 20] [--questions 10]

A real `debrief run` on the Text console in a fresh data dir with the starter knowledge (knowledge/), no LLM key
(retrieval mode, so the model's time is not measured). Once it answers a command, the bench waits `--after`
seconds (a bot that has been up a while when the first question comes), then asks `--questions` questions one at
a time and times each from the question to its answer. Both settings alternate run by run on this machine; the
table gives medians of the first answer and of the last, and the first question asked at once (0 s after).
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
QUESTIONS = (
    "!ask checkout returns 500s since the deploy, what do we do?",
    "!ask card payments time out at the provider",
    "!ask orders-db refuses connections, too many clients",
    "!ask the orders replica is minutes behind",
    "!ask redis is evicting keys",
    "!ask the edge certificate expired",
    "!ask order-events consumers are far behind",
    "!ask argo re-applies the bad checkout version",
    "!ask the payment provider is slow during the sale",
    "!ask connection pool exhausted on orders-db",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--after", type=float, default=20.0, help="seconds between start-up and the first question"
    )
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    results: dict[tuple[bool, float], list[list[float]]] = {}
    for _ in range(args.runs):
        for warm_up in (False, True):
            for after in (0.0, args.after):
                results.setdefault((warm_up, after), []).append(
                    ask_after_start(warm_up, after, args.questions)
                )
    print(f"| DEBRIEF_WARM_UP | first question asked | first answer (s) | answer {args.questions} (s) |")
    print("|---|---|---|---|")
    for (warm_up, after), runs in results.items():
        first = statistics.median(run[0] for run in runs)
        last = statistics.median(run[-1] for run in runs)
        print(f"| {str(warm_up).lower()} | {after:.0f} s after start | {first:.2f} | {last:.2f} |")


def ask_after_start(warm_up: bool, after: float, questions: int) -> list[float]:
    """Seconds from each question to its answer."""
    with tempfile.TemporaryDirectory(prefix="debrief-first-answer-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBRIEF_", "SLACK_", "OPENAI_"))}
        env.update(
            DEBRIEF_DATA_DIR=f"{tmp}/data",
            DEBRIEF_KNOWLEDGE_DIR=str(REPO / "knowledge"),
            DEBRIEF_HTTP_PORT=str(_free_port()),
            DEBRIEF_TRACKERS="none",
            DEBRIEF_WARM_UP=str(warm_up).lower(),
        )
        output = Path(tmp) / "console.txt"
        with output.open("w") as stdout:
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
                _send(bot.stdin, "!incident start Checkout 5xx --sev SEV2")
                _wait_for(output, "INC-1 started", count=1)
                time.sleep(after)
                latencies = []
                for n, question in enumerate((QUESTIONS * 10)[:questions], start=1):
                    asked = time.monotonic()
                    _send(bot.stdin, question)
                    _wait_for(output, "Sources:", count=n)
                    latencies.append(time.monotonic() - asked)
            finally:
                bot.stdin.close()
                try:
                    bot.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait()
    return latencies


def _send(stdin: object, line: str) -> None:
    stdin.write(line + "\n")  # type: ignore[attr-defined]
    stdin.flush()  # type: ignore[attr-defined]


def _wait_for(path: Path, text: str, count: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while path.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{text!r} never appeared:\n{path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
