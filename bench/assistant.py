"""Assistant benchmark: answer overhead (everything but the model's time) and prompt tokens per question.

    python -m bench.assistant [--corpus ../shared/corpus] [--scale-chunks 5000] [--questions 40] [--json out.json]

Run from the repository root (it uses the scripted OpenAI-compatible server in tests/fakes). The real `ChatOpenAI`
talks to that local server, whose scripted "model" calls search_runbooks, find_similar_incidents and
read_timeline in one turn, then answers citing what they returned: two model calls per question. Model time is
measured around each model call (LangChain callbacks) and subtracted, so the overhead is retrieval, tools,
graph, checkpointer, redaction and citation checks. Prompt tokens are estimated at 4 characters per token.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import yaml
from langchain_core.callbacks import BaseCallbackHandler
from langchain_openai import ChatOpenAI

from agent.assistant import Assistant
from agent.engine import Engine
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.models import EventKind
from agent.settings import Settings, load_settings
from agent.timeline import NewEvent
from bench.retrieval import scale_up
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_tokens

HERE = Path(__file__).resolve().parent
FOLDERS = ("runbooks", "postmortems")
TIMELINE_EVENTS = 300
WARMUP = 3
_TAG = re.compile(r"\[(?:runbook|incident|event):[^\]]+\]")


class ModelTimer(BaseCallbackHandler):
    """Adds up the time spent inside model calls."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: dict[UUID, float] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        with self._lock:
            self.seconds += time.perf_counter() - self._started.pop(run_id, time.perf_counter())

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self.on_llm_end(None, run_id=run_id)


def responder(body: dict[str, Any]) -> Reply:
    """Look everything up in one turn, then answer citing the first results."""
    messages = body["messages"]
    if messages[-1]["role"] != "tool":
        question = str(messages[-1]["content"]).rsplit("Question: ", 1)[-1]
        return Reply.tool_calls_of(
            ("search_runbooks", {"query": question}),
            ("find_similar_incidents", {"query": question}),
            ("read_timeline", {"limit": 20}),
        )
    tags = _TAG.findall(" ".join(str(m["content"]) for m in messages if m["role"] == "tool"))
    cited = " ".join(dict.fromkeys(tags[:3]))
    return Reply.text(f"Follow the runbook steps {cited}. Hypothesis (confidence: medium): the last deploy.")


def seed_incident(engine: Engine) -> str:
    start = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    incident = engine.incidents.start("#inc-bench", "Checkout 5xx spike", "alice", start)
    engine.timeline.record_many(
        [
            NewEvent(
                incident.id,
                start + timedelta(seconds=10 * i),
                f"user{i % 7}",
                f"observation {i}: error rate {i % 30}% on checkout-api, pods restarting after deploy",
                kind=EventKind.NOTE if i % 25 == 0 else EventKind.MESSAGE,
            )
            for i in range(TIMELINE_EVENTS)
        ]
    )
    return incident.id


def measure(
    assistant: Assistant,
    llm: FakeOpenAI | None,
    timer: ModelTimer | None,
    incident_id: str,
    questions: list[str],
    label: str,
) -> dict[str, Any]:
    overheads, tokens, calls = [], [], []
    for index, question in enumerate([*questions[:WARMUP], *questions]):
        before_requests = len(llm.chat_requests) if llm else 0
        model_before = timer.seconds if timer else 0.0
        started = time.perf_counter()
        answer = assistant.ask(question, incident_id=incident_id, thread_id=f"{label}-{index}")
        wall = time.perf_counter() - started
        if index < WARMUP:
            continue
        assert answer.mode == ("llm" if llm else "retrieval"), answer.answer[:200]
        overheads.append((wall - ((timer.seconds - model_before) if timer else 0.0)) * 1000)
        if llm:
            sent = llm.chat_requests[before_requests:]
            calls.append(len(sent))
            tokens.append(sum(prompt_tokens(body) for body in sent))
    overheads.sort()
    result: dict[str, Any] = {
        "questions": len(overheads),
        "p50_ms": statistics.median(overheads),
        "p95_ms": overheads[max(0, int(len(overheads) * 0.95) - 1)],
    }
    if llm:
        result |= {
            "llm_calls": statistics.mean(calls),
            "prompt_tokens_mean": statistics.mean(tokens),
            "prompt_tokens_max": max(tokens),
        }
    return result


def conversation_tokens(
    assistant: Assistant, llm: FakeOpenAI, incident_id: str, questions: list[str], label: str
) -> int:
    """Prompt tokens of the 10th question in one incident thread (history included, trimmed)."""
    for turn in range(9):
        assistant.ask(
            questions[turn % len(questions)], incident_id=incident_id, thread_id=f"{label}-conversation"
        )
    before = len(llm.chat_requests)
    assistant.ask(questions[9 % len(questions)], incident_id=incident_id, thread_id=f"{label}-conversation")
    return sum(prompt_tokens(body) for body in llm.chat_requests[before:])


def run_all(
    label: str,
    kb: KnowledgeBase,
    settings: Settings,
    llm: FakeOpenAI,
    incident_id: str,
    questions: list[str],
    engine: Engine,
) -> dict[str, Any]:
    kb.catalog()  # built once per process, not per question
    label = f"{label}-{uuid4().hex[:8]}"  # fresh conversation threads, even in a kept store
    timer = ModelTimer()
    model = ChatOpenAI(
        model="bench",
        api_key=settings.openai_api_key,
        base_url=llm.url,
        timeout=10,
        max_retries=0,
        callbacks=[timer],
    )
    with_llm = Assistant(settings, kb, engine, model=model)
    retrieval_settings = load_settings(DEBRIEF_DATA_DIR=str(settings.data_dir), OPENAI_API_KEY="")
    retrieval = Assistant(retrieval_settings, kb, engine)
    try:
        return {
            "chunks": kb.count(),
            "llm": measure(with_llm, llm, timer, incident_id, questions, f"{label}-llm"),
            "retrieval": measure(retrieval, None, None, incident_id, questions, f"{label}-retrieval"),
            "conversation_10th_question_tokens": conversation_tokens(
                with_llm, llm, incident_id, questions, label
            ),
        }
    finally:
        with_llm.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--queries", type=Path, default=HERE / "queries.yaml")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--scale-chunks", type=int, default=5000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--store", type=Path, help="keep the knowledge store here between runs (ingest is incremental)"
    )
    args = parser.parse_args()
    cases = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    questions = [f"{case['query']}, what do we do?" for case in cases][: args.questions]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="debrief-bench-") as tmp, FakeOpenAI(responder=responder) as llm:
        store = args.store or Path(tmp) / "store"
        settings = load_settings(
            DEBRIEF_DATA_DIR=str(store),
            OPENAI_API_KEY="bench",
            OPENAI_BASE_URL=llm.url,
            DEBRIEF_DATABASE_URL=f"sqlite:///{Path(tmp) / 'debrief.db'}",
        )
        kb = open_knowledge_base(settings)
        kb.ingest([args.corpus / folder for folder in FOLDERS], progress=False)
        engine = Engine.from_settings(settings)
        incident_id = seed_incident(engine)
        results["corpus"] = run_all("corpus", kb, settings, llm, incident_id, questions, engine)
        if args.scale_chunks:
            scale_up(args.corpus, args.scale_chunks, kb, store / "scale")
            results["scaled"] = run_all("scaled", kb, settings, llm, incident_id, questions, engine)
        engine.close()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def render(results: dict[str, Any]) -> str:
    lines = [
        "| store size | mode | questions | overhead p50 ms | overhead p95 ms | LLM calls | prompt tokens mean / max |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in ("corpus", "scaled"):
        if key not in results:
            continue
        block = results[key]
        for mode in ("llm", "retrieval"):
            row = block[mode]
            tokens = (
                f"{row['prompt_tokens_mean']:.0f} / {row['prompt_tokens_max']}"
                if "prompt_tokens_mean" in row
                else "-"
            )
            calls = f"{row['llm_calls']:.1f}" if "llm_calls" in row else "0"
            lines.append(
                f"| {block['chunks']} chunks | {mode} | {row['questions']} | {row['p50_ms']:.1f} | "
                f"{row['p95_ms']:.1f} | {calls} | {tokens} |"
            )
    lines.append("")
    for key in ("corpus", "scaled"):
        if key in results:
            lines.append(
                f"{results[key]['chunks']} chunks: 10th question of one incident thread (with history) "
                f"{results[key]['conversation_10th_question_tokens']} prompt tokens"
            )
    lines.append(f"peak RSS: {results['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
