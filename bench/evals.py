"""Assistant evals: responder questions (bench/evals.yaml) answered by the real assistant, scored on citations.

    python -m bench.evals [--set bench/evals.yaml] [--knowledge knowledge] [--retrieval] [--json out.json]

The model is the OpenAI-compatible endpoint in DEBRIEF_EVAL_BASE_URL / DEBRIEF_EVAL_API_KEY / DEBRIEF_EVAL_MODEL
(else OPENAI_BASE_URL / OPENAI_API_KEY / DEBRIEF_LLM_MODEL); `--retrieval` scores the answers Debrief gives
without a model. Everything else is real and local: a fresh data dir, the knowledge dir ingested into its own
Chroma, an incident for questions that come with a timeline. Opt-in and not part of CI: it costs tokens.

Per question: whether every `must_cite` source was cited, citation recall and precision (cited sources that are
`must_cite` or `may_cite`), and the answer's latency. The summary gives the share of questions fully cited, mean
recall and precision, and latency p50/p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent.assistant import Answer, Assistant, open_assistant
from agent.engine import Engine
from agent.settings import Settings, load_settings

HERE = Path(__file__).resolve().parent
ROOM = "#evals"
ASKED_AT = datetime(2024, 6, 3, 14, 0, tzinfo=UTC)


class EvalQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    must_cite: list[str] = Field(min_length=1)
    may_cite: list[str] = Field(default_factory=list)
    timeline: list[str] = Field(default_factory=list)


class Scored(BaseModel):
    question: str
    cited: list[str]
    missing: list[str]
    recall: float
    precision: float
    latency_s: float
    mode: str


class Summary(BaseModel):
    questions: int
    fully_cited: float
    recall: float
    precision: float
    latency_p50_s: float
    latency_p95_s: float
    results: list[Scored]


def load_evals(path: Path) -> list[EvalQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise SystemExit(f"{path}: expected a list of questions")
    return [EvalQuestion.model_validate(item) for item in data]


def score(item: EvalQuestion, answer: Answer, latency_s: float) -> Scored:
    """Recall over the required sources; precision over everything cited (nothing cited: precision 0)."""
    cited = list(dict.fromkeys(citation.source for citation in answer.citations))
    allowed = set(item.must_cite) | set(item.may_cite)
    missing = [source for source in item.must_cite if source not in cited]
    return Scored(
        question=item.question,
        cited=cited,
        missing=missing,
        recall=1 - len(missing) / len(item.must_cite),
        precision=sum(source in allowed for source in cited) / len(cited) if cited else 0.0,
        latency_s=round(latency_s, 3),
        mode=answer.mode,
    )


def summarise(results: list[Scored]) -> Summary:
    latencies = sorted(result.latency_s for result in results)
    return Summary(
        questions=len(results),
        fully_cited=round(sum(not r.missing for r in results) / len(results), 3),
        recall=round(statistics.fmean(r.recall for r in results), 3),
        precision=round(statistics.fmean(r.precision for r in results), 3),
        latency_p50_s=round(statistics.median(latencies), 3),
        latency_p95_s=round(latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))], 3),
        results=results,
    )


def run_evals(settings: Settings, evals: Iterable[EvalQuestion]) -> Summary:
    """Ask every question in `settings`' (fresh) data dir; one incident per question that has a timeline."""
    engine = Engine.from_settings(settings)
    assistant = open_assistant(settings, engine, refresh_knowledge=True)
    try:
        return summarise([_ask(assistant, engine, n, item) for n, item in enumerate(evals, start=1)])
    finally:
        assistant.close()
        engine.close()


def _ask(assistant: Assistant, engine: Engine, n: int, item: EvalQuestion) -> Scored:
    incident_id = None
    if item.timeline:
        room = f"{ROOM}-{n}"
        incident_id = engine.incidents.start(room, "Eval incident", "oncall", ASKED_AT).id
        for minute, text in enumerate(item.timeline, start=1):
            engine.timeline.record(incident_id, ASKED_AT + timedelta(minutes=minute), "oncall", text)
    started = time.perf_counter()
    answer = assistant.ask(item.question, incident_id=incident_id)
    return score(item, answer, time.perf_counter() - started)


def eval_settings(data_dir: Path, knowledge: Path, retrieval: bool, env: dict[str, str]) -> Settings:
    """Settings for one eval run: the endpoint from DEBRIEF_EVAL_* (else OPENAI_*), or none for `retrieval`."""

    def pick(name: str, fallback: str) -> str | None:
        return env.get(f"DEBRIEF_EVAL_{name}") or env.get(fallback) or None

    model: dict[str, Any] = {"OPENAI_API_KEY": ""}
    if not retrieval:
        key = pick("API_KEY", "OPENAI_API_KEY")
        if not key:
            raise SystemExit("set DEBRIEF_EVAL_API_KEY (or OPENAI_API_KEY), or pass --retrieval")
        model = {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": pick("BASE_URL", "OPENAI_BASE_URL")}
        if chosen := pick("MODEL", "DEBRIEF_LLM_MODEL"):
            model["DEBRIEF_LLM_MODEL"] = chosen
    return load_settings(
        DEBRIEF_DATA_DIR=data_dir,
        DEBRIEF_KNOWLEDGE_DIR=knowledge,
        DEBRIEF_TRACKERS="none",
        DEBRIEF_DATABASE_URL=None,
        **{name: value for name, value in model.items() if value is not None},
    )


def report(summary: Summary, echo: Callable[[str], None]) -> None:
    for result in summary.results:
        mark = "ok  " if not result.missing else "MISS"
        echo(f"{mark} {result.latency_s:6.2f}s  {result.question}")
        if result.missing:
            echo(
                f"           missing {', '.join(result.missing)}; cited {', '.join(result.cited) or 'nothing'}"
            )
    echo(
        f"\n{summary.questions} questions: fully cited {summary.fully_cited:.0%}, citation recall "
        f"{summary.recall:.2f}, precision {summary.precision:.2f}, latency p50 {summary.latency_p50_s:.2f}s "
        f"p95 {summary.latency_p95_s:.2f}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=HERE / "evals.yaml", help="the questions (YAML)")
    parser.add_argument("--knowledge", type=Path, default=HERE.parent / "knowledge", help="the knowledge dir")
    parser.add_argument("--retrieval", action="store_true", help="no model: score the retrieval-only answers")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    evals = load_evals(args.set)
    with tempfile.TemporaryDirectory(prefix="debrief-evals-") as data_dir:
        settings = eval_settings(Path(data_dir), args.knowledge, args.retrieval, dict(os.environ))
        summary = run_evals(settings, evals)
    report(summary, print)
    if args.json:
        args.json.write_text(json.dumps(summary.model_dump(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
