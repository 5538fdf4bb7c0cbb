"""Hybrid search: dense and BM25 fused per document by reciprocal rank, shown when relevant enough."""

from __future__ import annotations

import pytest

from agent.knowledge import KnowledgeBase
from agent.knowledge.relevance import MIN_SIMILARITY, RELEVANCE_FLOOR, relevance
from agent.knowledge.search import DENSE_SCORE_WEIGHT, RRF_K, _Candidate, _fuse
from tests.knowledge_fixtures import kb, knowledge_dir

__all__ = ["kb", "knowledge_dir"]


def test_symptom_query_finds_the_matching_runbook_with_its_section(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    top = kb.search("app says too many clients, db requests timing out", kind="runbook", limit=3)[0]
    assert top.source == "runbooks/db-connections.md"
    assert top.title == "Database connection pool exhausted"
    assert top.heading in ("Symptoms", "Mitigation")
    assert top.kind == "runbook"
    assert top.snippet and top.score > 0


def test_kind_filter_keeps_only_that_kind(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    incidents = kb.search("database ran out of connections", kind="incident", limit=5)
    assert [hit.source for hit in incidents] == ["incidents/2024-01-10-db.md"]
    runbooks = kb.search("database ran out of connections", kind="runbook", limit=5)
    assert runbooks and all(hit.kind == "runbook" for hit in runbooks)


def test_each_document_appears_once(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    sources = [hit.source for hit in kb.search("disk full node filesystem images", limit=10)]
    assert len(sources) == len(set(sources))


def test_empty_store_and_empty_query_return_nothing(kb: KnowledgeBase) -> None:
    assert kb.search("anything") == []
    kb.ingest(progress=False)
    assert kb.search("   ") == []


def test_each_mode_ranks_on_its_own_signal(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    # "crictl" only occurs in one file: BM25 finds it by the exact word
    assert kb.search("crictl", mode="bm25", limit=1)[0].source == "runbooks/disk-full.md"
    # no shared words with the TLS runbook, but the meaning is close
    assert kb.search("https cert about to lapse", mode="dense", limit=1)[0].source == "runbooks/tls-expiry.md"


def test_rrf_rewards_documents_ranked_well_by_both_lists() -> None:
    both = _Candidate("both", dense=0.70, lexical=5.0)
    dense_only = _Candidate("dense-only", dense=0.90)
    lexical_only = _Candidate("lexical-only", lexical=9.0)
    ranked = _fuse([dense_only, lexical_only, both], "hybrid")
    assert ranked[0].doc_id == "both"
    assert ranked[0].fused == pytest.approx(2 / (RRF_K + 2) + DENSE_SCORE_WEIGHT * 0.70)
    assert {c.doc_id: c.fused for c in ranked[1:]} == pytest.approx(
        {"dense-only": 1 / (RRF_K + 1) + DENSE_SCORE_WEIGHT * 0.90, "lexical-only": 1 / (RRF_K + 1)}
    )


def test_a_much_closer_meaning_outweighs_one_place_in_the_ranks() -> None:
    # The starter knowledge's case: BM25 put a runbook that only links to the right one first.
    linked = _Candidate("links-to-it", dense=0.32, lexical=1.56)
    right = _Candidate("the-runbook", dense=0.63, lexical=1.26)
    other = _Candidate("third", dense=0.28, lexical=1.30)
    assert _fuse([linked, other, right], "hybrid")[0].doc_id == "the-runbook"


def test_a_question_the_knowledge_base_does_not_cover_returns_nothing(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    assert kb.search("why is etcd slow") == []
    assert kb.search("rabbitmq queue backing up, consumers not acking", kind="runbook") == []


def test_min_relevance_zero_returns_every_candidate_with_its_relevance(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    hits = kb.search("why is etcd slow", min_relevance=0.0, limit=10)
    assert len(hits) == 4  # every document is a candidate in so small a knowledge base
    assert all(0.0 <= hit.relevance < RELEVANCE_FLOOR for hit in hits)
    assert hits == sorted(hits, key=lambda hit: -hit.score)


def test_relevance_is_high_for_the_answer_and_low_for_the_rest(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    hits = kb.search("node disk is full", kind="runbook", min_relevance=0.0)
    assert hits[0].source == "runbooks/disk-full.md" and hits[0].relevance > 0.9
    assert all(hit.relevance < RELEVANCE_FLOOR for hit in hits[1:])
    assert [hit.source for hit in kb.search("node disk is full", kind="runbook")] == ["runbooks/disk-full.md"]


def test_relevance_rises_with_similarity_and_with_the_share_of_words_held() -> None:
    assert relevance("hybrid", 0.7, 0.6) > relevance("hybrid", 0.4, 0.6) > relevance("hybrid", 0.4, 0.1)
    assert relevance("dense", 0.8, 0.0) > RELEVANCE_FLOOR > relevance("dense", 0.2, 1.0)
    assert relevance("bm25", 0.0, 0.9) > relevance("bm25", 0.0, 0.3) > relevance("bm25", 1.0, 0.05)


def test_a_document_the_embedder_sees_no_relation_to_is_not_relevant_whatever_words_it_shares() -> None:
    assert (
        relevance("hybrid", MIN_SIMILARITY - 0.01, 1.0)
        == relevance("dense", MIN_SIMILARITY - 0.01, 0.0)
        == 0.0
    )
    assert relevance("hybrid", MIN_SIMILARITY, 1.0) > RELEVANCE_FLOOR
    assert relevance("bm25", 0.0, 1.0) > RELEVANCE_FLOOR  # no dense signal: no gate
