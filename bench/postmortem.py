"""Postmortem benchmark: draft time for 100 / 1,000 / 10,000-message incidents, LLM calls and prompt tokens.

    python bench/postmortem.py                       # sizes 100 1000 10000, temp SQLite, no knowledge search
    python bench/postmortem.py --knowledge knowledge # also search a knowledge dir (warm embedder, like the bot)
    python bench/postmortem.py --json out.json

For each size: the time to build the draft without an LLM (facts, gate verdicts, template narrative, Markdown),
the whole `!postmortem` step without an LLM (gate, build, render, store; `PostmortemWorkflow.draft`), and one draft
with the real `ChatOpenAI` against the scripted OpenAI-compatible fake (`tests/fakes/openai_server.py`), which
answers at once: its time is the draft time plus the client's overhead. Prompt tokens are counted the way the
fake counts them (the JSON of the messages and the tool schema, characters / 4). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.*` (the fakes) when run as a script

from agent.engine import Engine
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.llm import make_chat_model
from agent.postmortem import PostmortemWorkflow, build_postmortem, render_markdown
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_tokens
from tests.postmortem_fixtures import settings_in, synthetic_incident

REPEATS = 3
NARRATIVE = Reply.tool_call(
    "PostmortemNarrative",
    summary={"text": "A deploy doubled the DB pool per pod.", "evidence": ["E1"]},
    root_causes=[{"cause": "v3.2 doubled the per-pod pool.", "evidence": ["E4"], "confidence": 0.7}],
)


def median_time(work: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: int, root: Path, knowledge: KnowledgeBase | None, llm: FakeOpenAI) -> dict[str, Any]:
    settings = settings_in(root / f"n{size}", OPENAI_API_KEY="bench", OPENAI_BASE_URL=llm.url)
    engine = Engine.from_settings(settings)
    try:
        incident_id = synthetic_incident(engine, size)
        build = median_time(lambda: render_markdown(build_postmortem(engine, incident_id, knowledge)))
        workflow = PostmortemWorkflow(engine, settings, knowledge=lambda: knowledge)
        step = median_time(lambda: workflow.draft(incident_id, by="bench"))
        before = len(llm.chat_requests)
        llm.script(NARRATIVE)
        started = time.perf_counter()
        draft = build_postmortem(engine, incident_id, knowledge, make_chat_model(settings))
        with_llm = time.perf_counter() - started
        requests = llm.chat_requests[before:]
    finally:
        engine.close()
    return {
        "messages": size,
        "events": draft.event_count,
        "draft_s": round(build, 3),
        "postmortem_step_s": round(step, 3),
        "with_fake_llm_s": round(with_llm, 3),
        "llm_calls": len(requests),
        "prompt_tokens": max(prompt_tokens(body) for body in requests),
        "prompt_tokens_ours": draft.generation.prompt_tokens,
        "narrative": draft.generation.narrative,
    }


def open_knowledge(folder: Path, root: Path) -> tuple[KnowledgeBase, float]:
    settings = settings_in(root / "kb", DEBRIEF_KNOWLEDGE_DIR=str(folder))
    kb = open_knowledge_base(settings)
    started = time.perf_counter()
    kb.ingest([folder], progress=False)
    kb.search("warm up the embedder", limit=1)
    return kb, time.perf_counter() - started


def table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        "| messages | draft, no LLM (s) | `!postmortem` step, no LLM (s) | with fake LLM (s) | LLM calls "
        "| prompt tokens |\n|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r['messages']:,} | {r['draft_s']:.3f} | {r['postmortem_step_s']:.3f} | {r['with_fake_llm_s']:.3f} "
        f"| {r['llm_calls']} | {r['prompt_tokens']:,} |"
        for r in rows
    ]
    return "\n".join([header, *lines])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--knowledge", type=Path, help="a knowledge dir to search (loads the local embedder)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as llm:
        root = Path(tmp)
        knowledge, warmup = (None, 0.0)
        if args.knowledge:
            knowledge, warmup = open_knowledge(args.knowledge, root)
            print(f"knowledge: ingest + embedder warm-up {warmup:.1f} s (once per process)", file=sys.stderr)
        rows = [measure(size, root, knowledge, llm) for size in args.sizes]
    print(table(rows))
    if args.json:
        payload = {"knowledge": str(args.knowledge) if args.knowledge else None, "rows": rows}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
