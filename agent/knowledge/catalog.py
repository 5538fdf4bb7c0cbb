"""What the knowledge base holds, in step with the vector store: each document's source, kind and title, and the
BM25 index over the documents, saved next to the vectors so that a new process does not rebuild it.

Chroma is the only source of truth. Every writer (any process) sets a new random change marker in the
collection's metadata after it writes; a reader compares that marker with the one its index was synced to
(one cheap read per search) and, when it moved, compares the store's document hashes with its own and reads
back only the documents that changed. A marker is read before the store it describes, so a write that lands
during a sync moves the marker again and is picked up by the next one.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from agent.knowledge.lexical import LexicalDocument, LexicalIndex

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

log = logging.getLogger(__name__)
STATE_KEY = "debrief_state"
READ_BATCH = 200  # documents read back per Chroma call during a sync
CACHED_DOCUMENTS = 64  # documents whose sections are kept in memory, most recently used


Section = tuple[str, str, str]  # (chunk id, heading, text)


class CatalogDocument:
    """One document: where it came from, and its sections (read from the store when asked)."""

    def __init__(
        self,
        doc_id: str,
        source: str,
        kind: str,
        title: str,
        digest: str = "",
        sections_of: Callable[[str], list[Section]] | None = None,
    ) -> None:
        self.doc_id = doc_id
        self.source = source
        self.kind = kind
        self.title = title
        self.digest = digest
        self._sections_of = sections_of

    @property
    def sections(self) -> list[Section]:
        return self._sections_of(self.doc_id) if self._sections_of else []

    def as_row(self) -> list[str]:
        return [self.doc_id, self.source, self.kind, self.title, self.digest]


@dataclass(frozen=True)
class Change:
    """One ingest's effect: documents written (with their lexical text) and document ids removed."""

    written: Sequence[tuple[CatalogDocument, LexicalDocument]] = ()
    removed: Sequence[str] = ()

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)


class Catalog:
    """Documents and their BM25 index; `refresh` brings both in line with the store."""

    def __init__(
        self, collection: Collection, client: ClientAPI | None = None, path: Path | None = None
    ) -> None:
        self.documents: dict[str, CatalogDocument] = {}
        self.index = LexicalIndex()
        self._collection = collection
        self._client = client
        self._path = path
        self._lock = threading.RLock()
        self._sections: OrderedDict[str, list[Section]] = OrderedDict()
        if path is not None:
            self._load(path)

    def refresh(self) -> None:
        """Sync with the store if another write happened since the last sync (one metadata read otherwise)."""
        with self._lock:
            state = self._read_state()
            if state and state == self.index.state:
                return
            if not state:  # a store no Debrief has marked yet (new, or written by an older version)
                state = self.mark_changed()
            self._sync(state)

    def apply(self, change: Change) -> None:
        """Record this process's own writes without reading them back; the store is marked changed."""
        with self._lock:
            for doc_id in change.removed:
                self.documents.pop(doc_id, None)
            for document, _ in change.written:
                self.documents[document.doc_id] = self._attach(document)
            self.index.update([lexical for _, lexical in change.written], change.removed)
            self._sections.clear()
            self.mark_changed()
            self.refresh()  # confirms against the store and picks up anyone else's writes

    def mark_changed(self) -> str:
        state = uuid.uuid4().hex
        self._collection.modify(metadata={STATE_KEY: state})
        return state

    def sections(self, doc_id: str) -> list[Section]:
        """The document's sections in order, from a small cache or the store."""
        with self._lock:
            cached = self._sections.get(doc_id)
            if cached is not None:
                self._sections.move_to_end(doc_id)
                return cached
        sections = self.read_sections([doc_id]).get(doc_id, [])
        with self._lock:
            self._sections[doc_id] = sections
            while len(self._sections) > CACHED_DOCUMENTS:
                self._sections.popitem(last=False)
        return sections

    def read_sections(self, doc_ids: Iterable[str]) -> dict[str, list[Section]]:
        """Sections of several documents in one read, each document's in order."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return {}
        result = self._collection.get(
            where=_all_of({"doc_id": {"$in": wanted}}, {"level": "chunk"}), include=["documents", "metadatas"]
        )
        rows = sorted(
            zip(result["ids"], result["documents"] or [], result["metadatas"] or [], strict=False),
            key=lambda row: (str(row[2]["doc_id"]), int(str(row[2]["ordinal"]))),
        )
        sections: dict[str, list[Section]] = {doc_id: [] for doc_id in wanted}
        for chunk_id, text, meta in rows:
            sections[str(meta["doc_id"])].append((chunk_id, str(meta["heading"]), text or ""))
        return sections

    def _read_state(self) -> str:
        if self._client is None:
            return str((self._collection.metadata or {}).get(STATE_KEY, ""))
        fresh = self._client.get_collection(self._collection.name)
        return str((fresh.metadata or {}).get(STATE_KEY, ""))

    def _sync(self, state: str) -> None:
        result = self._collection.get(where={"level": "doc"}, include=["metadatas"])
        stored = {str(meta["doc_id"]): meta for meta in result["metadatas"] or [] if meta}
        removed = [doc_id for doc_id in self.documents if doc_id not in stored]
        changed = [
            doc_id
            for doc_id, meta in stored.items()
            if doc_id not in self.documents or self.documents[doc_id].digest != meta.get("hash", "")
        ]
        written = []
        for start in range(0, len(changed), READ_BATCH):
            batch = changed[start : start + READ_BATCH]
            for doc_id, sections in self.read_sections(batch).items():
                document = _document(stored[doc_id])
                written.append((document, _lexical(document, sections)))
        if removed or written:
            log.info("knowledge index: %d documents read back, %d removed", len(written), len(removed))
        for doc_id in removed:
            self.documents.pop(doc_id, None)
        for document, _ in written:
            self.documents[document.doc_id] = self._attach(document)
        self.index.update([lexical for _, lexical in written], removed)
        self.index.state = state
        self._sections.clear()
        self._save()

    def _attach(self, document: CatalogDocument) -> CatalogDocument:
        return CatalogDocument(
            document.doc_id, document.source, document.kind, document.title, document.digest, self.sections
        )

    def _load(self, path: Path) -> None:
        loaded = LexicalIndex.load(path)
        if loaded is None:
            return
        index, extra = loaded
        rows = cast("list[list[str]]", extra.get("documents", []))
        documents = {
            row[0]: self._attach(CatalogDocument(row[0], row[1], row[2], row[3], row[4])) for row in rows
        }
        if set(documents) != set(index.doc_ids):
            return  # inconsistent file: start empty, the first refresh reads everything back
        self.documents, self.index = documents, index

    def _save(self) -> None:
        if self._path is None:
            return
        try:
            self.index.save(self._path, {"documents": [doc.as_row() for doc in self.documents.values()]})
        except OSError as exc:  # only a cache: the next process rebuilds it
            log.warning("cannot save the knowledge index to %s: %s", self._path, exc)


def lexical_document(document: CatalogDocument, sections: Sequence[tuple[str, str]]) -> LexicalDocument:
    """The BM25 view of a document from its (heading, text) sections."""
    return LexicalDocument(
        document.doc_id,
        document.kind,
        document.title,
        " ".join(heading for heading, _ in sections),
        "\n".join(text for _, text in sections),
        PurePosixPath(document.source).stem,
    )


def _lexical(document: CatalogDocument, sections: list[Section]) -> LexicalDocument:
    return lexical_document(document, [(heading, text) for _, heading, text in sections])


def _document(meta: Any) -> CatalogDocument:
    return CatalogDocument(
        str(meta["doc_id"]),
        str(meta["source"]),
        str(meta["kind"]),
        str(meta["title"]),
        str(meta.get("hash", "")),
    )


def _all_of(*conditions: dict[str, Any]) -> Where:
    return cast("Where", {"$and": list(conditions)})
