"""`KnowledgeBase`: the one object the CLI, the assistant and the postmortem use to ingest and search."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import DebriefError
from agent.knowledge.catalog import Catalog
from agent.knowledge.chunks import DOC_VECTOR, DocVector
from agent.knowledge.embedder import Embedder, make_embedder
from agent.knowledge.ingest import Ingestor, IngestReport
from agent.knowledge.relevance import CALIBRATED_EMBEDDER, RELEVANCE_FLOOR
from agent.knowledge.search import Mode, search
from agent.knowledge.vectors import collection_name, open_client, open_collection
from agent.models import SearchHit
from agent.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)


class KnowledgeBase:
    """Runbooks and past incidents: incremental ingest and hybrid search over one Chroma collection.

    `index_path` is where the BM25 index is saved (None: rebuilt in memory by each process); `client` lets
    the catalog notice other processes' writes (without it, only this object's own)."""

    def __init__(
        self,
        collection: Collection,
        embedder: Embedder,
        redact: Callable[[str], str],
        default_dir: Path,
        *,
        client: ClientAPI | None = None,
        index_path: Path | None = None,
        doc_vector: DocVector = DOC_VECTOR,
    ) -> None:
        self._collection = collection
        self._embedder = embedder
        self._redact = redact
        self._default_dir = default_dir
        self._client = client
        self._index_path = index_path
        self._doc_vector = doc_vector
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._refreshed_at: float | None = None  # monotonic time of the knowledge dir's last ingest here
        # The assistant searches runbooks and incidents with the same words: embed each query once.
        self._embed_query = functools.lru_cache(maxsize=256)(embedder.embed_query)

    def ingest(
        self, paths: Sequence[Path] = (), kind: str | None = None, progress: bool = True
    ) -> IngestReport:
        report = self._write(
            lambda ingestor: ingestor.run(
                list(paths) or [self._default_dir], kind, progress, self._default_dir
            )
        )
        if not paths:
            self._refreshed_at = time.monotonic()
        return report

    def forget(self, paths: Sequence[Path]) -> IngestReport:
        """Remove the documents ingested from `paths` (folders or files, present or gone)."""
        return self._write(lambda ingestor: ingestor.forget(paths, self._default_dir))

    def _write(self, work: Callable[[Ingestor], IngestReport]) -> IngestReport:
        """Run `work` on the store, then bring the catalog in line with what it changed."""
        catalog = self.catalog()
        ingestor = Ingestor(self._collection, self._embedder, self._redact, self._doc_vector)
        report = work(ingestor)
        if ingestor.change:
            catalog.apply(ingestor.change)
        return report

    def refresh(self, max_age: float) -> IngestReport | None:
        """Ingest the knowledge dir again when this object last did more than `max_age` seconds ago, so a runbook
        edited while the bot runs is what the next answer reads. Unchanged files cost a hash each. A failure is
        logged and the stored knowledge kept: a question is never lost to it."""
        with self._refresh_lock:
            last = self._refreshed_at
            if last is not None and time.monotonic() - last < max_age:
                return None
            if not self._default_dir.is_dir():
                return None
            try:
                return self.ingest(progress=False)
            except Exception:
                log.exception("Refreshing the knowledge dir failed; answering from what is stored")
                self._refreshed_at = time.monotonic()  # not again at every question
                return None

    def search(
        self,
        query: str,
        kind: str | None = None,
        limit: int = 5,
        mode: Mode = "hybrid",
        min_relevance: float = RELEVANCE_FLOOR,
    ) -> list[SearchHit]:
        """Best documents first, only those whose relevance reaches `min_relevance` (the calibrated floor by
        default; 0 for every candidate); `kind` is runbook, incident or None for any."""
        return search(
            self._redact(query),
            collection=self._collection,
            embed_query=self._embed_query,
            catalog=self.catalog(),
            kind=kind,
            limit=limit,
            mode=mode,
            min_relevance=min_relevance,
            # Similarities are on another scale with another embedder: its relevance rests on the words alone.
            calibration=None if self._embedder.name.startswith(CALIBRATED_EMBEDDER) else "bm25",
        )

    def catalog(self) -> Catalog:
        """The documents and their BM25 index, in step with the store (other processes' writes included)."""
        with self._lock:
            if self._catalog is None:
                self._catalog = Catalog(self._collection, self._client, self._index_path)
            catalog = self._catalog
        catalog.refresh()
        return catalog

    def document_count(self, kind: str | None = None) -> int:
        """Number of documents (files) of that kind, or of any kind."""
        documents = self.catalog().documents.values()
        return sum(1 for doc in documents if kind is None or doc.kind == kind)

    def count(self) -> int:
        """Number of stored chunks (document-level pieces included)."""
        return self._collection.count()


def open_knowledge_base(settings: Settings, embedder: Embedder | None = None) -> KnowledgeBase:
    from agent.redact import Redactor

    embedder = embedder or make_embedder(settings)
    client = open_client(settings)
    collection = open_collection(client, embedder.name, settings.chroma_collection)
    index_path = (
        settings.data_dir / "lexical" / f"{collection_name(embedder.name, settings.chroma_collection)}.npz"
    )
    return KnowledgeBase(
        collection, embedder, Redactor(), settings.knowledge_dir, client=client, index_path=index_path
    )


def open_knowledge_or_none(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base, or None (logged) when it cannot be opened: drafts are still useful without it."""
    try:
        return open_knowledge_base(settings)
    except DebriefError as exc:
        log.warning("The knowledge base cannot be opened: %s", exc)
        return None
