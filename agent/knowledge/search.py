"""Hybrid search: dense (Chroma) and BM25 rankings of whole documents, fused by weighted reciprocal rank.

Fusion happens per document, not per chunk: a runbook is the unit a responder wants, and chunk-level fusion
measured worse (BENCHMARKS.md). Each hit then names the document's best-matching section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.knowledge.catalog import Catalog, CatalogDocument, Section
from agent.knowledge.foreign import foreign_terms
from agent.knowledge.lexical import spelled_out, tokenize
from agent.knowledge.relevance import RELEVANCE_FLOOR, Mode, relevance
from agent.knowledge.vectors import store_errors, store_of
from agent.models import SearchHit

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

__all__ = ["MODES", "Catalog", "CatalogDocument", "Mode", "search"]

MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
DENSE_CANDIDATES = 60
LEXICAL_CANDIDATES = 60
RRF_K = 5
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A little of the dense similarity itself beside the ranks: on a small knowledge base BM25's ranks are noisy (the
# starter knowledge put a redis runbook that links to the checkout one first for "checkout 500s after deploy",
# dense similarity 0.32 against 0.63). The smallest weight that fixes it changes nothing on the tuning half.
DENSE_SCORE_WEIGHT = 0.07
SNIPPET_CHARS = 240
# What is searched of a query: a question, or a pasted log line or two. A 10 MB "query" took 1.6 GB to search;
# the embedder reads only the first 128 word pieces of it anyway.
MAX_QUERY_CHARS = 4000
SPELL_OUT = True


@dataclass
class _Candidate:
    doc_id: str
    dense: float | None = None
    lexical: float | None = None
    best_chunk: str | None = None  # chunk id of the best dense section
    fused: float = 0.0
    similarity: float = (
        0.0  # the dense similarity, or a bound on it for a document dense search did not return
    )
    coverage: float = 0.0  # share of the query's words the document holds (`LexicalIndex.coverage`)
    foreign: float = 0.0  # share of the query held by names the knowledge base never heard of (`foreign.py`)
    relevance: float = 0.0  # calibrated: how likely the document is about the question (`relevance.py`)


def search(
    query: str,
    *,
    collection: Collection,
    embed_query: Callable[[str], list[float]],
    catalog: Catalog,
    kind: str | None = None,
    limit: int = 5,
    mode: Mode = "hybrid",
    min_relevance: float = RELEVANCE_FLOOR,
    calibration: Mode | None = None,
) -> list[SearchHit]:
    """The best `limit` documents whose relevance reaches `min_relevance` (0: every candidate, scored).
    `calibration` is the mode whose relevance calibration to use (default: `mode`'s own). A store that fails
    (a damaged file, a full disk) is a `KnowledgeError` naming it. Only the first MAX_QUERY_CHARS characters of
    `query` are searched."""
    query = query[:MAX_QUERY_CHARS]
    with store_errors(store_of(collection)):
        ranked = rank(
            query,
            collection=collection,
            embed_query=embed_query,
            catalog=catalog,
            kind=kind,
            mode=mode,
            calibration=calibration,
        )
        best = [candidate for candidate in ranked if candidate.relevance >= min_relevance][:limit]
        sections = catalog.read_sections(candidate.doc_id for candidate in best)
    return [_hit(candidate, catalog.documents[candidate.doc_id], sections, query) for candidate in best]


def rank(
    query: str,
    *,
    collection: Collection,
    embed_query: Callable[[str], list[float]],
    catalog: Catalog,
    kind: str | None = None,
    mode: Mode = "hybrid",
    calibration: Mode | None = None,
) -> list[_Candidate]:
    """Every candidate document, best first, each with its signals and its relevance."""
    if not query.strip() or not catalog.documents:
        return []
    candidates: dict[str, _Candidate] = {}
    if mode in ("hybrid", "dense"):
        _add_dense(query, collection, embed_query, kind, candidates)
    if mode in ("hybrid", "bm25"):
        _add_lexical(query, catalog, kind, candidates)
    known = [candidate for candidate in candidates.values() if candidate.doc_id in catalog.documents]
    ranked = _fuse(known, mode)
    _score_relevance(query, catalog, ranked, calibration or mode)
    return ranked


def _score_relevance(query: str, catalog: Catalog, ranked: list[_Candidate], calibration: Mode) -> None:
    weighed = catalog.index.weigh(query)
    coverage = catalog.index.coverage(weighed, (c.doc_id for c in ranked)) if calibration != "dense" else {}
    foreign = weighed.share_of(foreign_terms(query, catalog.index.knows)) if ranked else 0.0
    # A document the dense search did not return is no closer than the farthest one it did.
    floor = min((c.dense for c in ranked if c.dense is not None), default=0.0)
    for candidate in ranked:
        candidate.coverage = coverage.get(candidate.doc_id, 0.0)
        candidate.foreign = foreign
        candidate.similarity = candidate.dense if candidate.dense is not None else floor
        candidate.relevance = relevance(calibration, candidate.similarity, candidate.coverage, foreign)


def _add_dense(
    query: str,
    collection: Collection,
    embed_query: Callable[[str], list[float]],
    kind: str | None,
    out: dict[str, _Candidate],
) -> None:
    vector = embed_query(spelled_out(query) if SPELL_OUT else query)
    rows = _nearest(collection, vector, DENSE_CANDIDATES * 2, None)
    if kind:
        # Filtering in Chroma costs ~5x an unfiltered query; filter here unless the kind is rare nearby.
        rows = [row for row in rows if row[1]["kind"] == kind]
        if len(rows) < DENSE_CANDIDATES // 2:
            rows = _nearest(collection, vector, DENSE_CANDIDATES, {"kind": kind})
    for chunk_id, meta, distance in rows[:DENSE_CANDIDATES]:
        similarity = 1.0 - float(distance)
        candidate = out.setdefault(str(meta["doc_id"]), _Candidate(str(meta["doc_id"])))
        if candidate.dense is None or similarity > candidate.dense:
            candidate.dense = similarity
        if meta["level"] == "chunk" and candidate.best_chunk is None:
            candidate.best_chunk = chunk_id  # results arrive best first


def _nearest(
    collection: Collection, vector: list[float], n: int, where: dict[str, str] | None
) -> list[tuple[str, Mapping[str, Any], float]]:
    result = collection.query(
        query_embeddings=[vector],  # type: ignore[arg-type]
        n_results=n,
        where=where,  # type: ignore[arg-type]
        include=["metadatas", "distances"],
    )
    metadatas = (result["metadatas"] or [[]])[0]
    distances = (result["distances"] or [[]])[0]
    return list(zip(result["ids"][0], metadatas, distances, strict=True))


def _add_lexical(query: str, catalog: Catalog, kind: str | None, out: dict[str, _Candidate]) -> None:
    scores = catalog.index.scores(query, kind)
    top = np.argsort(-scores)[:LEXICAL_CANDIDATES]
    for position in top:
        if scores[position] <= 0:
            break
        doc_id = catalog.index.doc_ids[int(position)]
        out.setdefault(doc_id, _Candidate(doc_id)).lexical = float(scores[position])


def _fuse(candidates: list[_Candidate], mode: Mode) -> list[_Candidate]:
    dense_rank = _ranks([c for c in candidates if c.dense is not None], lambda c: c.dense or 0.0)
    lexical_rank = _ranks([c for c in candidates if c.lexical is not None], lambda c: c.lexical or 0.0)
    for candidate in candidates:
        if mode == "dense":
            candidate.fused = candidate.dense or 0.0
        elif mode == "bm25":
            candidate.fused = candidate.lexical or 0.0
        else:
            candidate.fused = DENSE_SCORE_WEIGHT * (candidate.dense or 0.0) + sum(
                weight / (RRF_K + ranks[candidate.doc_id])
                for weight, ranks in ((DENSE_WEIGHT, dense_rank), (LEXICAL_WEIGHT, lexical_rank))
                if candidate.doc_id in ranks
            )
    return sorted((c for c in candidates if c.fused > 0), key=lambda c: -c.fused)


def _ranks(candidates: list[_Candidate], key: Callable[[_Candidate], float]) -> dict[str, int]:
    ordered = sorted(candidates, key=key, reverse=True)
    return {candidate.doc_id: rank for rank, candidate in enumerate(ordered, start=1)}


def _hit(
    candidate: _Candidate, doc: CatalogDocument, sections: dict[str, list[Section]], query: str
) -> SearchHit:
    heading, text = _best_section(sections.get(doc.doc_id, []), candidate.best_chunk, query)
    return SearchHit(
        source=doc.source,
        kind=doc.kind,
        title=doc.title,
        heading=heading,
        score=round(candidate.fused, 6),
        relevance=round(candidate.relevance, 3),
        similarity=round(candidate.similarity, 3),
        snippet=_snippet(text),
    )


def _best_section(sections: list[Section], chunk_id: str | None, query: str) -> tuple[str, str]:
    if not sections:
        return "", ""
    for section_id, heading, text in sections:
        if section_id == chunk_id:
            return heading, text
    wanted = set(tokenize(query))
    _, heading, text = max(sections, key=lambda s: len(wanted & set(tokenize(f"{s[1]} {s[2]}"))))
    return heading, text


def _snippet(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
