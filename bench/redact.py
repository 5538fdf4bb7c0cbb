"""Redaction benchmark: crafted inputs, ordinary text, planted secrets, and false positives on benign text.

    python bench/redact.py [--runs 5] [--corpus ../shared/corpus]

Every outgoing message passes `agent.redact.redact`, so four things are measured:

1. Crafted input: the time to redact each of `tests/redact_fixtures.py`'s PATHOLOGICAL inputs (20-80k
   characters each, made to make a backtracking pattern take quadratic time), `--runs` times, with secrets,
   emails and phones redacted as the bot sends them. Median and slowest run.
2. Ordinary text: the benign sentences of `tests/data/benign_sentences.txt`, one call each and as one text
   (lines joined), fastest of `--runs` rounds (the machine is shared: the minimum is the least noisy figure).
3. Recall: of the redaction tests' planted secrets (`tests/redact_plants.py`: every way a secret shows up,
   pasted into chat, runbook, log, YAML, shell, traceback and alert text), the cases where no part of the
   secret survives; the plants missed, with an example.
4. False positives: how many benign sentences get any redaction, per 100, and the time per MB of text. The
   test data's 403 hand-checked sentences, and, when the shared corpus is there, every sentence and every whole
   file of its postmortems and runbooks (split as the test data was; read them before trusting the figure: a
   real secret would count). The time is the fastest of `--runs` passes over the set.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.*` (the inputs) when run as a script

from agent.redact import redact
from tests.redact_fixtures import PATHOLOGICAL, benign_sentences
from tests.redact_plants import CORPUS

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0


def timings(call: Callable[[], object], runs: int) -> list[float]:
    """Seconds per call, one a run, after one warm-up call (the first also compiles the patterns)."""
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def crafted(runs: int) -> None:
    print(f"| input | characters | median | slowest of {runs} | target |")
    print("|---|---|---|---|---|")
    for name, text in PATHOLOGICAL.items():
        times = timings(partial(redact, text, emails=True, phones=True), runs)
        print(
            f"| {name} | {len(text):,} | {statistics.median(times) * 1e3:.1f} ms "
            f"| {max(times) * 1e3:.1f} ms | < {TARGET_S:.0f} s |"
        )


def ordinary(runs: int) -> None:
    sentences = benign_sentences()
    text = "\n".join(sentences)
    each = min(timings(lambda: [redact(sentence) for sentence in sentences], runs))
    whole = min(timings(lambda: redact(text), runs))
    print(f"\n| ordinary text ({len(sentences)} sentences, {len(text):,} characters) | fastest of {runs} |")
    print("|---|---|")
    print(f"| one call per sentence | {each / len(sentences) * 1e6:.1f} µs per sentence |")
    print(f"| one call for all, lines joined | {whole * 1e3:.2f} ms |")


def planted() -> None:
    missed = {
        name: case
        for name, case in CORPUS.items()
        if any(secret in redact(case.text) for secret in case.plant.must_vanish)
    }
    caught = len(CORPUS) - len(missed)
    print("\n| planted secrets | cases | caught | recall |")
    print("|---|---|---|---|")
    print(f"| `tests/redact_plants.py` | {len(CORPUS)} | {caught} | {100 * caught / len(CORPUS):.1f}% |")
    by_plant: dict[str, list[str]] = {}
    for name, case in missed.items():
        by_plant.setdefault(name.removesuffix(f"-{case.carrier.name}"), []).append(case.plant.fragment)
    for plant, fragments in by_plant.items():
        print(f"|   missed {plant} ({len(fragments)}), e.g. `{fragments[0][:60]!r}` | | | |")


def corpus_sentences(corpus: Path) -> Iterator[str]:
    """Every sentence of the corpus's postmortems and runbooks, split as tests/data/benign_sentences.txt was:
    prose paragraphs re-joined and split at sentence ends, table rows as one line, code lines as they are."""
    for path in sorted([*corpus.glob("postmortems/**/*.md"), *corpus.glob("runbooks/**/*.md")]):
        if path.name in ("README.md", "ATTRIBUTION.md") or "template" in path.name:
            continue
        for kind, chunk in _pieces(path.read_text(errors="replace")):
            parts = re.split(r"(?<=[.!?])\s+(?=[A-Z`\"(])", chunk) if kind == "prose" else [chunk]
            for part in parts:
                sentence = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1 (\2)", part).replace("**", "").strip()
                if 25 <= len(sentence) <= 300:
                    yield sentence


def _pieces(text: str) -> Iterator[tuple[str, str]]:
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    paragraph: list[str] = []
    code = False
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if line.startswith("```"):
            code = not code
        elif code:
            if len(line) >= 20:
                yield "code", line
        else:
            block = (
                not line or line.startswith(("#", "|", "<", "- ", "* ", "+ ")) or re.match(r"\d+\. ", line)
            )
            if block and paragraph:
                yield "prose", " ".join(paragraph)
                paragraph = []
            if line.startswith("|") and not re.fullmatch(r"[|:\- ]+", line):
                yield "table", " ".join(cell.strip() for cell in line.strip("|").split("|") if cell.strip())
            elif line and not line.startswith(("#", "<", "|")):
                paragraph.append(re.sub(r"^(?:[-*+]|\d+\.) ", "", line))


def redact_each(texts: list[str]) -> None:
    for text in texts:
        redact(text)


def false_positives(corpus: Path | None, runs: int) -> None:
    print("\n| benign text | items | with any redaction | per 100 | time per MB |")
    print("|---|---|---|---|---|")
    sets = {"tests/data/benign_sentences.txt (hand-checked)": benign_sentences()}
    if corpus is not None and corpus.is_dir():
        sets["every corpus sentence, deduplicated"] = list(dict.fromkeys(corpus_sentences(corpus)))
        files = [
            *corpus.glob("postmortems/**/*.md"),
            *corpus.glob("runbooks/**/*.md"),
            *corpus.glob("alerts/**/*"),
        ]
        sets["every corpus file, whole"] = [
            p.read_text(errors="replace") for p in sorted(files) if p.is_file()
        ]
    for name, texts in sets.items():
        changed = [text for text in texts if redact(text) != text]
        megabytes = sum(len(text.encode()) for text in texts) / 1e6
        seconds = min(timings(partial(redact_each, texts), runs))
        print(
            f"| {name} | {len(texts):,} | {len(changed)} | {100 * len(changed) / len(texts):.2f} "
            f"| {seconds / megabytes * 1e3:.0f} ms |"
        )
        for text in changed[:5]:
            print(f"|   e.g. `{text[:100]!r}` | | | | |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="redactions of each input")
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared" / "corpus", help="shared corpus"
    )
    args = parser.parse_args(argv)
    crafted(args.runs)
    ordinary(args.runs)
    planted()
    false_positives(args.corpus, args.runs)


if __name__ == "__main__":
    main()
