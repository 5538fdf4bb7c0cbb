"""Retrieval benchmark: quality of BM25, dense and hybrid side by side, ingest speed, search latency, memory.

    python bench/retrieval.py [--corpus ../shared/corpus] [--scale-chunks 5000] [--json out.json]

Quality is measured on bench/queries.yaml (responder-phrased symptoms with hand-judged relevant files).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from agent.knowledge.base import KnowledgeBase
from agent.knowledge.embedder import OnnxEmbedder
from agent.knowledge.search import MODES, Mode
from agent.knowledge.vectors import open_client, open_collection
from agent.redact import Redactor
from agent.settings import load_settings

HERE = Path(__file__).resolve().parent
KINDS = {"runbook": "runbooks", "incident": "postmortems"}


def open_kb(data_dir: Path, embedder: OnnxEmbedder) -> KnowledgeBase:
    settings = load_settings(DEBRIEF_DATA_DIR=str(data_dir))
    collection = open_collection(open_client(settings), embedder.name)
    return KnowledgeBase(collection, embedder, Redactor(), data_dir)


def quality(kb: KnowledgeBase, queries: list[dict[str, Any]], mode: Mode) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        cases = [q for q in queries if q["kind"] == kind]
        ranks = []
        for case in cases:
            relevant = set(case["relevant"])
            hits = kb.search(case["query"], kind=kind, limit=10, mode=mode)
            sources = [f"{hit.source}" for hit in hits]
            rank = next((i for i, source in enumerate(sources, 1) if source in relevant), None)
            ranks.append(rank)
        table[kind] = {
            "queries": len(cases),
            "recall@1": _recall(ranks, 1),
            "recall@3": _recall(ranks, 3),
            "recall@5": _recall(ranks, 5),
            "mrr": sum(1 / r for r in ranks if r) / len(ranks),
        }
    return table


def _recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def latency(
    kb: KnowledgeBase, queries: list[dict[str, Any]], mode: Mode, repeat: int = 3
) -> dict[str, float]:
    timings = []
    for _ in range(repeat):
        for case in queries:
            started = time.perf_counter()
            kb.search(case["query"], kind=case["kind"], limit=5, mode=mode)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1]}


def scale_up(corpus: Path, target_chunks: int, kb: KnowledgeBase, workdir: Path) -> int:
    """Copies of the runbooks, marked as variants, until the store holds `target_chunks` chunks."""
    copy = 0
    while kb.count() < target_chunks:
        copy += 1
        dest = workdir / f"copy{copy}"
        if not dest.exists():  # kept from an earlier run that reused its store
            shutil.copytree(corpus / "runbooks", dest)
            for path in dest.rglob("*.md"):
                text = path.read_text(encoding="utf-8", errors="replace")
                path.write_text(f"{text}\n\nVariant {copy} of this runbook.\n", encoding="utf-8")
        kb.ingest([dest], kind="runbook", progress=False)
    return kb.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--queries", type=Path, default=HERE / "queries.yaml")
    parser.add_argument("--scale-chunks", type=int, default=5000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    queries = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    results: dict[str, Any] = {"queries": len(queries)}
    embedder = OnnxEmbedder()
    embedder.embed_query("warm up")  # model load is not ingest time
    with tempfile.TemporaryDirectory(prefix="debrief-bench-") as tmp:
        kb = open_kb(Path(tmp) / "data", embedder)
        roots = [args.corpus / folder for folder in KINDS.values()]
        started = time.perf_counter()
        report = kb.ingest(roots, progress=False)
        seconds = time.perf_counter() - started
        results["ingest"] = {
            "files": report.files,
            "chunks": report.chunks,
            "seconds": seconds,
            "files_per_s": report.files / seconds,
            "chunks_per_s": report.chunks / seconds,
            "skipped": len(report.skipped),
        }
        started = time.perf_counter()
        again = kb.ingest(roots, progress=False)
        results["reingest_unchanged_s"] = time.perf_counter() - started
        assert again.files == 0, "unchanged re-ingest wrote files"
        kb.catalog()  # built once per process, not per query
        results["quality"] = {mode: quality(kb, queries, mode) for mode in MODES}
        results["latency_corpus"] = {"chunks": kb.count(), **{m: latency(kb, queries, m) for m in MODES}}
        if args.scale_chunks:
            chunks = scale_up(args.corpus, args.scale_chunks, kb, Path(tmp) / "scale")
            kb.catalog()
            results["latency_scaled"] = {"chunks": chunks, **{m: latency(kb, queries, m) for m in MODES}}
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def render(results: dict[str, Any]) -> str:
    lines = [
        "| mode | kind | queries | recall@1 | recall@3 | recall@5 | MRR |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, by_kind in results["quality"].items():
        for kind, row in by_kind.items():
            lines.append(
                f"| {mode} | {kind} | {row['queries']} | {row['recall@1']:.2f} | {row['recall@3']:.2f} "
                f"| {row['recall@5']:.2f} | {row['mrr']:.3f} |"
            )
    ingest = results["ingest"]
    lines += [
        "",
        f"ingest: {ingest['files']} files, {ingest['chunks']} chunks in {ingest['seconds']:.1f} s "
        f"({ingest['files_per_s']:.1f} files/s, {ingest['chunks_per_s']:.1f} chunks/s), "
        f"{ingest['skipped']} skipped; unchanged re-ingest {results['reingest_unchanged_s']:.2f} s",
        "",
        "| store size | mode | search p50 ms | search p95 ms |",
        "|---|---|---|---|",
    ]
    for key in ("latency_corpus", "latency_scaled"):
        if key in results:
            block = results[key]
            for mode in MODES:
                lines.append(
                    f"| {block['chunks']} chunks | {mode} | {block[mode]['p50_ms']:.1f} | {block[mode]['p95_ms']:.1f} |"
                )
    lines += ["", f"peak RSS: {results['peak_rss_mb']:.0f} MB"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
