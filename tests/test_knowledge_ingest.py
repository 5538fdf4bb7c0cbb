"""Incremental ingest into a real Chroma store, with the real MiniLM embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.errors import KnowledgeError
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.settings import load_settings
from tests.knowledge_fixtures import RUNBOOKS, kb, knowledge_dir, write_files

__all__ = ["kb", "knowledge_dir"]


def test_first_ingest_stores_every_file(kb: KnowledgeBase) -> None:
    report = kb.ingest(progress=False)
    assert (report.files, report.unchanged, report.removed, report.skipped) == (len(RUNBOOKS), 0, 0, [])
    # one document-level piece per file plus one chunk per section
    assert report.chunks == kb.count() == 4 + 2 + 2 + 2 + 1


def test_unchanged_files_are_skipped(kb: KnowledgeBase) -> None:
    kb.ingest(progress=False)
    again = kb.ingest(progress=False)
    assert (again.files, again.chunks, again.unchanged, again.removed) == (0, 0, len(RUNBOOKS), 0)


def test_changed_file_replaces_its_chunks(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    kb.ingest(progress=False)
    (knowledge_dir / "runbooks/disk-full.md").write_text("# Node disk almost full\n\nOnly one section now.\n")
    report = kb.ingest(progress=False)
    assert (report.files, report.unchanged) == (1, len(RUNBOOKS) - 1)
    hits = kb.search("disk almost full", kind="runbook", limit=1)
    assert hits[0].source == "runbooks/disk-full.md"
    assert "Only one section now" in hits[0].snippet
    [document] = [doc for doc in kb.catalog().documents.values() if doc.source == "runbooks/disk-full.md"]
    assert [heading for _, heading, _ in document.sections] == [""]


def test_added_file_is_ingested_and_found(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    kb.ingest(progress=False)
    write_files(
        knowledge_dir, {"runbooks/redis.md": "# Redis evicting keys\n\nmaxmemory reached, raise it.\n"}
    )
    report = kb.ingest(progress=False)
    assert (report.files, report.unchanged) == (1, len(RUNBOOKS))
    assert kb.search("redis is evicting keys", limit=1)[0].source == "runbooks/redis.md"


def test_deleted_file_is_removed_from_the_store(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    kb.ingest(progress=False)
    before = kb.count()
    (knowledge_dir / "runbooks/tls-expiry.md").unlink()
    report = kb.ingest(progress=False)
    assert report.removed == 1
    assert kb.count() == before - 3
    assert all(hit.source != "runbooks/tls-expiry.md" for hit in kb.search("certificate expires", limit=10))


def test_ingesting_one_file_does_not_remove_the_rest(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    kb.ingest(progress=False)
    report = kb.ingest([knowledge_dir / "runbooks" / "disk-full.md"], progress=False)
    # a file of the knowledge dir named on its own is that dir's document, not a second one
    assert (report.files, report.unchanged, report.removed) == (0, 1, 0)
    assert kb.document_count() == len(RUNBOOKS)


def test_a_folder_of_the_knowledge_dir_named_on_its_own_is_the_same_documents(
    kb: KnowledgeBase, knowledge_dir: Path
) -> None:
    kb.ingest(progress=False)
    report = kb.ingest([knowledge_dir / "runbooks"], progress=False)
    assert (report.files, report.unchanged, report.removed) == (0, 3, 0)  # the incident stays
    (knowledge_dir / "runbooks" / "tls-expiry.md").unlink()
    assert kb.ingest([knowledge_dir / "runbooks"], progress=False).removed == 1
    assert kb.document_count() == len(RUNBOOKS) - 1


def test_a_file_elsewhere_is_a_document_of_its_own_folder(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.ingest(progress=False)
    write_files(tmp_path / "ops", {"redis.md": "# Redis evicting keys\n\nmaxmemory reached, raise it.\n"})
    report = kb.ingest([tmp_path / "ops" / "redis.md"], progress=False)
    assert (report.files, report.removed) == (1, 0)
    assert kb.search("redis is evicting keys", limit=1)[0].source == "redis.md"
    assert kb.document_count() == len(RUNBOOKS) + 1


def test_kind_is_inferred_from_path_and_can_be_overridden(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    kb.ingest(progress=False)
    kinds = {doc.source: doc.kind for doc in kb.catalog().documents.values()}
    assert kinds["incidents/2024-01-10-db.md"] == "incident"
    assert kinds["runbooks/db-connections.md"] == "runbook"
    kb.ingest([knowledge_dir], kind="incident", progress=False)
    assert {doc.kind for doc in kb.catalog().documents.values()} == {"incident"}


def test_broken_files_are_reported_by_name_and_skipped(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    (knowledge_dir / "runbooks/binary.md").write_bytes(b"\x89PNG\x00\x00\x01")
    (knowledge_dir / "runbooks/latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (knowledge_dir / "runbooks/empty.md").write_text("  \n\n")
    report = kb.ingest(progress=False)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "binary.md": "binary file, not Markdown",
        "latin1.md": "not UTF-8 text (byte 5)",
        "empty.md": "empty file",
    }
    assert report.files == len(RUNBOOKS)


def test_missing_path_is_a_clear_error(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match=r"no such file or folder: .*nowhere"):
        kb.ingest([tmp_path / "nowhere"], progress=False)


def test_secrets_are_redacted_before_they_are_stored(kb: KnowledgeBase, knowledge_dir: Path) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    write_files(
        knowledge_dir, {"runbooks/deploy.md": f"# Deploy\n\nexport GITHUB_TOKEN={token}\nthen deploy\n"}
    )
    kb.ingest(progress=False)
    stored = " ".join(text for doc in kb.catalog().documents.values() for _, _, text in doc.sections)
    assert "then deploy" in stored
    assert token not in stored


def _sources(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.source for hit in kb.search(query, limit=20, min_relevance=0.0)]


def test_a_moved_install_finds_its_knowledge_unchanged(tmp_path: Path, knowledge_dir: Path) -> None:
    """A re-cloned or moved install (same data dir, knowledge dir elsewhere): nothing is embedded again and
    nothing is shown twice."""
    data = str(tmp_path / "data")
    first = open_knowledge_base(
        load_settings(DEBRIEF_DATA_DIR=data, DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir))
    )
    first.ingest(progress=False)
    (tmp_path / "elsewhere").mkdir()
    moved = knowledge_dir.rename(tmp_path / "elsewhere" / "knowledge")
    again = open_knowledge_base(load_settings(DEBRIEF_DATA_DIR=data, DEBRIEF_KNOWLEDGE_DIR=str(moved)))
    report = again.ingest(progress=False)
    assert (report.files, report.unchanged, report.removed) == (0, len(RUNBOOKS), 0)
    sources = _sources(again, "database connections run out")
    assert sorted(sources) == sorted(set(sources)) and "runbooks/db-connections.md" in sources


def test_an_older_store_of_the_knowledge_dir_is_renamed_once(tmp_path: Path, knowledge_dir: Path) -> None:
    """A store written before the knowledge dir had a name of its own (its documents named by the dir's
    absolute path): the first ingest replaces them, so nothing is left twice."""
    data = str(tmp_path / "data")
    older = open_knowledge_base(
        load_settings(DEBRIEF_DATA_DIR=data, DEBRIEF_KNOWLEDGE_DIR=str(tmp_path / "x"))
    )
    older.ingest([knowledge_dir], progress=False)  # named by its path, as before
    kb = open_knowledge_base(load_settings(DEBRIEF_DATA_DIR=data, DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir)))
    report = kb.ingest(progress=False)
    assert (report.files, report.removed) == (len(RUNBOOKS), len(RUNBOOKS))
    assert kb.document_count() == len(RUNBOOKS)


def test_a_folder_ingested_by_hand_and_moved_is_not_shown_twice(kb: KnowledgeBase, tmp_path: Path) -> None:
    write_files(tmp_path / "ops", RUNBOOKS)
    kb.ingest([tmp_path / "ops"], progress=False)
    (tmp_path / "ops").rename(tmp_path / "ops-moved")
    report = kb.ingest([tmp_path / "ops-moved"], progress=False)
    assert (report.files, report.removed) == (len(RUNBOOKS), len(RUNBOOKS))  # the copies left behind
    assert kb.document_count() == len(RUNBOOKS)
    sources = _sources(kb, "database connections run out")
    assert sorted(sources) == sorted(set(sources))


def test_a_copy_whose_folder_is_still_there_is_kept(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Only a folder that is gone loses its documents to their new place: another live folder's are its own."""
    write_files(tmp_path / "ops", RUNBOOKS)
    write_files(tmp_path / "ops-copy", RUNBOOKS)
    kb.ingest([tmp_path / "ops"], progress=False)
    report = kb.ingest([tmp_path / "ops-copy"], progress=False)
    assert report.removed == 0
    assert kb.document_count() == 2 * len(RUNBOOKS)


def test_a_folder_that_is_gone_is_named_in_the_error_and_can_be_forgotten(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    kb.ingest(progress=False)
    write_files(tmp_path / "ops", RUNBOOKS)
    kb.ingest([tmp_path / "ops"], progress=False)
    shutil.rmtree(tmp_path / "ops")
    with pytest.raises(KnowledgeError, match=r"4 documents came from it: debrief ingest --forget .*ops"):
        kb.ingest([tmp_path / "ops"], progress=False)
    assert kb.forget([tmp_path / "ops" / "runbooks" / "disk-full.md"]).removed == 1  # one file of it
    assert kb.forget([tmp_path / "ops"]).removed == 3  # the rest
    assert kb.document_count() == len(RUNBOOKS)  # the knowledge dir's own are untouched
    assert kb.forget([tmp_path / "ops"]).removed == 0


def test_forgetting_part_of_the_knowledge_dir_removes_only_that_part(
    kb: KnowledgeBase, knowledge_dir: Path
) -> None:
    kb.ingest(progress=False)
    assert kb.forget([knowledge_dir / "incidents"]).removed == 1
    assert kb.document_count() == len(RUNBOOKS) - 1
    assert not kb.search("orders database ran out of connections", kind="incident", min_relevance=0.0)
    assert kb.ingest(progress=False).files == 1  # still in the folder: back at the next ingest
