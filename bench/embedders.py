"""Embedder variants side by side, one run: ingest speed, retrieval quality, load time and memory.

    python -m bench.embedders [--variants torch:256:text,fp32:256:text,int8:256:mean,...] [--json out.json]

A variant is PRECISION:MAX_TOKENS:DOC_VECTOR. PRECISION is fp32 or int8 (ONNX Runtime, agent/knowledge) or
torch (sentence-transformers, as before; needs `make bench-reference`, skipped when not installed);
MAX_TOKENS caps the word pieces read of each piece; DOC_VECTOR is how a document-level vector is made, "text"
(embed the start of the file) or "mean" (mean of its sections' vectors, no model pass). Each variant runs in a
fresh process, so load time and memory are its own: it loads the model, ingests the corpus into a new store
(`../shared/corpus`: runbooks and postmortems) and answers bench/queries.yaml in hybrid and dense mode.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from agent.knowledge.base import KnowledgeBase
from agent.knowledge.chunks import DocVector
from agent.knowledge.embedder import Embedder, OnnxEmbedder
from agent.knowledge.vectors import open_client, open_collection
from agent.redact import Redactor
from agent.settings import load_settings
from bench.retrieval import KINDS, quality

HERE = Path(__file__).resolve().parent
DEFAULT_VARIANTS = "torch:256:text,fp32:256:text,fp32:128:mean,int8:256:text,int8:128:text,int8:128:mean"
# The quality columns (mode, half of bench/queries.yaml, kind): hybrid is what Debrief answers with; the held-out
# half was never tuned on (BENCHMARKS.md, "Retrieval").
COLUMNS = [
    ("hybrid", "held-out", "runbook"),
    ("hybrid", "held-out", "incident"),
    ("hybrid", "tuning", "runbook"),
    ("hybrid", "tuning", "incident"),
    ("dense", "held-out", "runbook"),
    ("dense", "held-out", "incident"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", default=DEFAULT_VARIANTS)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--reference-python",
        help="a Python with sentence-transformers for the torch variant (default: this one)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_variant(args.worker, args.corpus)))
        return
    results = []
    for variant in args.variants.split(","):
        load = os.getloadavg()[0]
        python = (
            args.reference_python if variant.startswith("torch") and args.reference_python else sys.executable
        )
        done = subprocess.run(
            [python, "-m", "bench.embedders", "--worker", variant, "--corpus", str(args.corpus)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{variant}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["load_average"] = load
        results.append(row)
        print(render_row(row), flush=True)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def run_variant(variant: str, corpus: Path) -> dict[str, Any]:
    precision, max_tokens, doc_vector = variant.split(":")
    started = time.perf_counter()
    embedder = _embedder(precision, int(max_tokens))
    if embedder is None:
        return {
            "variant": variant,
            "skipped": "sentence-transformers is not installed (make bench-reference)",
        }
    embedder.embed_query("warm up")  # loads, verifies and builds the model
    load_s = time.perf_counter() - started
    queries = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="debrief-embedders-") as tmp:
        settings = load_settings(DEBRIEF_DATA_DIR=tmp)
        client = open_client(settings)
        kb = KnowledgeBase(
            open_collection(client, embedder.name),
            embedder,
            Redactor(),
            Path(tmp),
            client=client,
            doc_vector=_doc_vector(doc_vector),
        )
        started, cpu = time.perf_counter(), time.process_time()
        report = kb.ingest([corpus / folder for folder in KINDS.values()], progress=False)
        ingest_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        scores = {mode: quality(kb, queries, mode) for mode in ("hybrid", "dense")}
    return {
        "variant": variant,
        "load_s": load_s,
        "files": report.files,
        "pieces": report.chunks,
        "ingest_s": ingest_s,
        "pieces_per_s": report.chunks / ingest_s,
        # CPU seconds of all threads: on a shared machine, what the ingest would cost with the cores to itself
        "pieces_per_cpu_s": report.chunks / cpu_s,
        "files_per_s": report.files / ingest_s,
        "quality": scores,
        "rss_mb": _status_mb("VmRSS"),
        "peak_rss_mb": _status_mb("VmHWM"),
    }


def _embedder(precision: str, max_tokens: int) -> Embedder | None:
    if precision != "torch":
        return OnnxEmbedder("int8" if precision == "int8" else "fp32", max_tokens=max_tokens)
    try:
        from bench.reference_embedder import TorchEmbedder
    except ImportError:
        return None
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return None
    return TorchEmbedder()


def _doc_vector(name: str) -> DocVector:
    if name not in ("text", "mean"):
        raise SystemExit(f"DOC_VECTOR must be text or mean, got {name!r}")
    return "text" if name == "text" else "mean"


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def render_row(row: dict[str, Any]) -> str:
    if "skipped" in row:
        return f"| {row['variant']} | skipped: {row['skipped']} |"
    cells = [
        row["variant"],
        f"{row['pieces_per_s']:.1f}",
        f"{row['pieces_per_cpu_s']:.1f}",
        f"{row['files_per_s']:.2f}",
        f"{row['load_s']:.2f} s",
        f"{row['rss_mb']:.0f} / {row['peak_rss_mb']:.0f} MB",
        *(_scores(row["quality"][mode][f"{half}|{kind}"]) for mode, half, kind in COLUMNS),
        f"{row['load_average']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def render(results: list[dict[str, Any]]) -> str:
    columns = [f"{mode} {half} {kind} R@3 / MRR" for mode, half, kind in COLUMNS]
    header = " | ".join(
        ["variant", "pieces/s", "pieces per CPU-s", "files/s", "load", "RSS / peak", *columns, "load avg"]
    )
    return "\n".join(
        [f"| {header} |", "|" + "---|" * (7 + len(COLUMNS)), *(render_row(row) for row in results)]
    )


def _scores(cell: dict[str, Any]) -> str:
    return f"{cell['recall@3']:.2f} / {cell['mrr']:.3f}"


if __name__ == "__main__":
    main()
