"""Server mode: CHROMA_HOST points the knowledge base at a real `chroma run` server on loopback."""

from __future__ import annotations

from pathlib import Path

from agent.knowledge import open_knowledge_base
from agent.settings import load_settings
from tests.knowledge_fixtures import RUNBOOKS, chroma_server, knowledge_dir

__all__ = ["chroma_server", "knowledge_dir"]


def test_ingest_and_search_through_a_chroma_server(
    tmp_path: Path, knowledge_dir: Path, chroma_server: tuple[str, int]
) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=str(tmp_path / "data"),
        DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir),
        CHROMA_HOST=chroma_server[0],
        CHROMA_PORT=str(chroma_server[1]),
    )
    kb = open_knowledge_base(settings)
    assert kb.ingest(progress=False).files == len(RUNBOOKS)
    assert kb.search("node disk almost full", limit=1)[0].source == "runbooks/disk-full.md"
    # the state lives in the server, not in the local data dir
    assert not (tmp_path / "data" / "chroma").exists()
    again = open_knowledge_base(settings).ingest(progress=False)
    assert (again.files, again.unchanged) == (0, len(RUNBOOKS))
