"""Foreign words: names the knowledge base never heard of lower relevance; everyday words, typos and the
knowledge base's own words do not."""

from __future__ import annotations

import tracemalloc

import pytest
from spellchecker import SpellChecker

from agent.knowledge import KnowledgeBase
from agent.knowledge.foreign import MAX_TYPO_CHECKS, WIDTH, everyday_words, foreign_terms
from agent.knowledge.lexical import LexicalDocument, LexicalIndex, stem_word
from agent.knowledge.relevance import RELEVANCE_FLOOR, relevance
from agent.knowledge.search import MODES
from tests.knowledge_fixtures import kb, knowledge_dir

__all__ = ["kb", "knowledge_dir"]


@pytest.fixture
def index() -> LexicalIndex:
    built = LexicalIndex()
    built.update(
        [
            LexicalDocument(
                "etcd", "runbook", "etcd has no leader", "", "etcd members re-elect a leader; check fsync"
            ),
            LexicalDocument(
                "prom", "runbook", "Prometheus drops samples", "", "the prometheus scrape failed"
            ),
            LexicalDocument("pods", "runbook", "KubePodCrashLooping", "", "pods restart with back-off"),
        ]
    )
    return built


def _foreign(index: LexicalIndex, query: str) -> set[str]:
    return foreign_terms(query, index.knows)


def test_a_system_the_knowledge_base_never_mentions_is_foreign(index: LexicalIndex) -> None:
    assert _foreign(index, "mongodb primary stepped down, the replica set keeps re-electing") == {"mongodb"}
    assert _foreign(index, "mongodb and memcached both down") == {
        stem_word("mongodb"),
        stem_word("memcached"),
    }


def test_everyday_english_and_the_knowledge_base_own_words_are_not(index: LexicalIndex) -> None:
    # inflections, negations typed without the apostrophe, words the embedder knows and the operations vocabulary
    assert not _foreign(index, "etcd leader flapping, handshakes flaky, cant deploy, dont know why")
    assert not _foreign(index, "https api returns sql errors, cert about to expire, pvc full")
    assert not _foreign(index, "KubePodCrashLooping fired for the checkout pods")
    assert not _foreign(index, "is there a runbook or a postmortem for payment timeouts?")


def test_the_english_list_is_read_whole_from_pyspellchecker_data_file() -> None:
    everyday = everyday_words()
    listed = SpellChecker(language="en").word_frequency.dictionary
    assert all(word in everyday for word in listed if len(word.encode()) <= WIDTH)
    assert len(listed) > 150_000 and "kubelet" not in everyday


def test_a_typo_of_a_known_word_is_not_a_name(index: LexicalIndex) -> None:
    assert not _foreign(index, "promethues drops samples")
    assert _foreign(index, "prometheus-adapter and grafanna broke") == {stem_word("grafanna")}


def test_typo_checks_are_bounded_for_a_pasted_wall_of_unknown_words(index: LexicalIndex) -> None:
    noise = " ".join(f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}xwv" for i in range(MAX_TYPO_CHECKS))
    assert stem_word("promethues") not in _foreign(index, f"promethues {noise}")  # checked first: a typo
    assert stem_word("promethues") in _foreign(
        index, f"{noise} promethues"
    )  # past the bound: counted as unknown


def test_a_pasted_very_long_word_is_foreign_without_building_its_typos(index: LexicalIndex) -> None:
    """Its one-edit variants would take memory in the square of its length: 2,000 letters, about 200 MB."""
    word = "zq" * 1_000
    tracemalloc.start()
    try:
        found = _foreign(index, f"checkout fails with {word}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == {stem_word(word)}
    assert peak < 20_000_000


def test_numbers_host_names_and_short_abbreviations_are_left_out(index: LexicalIndex) -> None:
    assert not _foreign(index, "ip-10-2-14-9 on eth1 at 97%, tx errs")
    assert not _foreign(index, "wrk-12 and ocs-stor-3 went down, then bm-wrk-2")


def test_a_system_named_in_a_pod_name_is_still_a_name(index: LexicalIndex) -> None:
    assert _foreign(index, "rabbitmq-1 lost its quorum queues") == {stem_word("rabbitmq")}


def test_camel_case_names_are_read_word_by_word(index: LexicalIndex) -> None:
    assert not _foreign(index, "apps get NoCredentialProviders, observedGeneration stuck")


def test_the_foreign_share_is_the_part_of_the_query_they_hold(index: LexicalIndex) -> None:
    query = "mongodb leader keeps changing"
    share = index.weigh(query).share_of(_foreign(index, query))
    assert 0.0 < share < 1.0
    known = "etcd leader keeps changing"
    assert index.weigh(known).share_of(_foreign(index, known)) == 0.0
    assert index.weigh(query).share_of(set()) == 0.0


def test_relevance_falls_with_the_foreign_share() -> None:
    for mode in MODES:
        assert relevance(mode, 0.5, 0.3, foreign=0.4) < relevance(mode, 0.5, 0.3)
    # a document just above the floor on similarity and coverage drops below it
    assert relevance("hybrid", 0.5, 0.2) > RELEVANCE_FLOOR > relevance("hybrid", 0.5, 0.2, foreign=0.4)


def test_naming_a_system_the_knowledge_base_lacks_lowers_the_answer_relevance(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    named = kb.search(
        "memcached connections maxed out, clients timing out", kind="runbook", min_relevance=0.0
    )
    plain = kb.search("database connections maxed out, clients timing out", kind="runbook", min_relevance=0.0)
    assert named[0].source == plain[0].source == "runbooks/db-connections.md"
    assert named[0].relevance < plain[0].relevance
    assert kb.search("mongodb primary stepped down, replica set keeps re-electing") == []
