"""Fit the relevance floor: a logistic model per search mode on the tuning and fresh splits of queries.yaml (in
domain) and ood_queries.yaml (out of domain), its bias set so that relevance 0.5 keeps all but 2% of the in-domain
answers.

    python -m bench.calibrate --store DIR     # DIR as for bench/retrieval.py; prints agent.knowledge.relevance's table

Positive: an in-domain query's relevant documents in its top 5 (the best of them counts); negative: every document
in an out-of-domain query's top 5, runbooks and incidents. Signals: the best dense similarity of a document's
pieces (hybrid, dense) and its coverage of the query's words (hybrid, bm25), weighed by logistic regression; then
the share of the query held by foreign words (every mode), whose weight is the one that refuses the most out-of-domain
questions at that 2% (the middle of the weights within one question of the best): a logistic fit weighs every
document alike and so undervalues a signal that only some questions carry.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.knowledge.base import KnowledgeBase
from agent.knowledge.embedder import OnnxEmbedder
from agent.knowledge.search import MODES, Mode, rank
from bench.retrieval import HERE, KINDS, open_kb

TOP = 5
FIT_ON = ("tuning", "fresh")  # the splits of both files fitted on; held-out and blind only measure
ALLOWED_LOSS = 0.02
FOREIGN_WEIGHTS = np.arange(0.0, -40.5, -1.0)
SIGNALS: dict[Mode, tuple[bool, bool, bool]] = {  # the logistic model's inputs; foreign is weighed apart
    "hybrid": (True, True, False),
    "dense": (True, False, False),
    "bm25": (False, True, False),
}


def signals(kb: KnowledgeBase, query: str, kind: str, mode: Mode) -> list[tuple[str, np.ndarray]]:
    """(source, [similarity, coverage, foreign]) of the top documents, in order."""
    catalog = kb.catalog()
    ranked = rank(
        query, collection=kb._collection, embed_query=kb._embed_query, catalog=catalog, kind=kind, mode=mode
    )
    return [
        (catalog.documents[c.doc_id].source, np.array([c.similarity, c.coverage, c.foreign]))
        for c in ranked[:TOP]
    ]


def fit(positives: np.ndarray, negatives: np.ndarray, steps: int = 5000) -> tuple[np.ndarray, float]:
    """Logistic regression, both classes weighted equally, by gradient descent on standardised inputs."""
    inputs = np.vstack([positives, negatives])
    labels = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    weights = np.where(labels == 1, 0.5 / len(positives), 0.5 / len(negatives))
    mean, spread = inputs.mean(0), inputs.std(0) + 1e-9
    scaled = (inputs - mean) / spread
    w, b = np.zeros(inputs.shape[1]), 0.0
    for _ in range(steps):
        error = (1 / (1 + np.exp(-(scaled @ w + b))) - labels) * weights
        w -= 0.5 * (scaled.T @ error + 1e-3 * w)
        b -= 0.5 * float(error.sum())
    return w / spread, b - float((w * mean / spread).sum())


def calibrate(
    kb: KnowledgeBase, queries: list[dict[str, Any]], ood: list[dict[str, Any]], mode: Mode
) -> dict[str, Any]:
    used = np.array(SIGNALS[mode])
    best: list[np.ndarray] = []  # per in-domain query: the signals of its relevant documents in the top 5
    for case in (q for q in queries if q["split"] in FIT_ON):
        found = [
            x for source, x in signals(kb, case["query"], case["kind"], mode) if source in case["relevant"]
        ]
        if found:
            best.append(np.array(found))
    outside = [  # per out-of-domain question: the signals of its top documents of both kinds
        np.array([x for kind in KINDS for _, x in signals(kb, case["query"], kind, mode)])
        for case in ood
        if case["split"] in FIT_ON
    ]
    w, _ = fit(np.array([found[0][used] for found in best]), np.vstack(outside)[:, used])
    full = np.zeros(3)
    full[used] = w
    refused = np.array([_refused(full, c, best, outside)[0] for c in FOREIGN_WEIGHTS])
    # Within one question of the most refused, the middle weight: the count moves by one question between
    # neighbouring weights, and the middle is furthest from both too little and too much.
    near_best = FOREIGN_WEIGHTS[refused >= refused.max() - 1 / len(outside) - 1e-9]
    full[2] = float(np.median(near_best))
    share, threshold = _refused(full, full[2], best, outside)
    return {
        "weights": (float(full[0]), float(full[1]), float(full[2]), -threshold),
        "positives": len(best),
        "negatives": sum(len(x) for x in outside),
        "refused": share,
    }


def _refused(
    weights: np.ndarray, foreign: float, best: list[np.ndarray], outside: list[np.ndarray]
) -> tuple[float, float]:
    """With this foreign weight: the share of out-of-domain questions refused and the threshold that keeps the
    answer of all but ALLOWED_LOSS of the in-domain queries."""
    w = np.r_[weights[:2], foreign]
    # Each in-domain query keeps its answer while its best relevant document stays above the threshold.
    kept = np.sort([float((found @ w).max()) for found in best])
    lost = int(ALLOWED_LOSS * len(kept))
    threshold = (kept[lost] + kept[lost - 1]) / 2 if lost else kept[0] - 0.5
    return float(np.mean([(x @ w).max() < threshold for x in outside])), threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument(
        "--store", type=Path, required=True, help="the store bench/retrieval.py --store keeps"
    )
    args = parser.parse_args()
    queries = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))
    ood = yaml.safe_load((HERE / "ood_queries.yaml").read_text(encoding="utf-8"))
    kb = open_kb(args.store / "data", OnnxEmbedder())
    kb.ingest([args.corpus / folder for folder in KINDS.values()], progress=False)
    print("CALIBRATION: dict[str, tuple[float, float, float, float]] = {")
    for mode in MODES:
        result = calibrate(kb, queries, ood, mode)
        a, b, c, bias = result["weights"]
        print(
            f'    "{mode}": ({a:.2f}, {b:.2f}, {c:.2f}, {bias:.2f}),'
            f"  # {result['positives']} in / {result['negatives']} out, {result['refused']:.0%} refused"
        )
    print("}")


if __name__ == "__main__":
    main()
