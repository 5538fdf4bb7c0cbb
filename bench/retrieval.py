"""Retrieval benchmark: quality of BM25, dense and hybrid side by side, ingest speed, search latency, memory.

    python bench/retrieval.py [--corpus ../shared/corpus] [--scale-chunks 5000] [--store DIR] [--json out.json]

Quality is measured on bench/queries.yaml (responder-phrased symptoms with hand-judged relevant files), per split:
`tuning` (what retrieval choices were tuned on), `held-out` (only measured; its queries written from incident
reports also on their own), `fresh` (written blind by another writer, measured once, then fitted on for the
relevance floor), `blind`, `blind2` and `blind3` (written blind, only measured). `--store DIR` keeps the
ingested store there and reuses it next time (an unchanged corpus is not re-embedded; the ingest numbers are then
those of the run that embedded it).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.knowledge.base import KnowledgeBase
from agent.knowledge.embedder import OnnxEmbedder
from agent.knowledge.search import MODES, Mode
from agent.knowledge.vectors import open_client, open_collection
from agent.redact import Redactor
from agent.retrieval_answer import RUNBOOKS, close_call
from agent.settings import load_settings

HERE = Path(__file__).resolve().parent
KINDS = {"runbook": "runbooks", "incident": "postmortems"}


def open_kb(data_dir: Path, embedder: OnnxEmbedder) -> KnowledgeBase:
    settings = load_settings(DEBRIEF_DATA_DIR=str(data_dir))
    collection = open_collection(open_client(settings), embedder.name)
    return KnowledgeBase(collection, embedder, Redactor(), data_dir)


SUBSETS: dict[str, Callable[[dict[str, Any]], bool]] = {  # name -> which queries
    "tuning": lambda q: q["split"] == "tuning",
    "held-out": lambda q: q["split"] == "held-out",
    "held-out, from reports": lambda q: q["split"] == "held-out" and q.get("origin") == "report",
    "fresh": lambda q: q["split"] == "fresh",
    "blind": lambda q: q["split"] == "blind",
    "blind2": lambda q: q["split"] == "blind2",
    "blind3": lambda q: q["split"] == "blind3",
}
# The splits of queries.yaml and ood_queries.yaml.
HALVES = ("tuning", "held-out", "fresh", "blind", "blind2", "blind3")
# Questions that name nothing ("what now"): ood_queries.yaml's `split: vague`, only measured, never fitted on.
REFUSAL_SETS = (*HALVES, "vague")


def rank_of(kb: KnowledgeBase, case: dict[str, Any], mode: Mode) -> int | None:
    """Rank (1-based) of the first relevant file in the top 10, or None."""
    hits = kb.search(case["query"], kind=case["kind"], limit=10, mode=mode, min_relevance=0.0)
    relevant = set(case["relevant"])
    return next((i for i, hit in enumerate(hits, 1) if hit.source in relevant), None)


def quality(kb: KnowledgeBase, queries: list[dict[str, Any]], mode: Mode) -> dict[str, dict[str, Any]]:
    """Per subset and kind: recall@1/3/5 and MRR, and the queries whose answer is not in the top 3."""
    ranks = {id(case): rank_of(kb, case, mode) for case in queries}
    table: dict[str, dict[str, Any]] = {}
    for subset, wanted in SUBSETS.items():
        for kind in KINDS:
            cases = [q for q in queries if q["kind"] == kind and wanted(q)]
            if not cases:
                continue
            found = [ranks[id(case)] for case in cases]
            table[f"{subset}|{kind}"] = {
                "queries": len(cases),
                "recall@1": _recall(found, 1),
                "recall@3": _recall(found, 3),
                "recall@5": _recall(found, 5),
                "mrr": sum(1 / r for r in found if r) / len(found),
                "missed@3": [c["query"] for c, r in zip(cases, found, strict=True) if not r or r > 3],
            }
    return table


def refusal(
    kb: KnowledgeBase, queries: list[dict[str, Any]], ood: list[dict[str, Any]], mode: Mode
) -> dict[str, dict[str, Any]]:
    """Per half: the out-of-domain questions that get no runbook and no incident (the floor says "nothing
    matches"), and the in-domain queries whose right answer was in the top 5 and is no longer shown."""
    table: dict[str, dict[str, Any]] = {}
    for half in REFUSAL_SETS:
        outside = [case["query"] for case in ood if case["split"] == half]
        answered = [case for case in outside if any(kb.search(case, kind=k, mode=mode) for k in KINDS)]
        inside = [case for case in queries if case["split"] == half]
        lost = [case["query"] for case in inside if _loses_answer(kb, case, mode)]
        table[half] = {
            "ood": len(outside),
            "ood_refused": 1 - len(answered) / len(outside),
            "ood_answered": answered,
            "in_domain": len(inside),
            "lost": lost,
        }
    return table


def _loses_answer(kb: KnowledgeBase, case: dict[str, Any], mode: Mode) -> bool:
    relevant = set(case["relevant"])
    before = kb.search(case["query"], kind=case["kind"], mode=mode, min_relevance=0.0)
    after = kb.search(case["query"], kind=case["kind"], mode=mode)
    return any(hit.source in relevant for hit in before) and not any(hit.source in relevant for hit in after)


def _recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def close_calls(kb: KnowledgeBase, queries: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per subset, runbook queries as the retrieval answer sees them (hybrid, above the floor, top 3): how many are
    close calls (`close_call`), how often the first runbook is right, and how often only the runner-up (which the
    answer then names) is."""
    table: dict[str, dict[str, int]] = {}
    for subset, wanted in SUBSETS.items():
        counts = dict.fromkeys(
            ("queries", "close", "close_first_right", "close_only_second", "other_first_right"), 0
        )
        for case in (q for q in queries if q["kind"] == "runbook" and wanted(q)):
            hits = kb.search(case["query"], kind="runbook", limit=RUNBOOKS)
            right = [hit.source in case["relevant"] for hit in hits]
            close = len(hits) > 1 and close_call(hits[0], hits[1])
            counts["queries"] += 1
            counts["close"] += close
            counts["close_first_right"] += close and right[0]
            counts["close_only_second"] += close and right[1] and not right[0]
            counts["other_first_right"] += not close and bool(right) and right[0]
        table[subset] = counts
    return table


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
    parser.add_argument("--ood", type=Path, default=HERE / "ood_queries.yaml", help="out-of-domain questions")
    parser.add_argument("--scale-chunks", type=int, default=5000)
    parser.add_argument("--store", type=Path, help="keep the ingested stores here and reuse them")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    queries = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    ood = yaml.safe_load(args.ood.read_text(encoding="utf-8"))
    results: dict[str, Any] = {"queries": len(queries)}
    embedder = OnnxEmbedder()
    embedder.embed_query("warm up")  # model load is not ingest time
    with tempfile.TemporaryDirectory(prefix="debrief-bench-") as tmp:
        work = args.store or Path(tmp)
        roots = [args.corpus / folder for folder in KINDS.values()]
        kb = open_kb(work / "data", embedder)
        results["ingest"], results["reingest_unchanged_s"] = ingest(kb, roots)
        kb.catalog()  # built once per process, not per query
        results["quality"] = {mode: quality(kb, queries, mode) for mode in MODES}
        results["refusal"] = {mode: refusal(kb, queries, ood, mode) for mode in MODES}
        results["close_calls"] = close_calls(kb, queries)
        results["latency_corpus"] = {"chunks": kb.count(), **{m: latency(kb, queries, m) for m in MODES}}
        if args.scale_chunks:
            # A store of its own: the copies must not stay in the store whose quality is measured.
            scaled = open_kb(work / "scaled", embedder)
            scaled.ingest(roots, progress=False)
            chunks = scale_up(args.corpus, args.scale_chunks, scaled, work / "scale")
            scaled.catalog()
            results["latency_scaled"] = {"chunks": chunks, **{m: latency(scaled, queries, m) for m in MODES}}
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def ingest(kb: KnowledgeBase, roots: list[Path]) -> tuple[dict[str, float], float]:
    """The first ingest's numbers (none left to do when the store was kept), then an unchanged re-ingest's time."""
    started = time.perf_counter()
    report = kb.ingest(roots, progress=False)
    seconds = time.perf_counter() - started
    first = {
        "files": report.files,
        "chunks": report.chunks,
        "seconds": seconds,
        "files_per_s": report.files / seconds,
        "chunks_per_s": report.chunks / seconds,
        "skipped": len(report.skipped),
    }
    started = time.perf_counter()
    again = kb.ingest(roots, progress=False)
    assert again.files == 0, "unchanged re-ingest wrote files"
    return first, time.perf_counter() - started


def render(results: dict[str, Any]) -> str:
    lines = [
        "| queries | kind | mode | n | recall@1 | recall@3 | recall@5 | MRR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    first_mode = next(iter(results["quality"].values()))
    for key in first_mode:
        subset, kind = key.split("|")
        for mode, table in results["quality"].items():
            row = table[key]
            lines.append(
                f"| {subset} | {kind} | {mode} | {row['queries']} | {row['recall@1']:.2f} | "
                f"{row['recall@3']:.2f} | {row['recall@5']:.2f} | {row['mrr']:.3f} |"
            )
    lines += [
        "",
        "| queries | mode | out-of-domain: no result | in-domain: right answer lost to the floor |",
        "|---|---|---|---|",
    ]
    for half in REFUSAL_SETS:
        for mode, table in results["refusal"].items():
            row = table[half]
            lost = len(row["lost"])
            share = (
                f"{lost} of {row['in_domain']} ({lost / row['in_domain']:.1%})" if row["in_domain"] else "-"
            )
            lines.append(f"| {half} | {mode} | {row['ood_refused']:.0%} of {row['ood']} | {share} |")
    lines += [
        "",
        "| queries | runbook queries | close calls | first right, close / other | close, only the runner-up right |",
        "|---|---|---|---|---|",
    ]
    for subset, row in results["close_calls"].items():
        others = row["queries"] - row["close"]
        lines.append(
            f"| {subset} | {row['queries']} | {row['close']} | {row['close_first_right']} of {row['close']} / "
            f"{row['other_first_right']} of {others} | {row['close_only_second']} of {row['close']} |"
        )
    ingest = results["ingest"]
    first = (
        f"ingest: {ingest['files']} files, {ingest['chunks']} chunks in {ingest['seconds']:.1f} s "
        f"({ingest['files_per_s']:.1f} files/s, {ingest['chunks_per_s']:.1f} chunks/s), {ingest['skipped']} skipped"
        if ingest["files"]
        else "ingest: the kept store was up to date"
    )
    lines += [
        "",
        f"{first}; unchanged re-ingest {results['reingest_unchanged_s']:.2f} s",
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
