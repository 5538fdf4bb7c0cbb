"""DEBRIEF_EMBEDDINGS=openai: the knowledge base embeds through langchain-openai over real HTTP."""

from __future__ import annotations

from pathlib import Path

from agent.knowledge import open_knowledge_base
from agent.knowledge.vectors import collection_name
from agent.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI
from tests.knowledge_fixtures import RUNBOOKS, knowledge_dir

__all__ = ["knowledge_dir"]


def test_openai_embeddings_are_used_for_ingest_and_search(tmp_path: Path, knowledge_dir: Path) -> None:
    with FakeOpenAI(api_key="sk-test") as llm:
        settings = load_settings(
            DEBRIEF_DATA_DIR=str(tmp_path / "data"),
            DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir),
            DEBRIEF_EMBEDDINGS="openai",
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm.url,
        )
        kb = open_knowledge_base(settings)
        report = kb.ingest(progress=False)
        assert report.files == len(RUNBOOKS)
        ingest_requests = len(llm.embedding_requests)
        assert ingest_requests >= 1
        assert llm.embedding_requests[0]["model"] == "text-embedding-3-small"

        hits = kb.search("crictl prune old container images", limit=1)
        assert hits[0].source == "runbooks/disk-full.md"
        assert len(llm.embedding_requests) == ingest_requests + 1  # the query
        # The relevance floor was fitted on MiniLM's similarities: here it rests on the question's words alone.
        assert kb.search("why is etcd slow") == []


def test_each_embedder_gets_its_own_collection() -> None:
    # switching embedders never mixes vectors of different spaces (and dimensions)
    assert collection_name("minilm-l6-v2") != collection_name("openai-text-embedding-3-small")
    assert collection_name("openai-text/embedding:3") == "debrief-openai-text-embedding-3"
