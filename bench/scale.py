"""Knowledge base at scale: ingest throughput, search latency per mode, start-up to the first answer, memory.

    python -m bench.scale [--sizes 5000,20000,50000] [--json out.json]

The store holds the shared corpus (so bench/queries.yaml still has its answers, now among many distractors)
plus synthetic runbooks and postmortems from bench/corpus.py, ingested in steps until it holds each size in
pieces. At each size: the step's ingest rate; search p50/p95 per mode in this process, each question's
query embedded afresh (the knowledge base caches query vectors; a new question is never in that cache);
recall@3 of the held-out queries; and, three times each, a fresh `debrief search` and `debrief ask`
(retrieval mode, as the bot answers without an LLM) process timed from its start to its answer, with its
peak memory. The synthetic files are the knowledge dir, so `debrief ask` also checks them for changes
first, as the bot does at start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.knowledge.embedder import Embedder, make_embedder
from agent.knowledge.search import MODES, Mode
from agent.settings import load_settings
from bench.corpus import generate
from bench.retrieval import KINDS, latency, quality

HERE = Path(__file__).resolve().parent
QUERY = "pods keep restarting after the deploy, what do we do?"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    queries = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))
    results = []
    with tempfile.TemporaryDirectory(prefix="debrief-scale-") as tmp:
        env = {"DEBRIEF_DATA_DIR": f"{tmp}/data", "DEBRIEF_KNOWLEDGE_DIR": f"{tmp}/knowledge"}
        settings = load_settings(**env)
        embedder = make_embedder(settings)
        kb = open_knowledge_base(settings, embedder)
        kb.ingest([args.corpus / folder for folder in KINDS.values()], progress=False)
        files = 0
        for size in (int(s) for s in args.sizes.split(",")):
            row: dict[str, Any] = {"target": size, "load_average_before": os.getloadavg()[0]}
            row.update(grow(kb, Path(env["DEBRIEF_KNOWLEDGE_DIR"]), size, files))
            files = row["synthetic_files"]
            latency(kb, queries, "hybrid", repeat=1)  # warm: model loaded, caches filled
            row["search"] = {mode: question_latency(kb, embedder, queries, mode) for mode in MODES}
            scores = quality(kb, queries, "hybrid")
            row["recall@3"] = {kind: scores[f"held-out|{kind}"]["recall@3"] for kind in KINDS}
            row["bench_rss_mb"] = _status_mb("VmRSS")
            row["first_answer"] = {command: fresh_process(command, env) for command in ("search", "ask")}
            row["load_average_after"] = os.getloadavg()[0]
            results.append(row)
            print(render_row(row), flush=True)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def grow(kb: KnowledgeBase, folder: Path, target: int, files: int) -> dict[str, Any]:
    """Generate and ingest synthetic files until the store holds `target` pieces; the ingest's rate."""
    pieces, seconds, added = 0, 0.0, 0
    while kb.count() < target:
        missing = target - kb.count()
        batch = max(50, min(2000, missing // 7 + 1))
        generate(folder, batch, start=files + added)
        added += batch
        started = time.perf_counter()
        report = kb.ingest([folder], progress=False)
        seconds += time.perf_counter() - started
        pieces += report.chunks
    return {
        "pieces": kb.count(),
        "synthetic_files": files + added,
        "ingested_pieces": pieces,
        "ingest_s": seconds,
        "pieces_per_s": pieces / seconds if seconds else 0.0,
        "files_per_s": added / seconds if seconds else 0.0,
    }


def question_latency(
    kb: KnowledgeBase, embedder: Embedder, queries: list[dict[str, Any]], mode: Mode, repeat: int = 3
) -> dict[str, float]:
    """p50/p95 of answering new questions: the search (its query vector cached by the warm-up pass) plus, for
    the modes that use vectors, embedding the query with the embedder itself, uncached, timed just before."""
    timings = []
    for _ in range(repeat):
        for case in queries:
            started = time.perf_counter()
            if mode != "bm25":
                embedder.embed_query(case["query"])
            kb.search(case["query"], kind=case["kind"], limit=5, mode=mode)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1]}


def fresh_process(command: str, env: dict[str, str], runs: int = 3) -> dict[str, float]:
    """Median wall time of a new `debrief` process from its start to its answer, and its peak RSS.

    The peak is the child's own VmHWM, read every 10 ms while it runs (so the time is up to 10 ms late). Not
    its rusage: a child started from this large process inherits its resident size as ru_maxrss across exec.
    """
    debrief = str(Path(sys.executable).parent / "debrief")
    times, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [debrief, command, QUERY, "--json"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _status_mb("VmHWM", process.pid))
            time.sleep(0.01)
        times.append(time.perf_counter() - started)
        if process.returncode != 0:
            raise SystemExit(f"debrief {command} failed with exit code {process.returncode}")
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak_rss_mb": max(peaks)}


def _status_mb(field: str, pid: int | str = "self") -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # the process has just exited
        return 0.0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def render_row(row: dict[str, Any]) -> str:
    search = " | ".join(f"{row['search'][m]['p50_ms']:.1f} / {row['search'][m]['p95_ms']:.1f}" for m in MODES)
    first = " | ".join(
        f"{row['first_answer'][c]['seconds']:.2f} s, {row['first_answer'][c]['peak_rss_mb']:.0f} MB"
        for c in ("search", "ask")
    )
    recall = " / ".join(f"{row['recall@3'][kind]:.2f}" for kind in KINDS)
    return (
        f"| {row['pieces']:,} | {row['pieces_per_s']:.1f} ({row['files_per_s']:.1f} files/s) | {search} | "
        f"{first} | {recall} | {row['bench_rss_mb']:.0f} MB | {row['load_average_before']:.1f} |"
    )


def render(results: list[dict[str, Any]]) -> str:
    header = (
        "| pieces | ingest pieces/s | hybrid p50 / p95 ms | dense p50 / p95 ms | bm25 p50 / p95 ms "
        "| fresh `debrief search` | fresh `debrief ask` | held-out recall@3 runbook / incident | bench RSS | load avg |"
    )
    return "\n".join([header, "|" + "---|" * 10, *(render_row(row) for row in results)])


if __name__ == "__main__":
    main()
