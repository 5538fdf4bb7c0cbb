"""Relevance: whether a found document is about the question at all, calibrated so that "nothing matches" can be said.

Search ranks: it always has a best document, and its hybrid score is rank-based (reciprocal rank), so it says
nothing about how good the best one is. Relevance is an absolute 0-1 score per document from three signals that do
not depend on what else is in the knowledge base's ranking: the best cosine similarity of the document's pieces to
the question (dense), the idf-weighted share of the question's words the document holds (coverage) and the share
held by words that name something the knowledge base has never heard of (foreign, `foreign.py`). Below
RELEVANCE_FLOOR a document is not shown.
"""

from __future__ import annotations

import math
from typing import Literal

Mode = Literal["hybrid", "dense", "bm25"]  # the search modes: both signals fused, or one alone
RELEVANCE_FLOOR = 0.5
# (similarity weight, coverage weight, foreign weight, bias) of a logistic model per search mode, printed by
# bench/calibrate.py: fitted on the tuning and fresh splits of bench/queries.yaml and bench/ood_queries.yaml, the
# bias set so that 0.5 keeps the answer of all but 2% of their in-domain queries. Measured on the held-out and
# blind splits in BENCHMARKS.md.
# Fitted on the local MiniLM embedder's similarities (CALIBRATED_EMBEDDER, any precision): with another embedder
# `KnowledgeBase.search` uses the "bm25" row, the words alone, until someone fits that embedder's.
CALIBRATED_EMBEDDER = "minilm-l6-v2"
CALIBRATION: dict[str, tuple[float, float, float, float]] = {
    "hybrid": (24.60, 14.45, -9.50, -13.16),
    "dense": (26.76, 0.00, -27.00, -9.41),
    "bm25": (0.00, 18.32, -34.00, 4.19),
}


# Below this dense similarity a document is not about the question whatever words it shares with it: a question
# with one content word ("what should I do first?", "what now") is fully "covered" by any runbook that says
# "first" or "now", at similarity 0.07-0.30. On the tuning and fresh splits no right answer shown has a
# similarity under 0.30 (`bench/retrieval.py`, BENCHMARKS.md). Modes without a dense signal are not gated.
MIN_SIMILARITY = 0.25


def relevance(mode: Mode, dense: float, coverage: float, foreign: float = 0.0) -> float:
    """How likely a document with these signals is about the question, by the mode's calibration."""
    a, b, c, bias = CALIBRATION[mode]
    if a > 0 and dense < MIN_SIMILARITY:
        return 0.0
    return 1.0 / (1.0 + math.exp(-(a * dense + b * coverage + c * foreign + bias)))
