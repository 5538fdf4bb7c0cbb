"""The Chroma side: an embedded `PersistentClient` by default, `HttpClient` when CHROMA_HOST is set."""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING

from agent.errors import KnowledgeError
from agent.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection


# chromadb shares one "system" per store path between the clients of a process, and making or releasing one from
# two threads at once breaks it ("'RustBindingsAPI' object has no attribute 'bindings'"): the bot opens the store
# from its warm-up, the assistant and the postmortem threads.
_OPENING = threading.Lock()
log = logging.getLogger(__name__)
# How many candidates HNSW weighs per query. Chroma's default, 100, is below the 120 nearest pieces a search asks
# for (`search.DENSE_CANDIDATES` x 2): the answer was then approximate and differed from one process to the next
# (3 different sets in 5 runs of one query). At 500 it equals exact search on the benchmark corpus, every run.
EF_SEARCH = 500


def open_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        with _OPENING:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except (OSError, ValueError) as exc:
        where = (
            f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.data_dir
        )
        raise KnowledgeError(f"cannot open the Chroma store at {where}: {exc}") from exc


def collection_name(embedder_name: str, prefix: str = "debrief") -> str:
    """One collection per vector space, so switching embedders never mixes dimensions."""
    return f"{prefix}-" + re.sub(r"[^a-zA-Z0-9._-]", "-", embedder_name).strip("-.")


def open_collection(client: ClientAPI, embedder_name: str, prefix: str = "debrief") -> Collection:
    """The embedder's collection, made or brought up to EF_SEARCH."""
    try:
        collection = client.get_or_create_collection(
            collection_name(embedder_name, prefix),
            configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
            embedding_function=None,
        )
    except Exception as exc:  # chromadb's errors (server down, bad name) share no useful base class
        raise KnowledgeError(f"cannot open the Chroma collection: {exc}") from exc
    if ef_search_of(collection) < EF_SEARCH:  # a collection made before the setting
        try:
            collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        except Exception as exc:  # a server that cannot change it still serves, approximately
            log.warning("cannot raise ef_search of %s to %d: %s", collection.name, EF_SEARCH, exc)
    return collection


def ef_search_of(collection: Collection) -> int:
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    return int(hnsw.get("ef_search") or 0)
