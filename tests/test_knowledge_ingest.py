"""Incremental ingest into a real Chroma store, with the real MiniLM embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import KnowledgeError
from agent.knowledge import KnowledgeBase
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
    assert (report.removed, report.unchanged) == (0, 0)
    # a single file is ingested relative to its own folder, as a separate document
    assert report.files == 1


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
