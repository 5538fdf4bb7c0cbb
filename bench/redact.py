"""Redaction benchmark: the time to redact each crafted input of the redaction tests (a quadratic regex: minutes).

    python bench/redact.py [--runs 5]

Every outgoing message passes `agent.redact.redact` (secrets, emails and phones, as the bot sends them), so a
crafted message must not stall the bot. The inputs are `tests/redact_fixtures.py`'s PATHOLOGICAL (20-50k
characters each); each is redacted `--runs` times. Prints a Markdown table of the median and the slowest run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.*` (the inputs) when run as a script

from agent.redact import redact
from tests.redact_fixtures import PATHOLOGICAL

TARGET_S = 2.0


def timings(text: str, runs: int) -> list[float]:
    """Seconds per `redact` call of `text`, one a run (the first call also compiles the patterns: warm up)."""
    redact(text[:100], emails=True, phones=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        redact(text, emails=True, phones=True)
        times.append(time.perf_counter() - started)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="redactions of each input")
    args = parser.parse_args(argv)
    print(f"| input | characters | median | slowest of {args.runs} | target |")
    print("|---|---|---|---|---|")
    for name, text in PATHOLOGICAL.items():
        times = timings(text, args.runs)
        print(
            f"| {name} | {len(text):,} | {statistics.median(times) * 1e3:.1f} ms "
            f"| {max(times) * 1e3:.1f} ms | < {TARGET_S:.0f} s |"
        )


if __name__ == "__main__":
    main()
