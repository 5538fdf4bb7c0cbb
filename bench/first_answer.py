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
import statistics
import time

from bench.console_bot import console_bot

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
    with console_bot(DEBRIEF_WARM_UP=str(warm_up).lower()) as bot:
        bot.send("!incident start Checkout 5xx --sev SEV2")
        bot.wait_for("INC-1 started")
        time.sleep(after)
        latencies = []
        for n, question in enumerate((QUESTIONS * 10)[:questions], start=1):
            asked = time.monotonic()
            bot.send(question)
            bot.wait_for("Sources:", count=n)
            latencies.append(time.monotonic() - asked)
    return latencies


if __name__ == "__main__":
    main()
