"""The Chroma collection: searched with an HNSW breadth that returns the exact nearest pieces, old stores too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.knowledge.vectors import EF_SEARCH, collection_name, ef_search_of, open_client, open_collection
from agent.settings import load_settings
from tests.knowledge_fixtures import chroma_server

__all__ = ["chroma_server"]


def _settings(tmp_path: Path, server: tuple[str, int] | None) -> dict[str, str]:
    values = {"DEBRIEF_DATA_DIR": str(tmp_path / "data")}
    if server:
        values |= {"CHROMA_HOST": server[0], "CHROMA_PORT": str(server[1])}
    return values


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_a_collection_made_before_the_setting_is_brought_up_to_it(
    tmp_path: Path, where: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue("chroma_server") if where == "server" else None
    client = open_client(load_settings(**_settings(tmp_path, server)))
    old = client.create_collection(collection_name("old"), configuration={"hnsw": {"space": "cosine"}})
    assert ef_search_of(old) < EF_SEARCH  # Chroma's default

    for name in ("old", "new"):
        reopened = open_client(load_settings(**_settings(tmp_path, server)))
        assert ef_search_of(open_collection(reopened, name)) == EF_SEARCH
        assert ef_search_of(reopened.get_collection(collection_name(name))) == EF_SEARCH  # as stored


def test_the_nearest_pieces_are_the_exact_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection = open_collection(open_client(load_settings(**_settings(tmp_path, None))), "exact")
    ids = [f"p{i}" for i in range(len(vectors))]
    for start in range(0, len(ids), 1000):
        collection.add(ids=ids[start : start + 1000], embeddings=vectors[start : start + 1000].tolist())
    for query in vectors[:20]:
        found = collection.query(query_embeddings=[query.tolist()], n_results=120)["ids"][0]
        exact = [ids[i] for i in np.argsort(-(vectors @ query), kind="stable")[:120]]
        assert set(found) == set(exact)


def test_a_store_that_cannot_raise_it_still_opens_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chromadb.api.models.Collection import Collection

    client = open_client(load_settings(**_settings(tmp_path, None)))
    client.create_collection(collection_name("old"), configuration={"hnsw": {"space": "cosine"}})

    def refuse(self: Collection, **_: object) -> None:  # an older Chroma server, say
        raise ValueError("configuration cannot be modified")

    monkeypatch.setattr(Collection, "modify", refuse)
    collection = open_collection(client, "old")
    assert collection.name == collection_name("old") and ef_search_of(collection) < EF_SEARCH
    assert "cannot raise ef_search" in caplog.text and "configuration cannot be modified" in caplog.text
