"""The BM25 index: saved next to the vectors, updated by ingest, in step with other writers of the same store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.knowledge import KnowledgeBase, lexical, open_knowledge_base
from agent.knowledge.catalog import Catalog
from agent.knowledge.lexical import LexicalDocument, LexicalIndex
from agent.settings import load_settings
from tests.knowledge_fixtures import RUNBOOKS, kb, knowledge_dir, write_files

__all__ = ["kb", "knowledge_dir"]


def _open(tmp_path: Path, knowledge_dir: Path) -> KnowledgeBase:
    settings = load_settings(
        DEBRIEF_DATA_DIR=str(tmp_path / "data"), DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir)
    )
    return open_knowledge_base(settings)


def _sources(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.source for hit in kb.search(query, mode="bm25", limit=10)]


def test_the_index_is_saved_beside_the_vectors_and_a_new_process_loads_it_without_reading_back(
    tmp_path: Path, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open(tmp_path, knowledge_dir).ingest(progress=False)
    [saved] = (tmp_path / "data" / "lexical").glob("*.npz")

    def no_read_back(self: Catalog, state: str) -> None:
        raise AssertionError("the saved index matched the store: nothing should be read back")

    monkeypatch.setattr(Catalog, "_sync", no_read_back)
    again = _open(tmp_path, knowledge_dir)
    assert _sources(again, "crictl") == ["runbooks/disk-full.md"]
    assert saved.exists()


def test_a_damaged_index_file_is_rebuilt_from_the_store(tmp_path: Path, knowledge_dir: Path) -> None:
    _open(tmp_path, knowledge_dir).ingest(progress=False)
    [saved] = (tmp_path / "data" / "lexical").glob("*.npz")
    saved.write_bytes(b"not an index")

    assert _sources(_open(tmp_path, knowledge_dir), "crictl") == ["runbooks/disk-full.md"]


def test_another_writer_of_the_store_is_seen_at_the_next_search(tmp_path: Path, knowledge_dir: Path) -> None:
    writer, reader = _open(tmp_path / "a", knowledge_dir), None
    writer.ingest(progress=False)
    # the reader keeps its own index (its own data dir) over the same Chroma store
    reader = KnowledgeBase(
        writer._collection, writer._embedder, writer._redact, knowledge_dir, client=writer._client,
        index_path=tmp_path / "b" / "index.npz",
    )  # fmt: skip
    assert _sources(reader, "crictl") == ["runbooks/disk-full.md"]

    write_files(
        knowledge_dir, {"runbooks/redis.md": "# Redis evicting keys\n\nmaxmemory reached, raise it.\n"}
    )
    (knowledge_dir / "runbooks/disk-full.md").write_text("# Node disk almost full\n\nPrune with nerdctl.\n")
    (knowledge_dir / "runbooks/tls-expiry.md").unlink()
    writer.ingest(progress=False)

    assert _sources(reader, "maxmemory") == ["runbooks/redis.md"]
    assert _sources(reader, "crictl") == []
    assert _sources(reader, "nerdctl") == ["runbooks/disk-full.md"]
    assert "runbooks/tls-expiry.md" not in {doc.source for doc in reader.catalog().documents.values()}


def test_sections_are_read_from_the_store_when_asked(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    [document] = [doc for doc in kb.catalog().documents.values() if doc.source == "runbooks/tls-expiry.md"]
    assert [heading for _, heading, _ in document.sections] == ["Symptoms", "Mitigation"]
    assert "cert-manager" in document.sections[1][2]
    assert len(kb.catalog().documents) == len(RUNBOOKS)


def _doc(doc_id: str, body: str, kind: str = "runbook") -> LexicalDocument:
    return LexicalDocument(doc_id, kind, doc_id, "", body)


def test_an_updated_index_scores_as_one_built_from_scratch(tmp_path: Path) -> None:
    first = [
        _doc("a", "disk full on node"),
        _doc("b", "certificate expiring soon"),
        _doc("c", "disk latency"),
    ]
    incremental = LexicalIndex()
    incremental.update(first)
    incremental.update([_doc("b", "certificate renewed, disk fine"), _doc("d", "redis evicting keys")], ["c"])
    incremental.save(tmp_path / "index.npz", {})
    loaded, _ = LexicalIndex.load(tmp_path / "index.npz") or (LexicalIndex(), {})

    fresh = LexicalIndex()
    fresh.update([first[0], _doc("b", "certificate renewed, disk fine"), _doc("d", "redis evicting keys")])
    for index in (incremental, loaded):
        assert index.doc_ids == fresh.doc_ids
        for query in ("disk", "certificate disk", "redis keys", "latency"):
            assert np.allclose(index.scores(query), fresh.scores(query))
    assert fresh.scores("latency").max() == 0.0


def test_a_question_of_one_common_word_is_not_wholly_covered_by_the_documents_holding_it() -> None:
    index = LexicalIndex()
    index.update(
        [
            _doc(name, f"update the {name} config, then check" + (" etcd" if name == "a" else ""))
            for name in "abcdefgh"
        ]
    )

    common = index.coverage(index.weigh("any update?"), ["a"])["a"]
    rare = index.coverage(index.weigh("etcd"), ["a"])["a"]

    assert rare == 1.0  # "etcd" is in one document: a whole rare word's worth
    assert 0.0 < common < 0.2  # "update" is in all eight: little of a question


def test_the_kind_filter_zeroes_other_kinds() -> None:
    index = LexicalIndex()
    index.update([_doc("a", "disk full"), _doc("b", "disk full again", kind="incident")])
    assert index.scores("disk", kind="incident")[0] == 0.0
    assert index.scores("disk", kind="incident")[1] > 0.0


def test_an_index_built_with_another_vocabulary_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = LexicalIndex()
    index.update([_doc("a", "masters not ready")])
    index.save(tmp_path / "index.npz", {})
    assert LexicalIndex.load(tmp_path / "index.npz") is not None
    monkeypatch.setattr(lexical, "_FORMAT", "3:another-vocabulary")
    assert LexicalIndex.load(tmp_path / "index.npz") is None  # rebuilt from the store by its caller
