"""`debrief ingest`: Markdown files -> redacted chunks in Chroma, incrementally.

Each file's content hash lives on its document-level record in Chroma itself, so the store is the only state:
unchanged files are skipped, changed files replaced, files deleted from an ingested folder removed. The
document-level record is written last, so a run killed half-way re-ingests the file next time.

A document is named by its folder and its path in it. The knowledge dir is named as such, not by where it lies, so
a moved or re-cloned install (or a second host on the same Chroma server) finds its documents unchanged; another
folder is named by its absolute path, and the copy of a file left under a folder that no longer exists is removed
when the same file is ingested from its new place: nothing is shown twice.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from tqdm import tqdm

from agent.errors import KnowledgeError
from agent.knowledge.catalog import CatalogDocument, Change, lexical_document
from agent.knowledge.chunks import (
    DOC_VECTOR,
    KINDS,
    Chunk,
    DocVector,
    build_chunks,
    content_hash,
    document_id,
    infer_kind,
)
from agent.knowledge.embedder import Embedder
from agent.knowledge.lexical import LexicalDocument
from agent.knowledge.vectors import store_errors, store_of

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

MARKDOWN_SUFFIXES = (".md", ".markdown")
MAX_FILE_BYTES = 2_000_000
WRITE_BATCH = 256
# Files embedded together: the embedder sorts their pieces by length, so a larger group pads less.
FILE_BATCH = 64
KNOWLEDGE_DIR = "knowledge dir"  # the store's name for the configured knowledge dir, wherever it lies


@dataclass(frozen=True)
class KnowledgeFile:
    path: Path
    root: str  # the folder it was ingested from, as the store names it (`place`)
    source: str  # path relative to that folder, POSIX style
    kind: str

    @property
    def doc_id(self) -> str:
        return document_id(self.root, self.source)


def place(folder: Path, knowledge_dir: Path | None) -> tuple[str, str]:
    """Where the store puts a folder's files: (KNOWLEDGE_DIR, the folder's path in it and "/") for the knowledge
    dir and what lies under it, else (its absolute path, "")."""
    resolved = folder.resolve()
    if knowledge_dir is not None and resolved.is_relative_to(base := knowledge_dir.resolve()):
        inside = resolved.relative_to(base).as_posix()
        return KNOWLEDGE_DIR, "" if inside == "." else f"{inside}/"
    return str(resolved), ""


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    skipped: list[SkippedFile] = field(default_factory=list)
    nothing_from: list[str] = field(default_factory=list)  # paths to forget that no stored document came from

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "chunks": self.chunks,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "nothing_from": self.nothing_from,
        }


def discover(
    paths: Sequence[Path], kind: str | None, knowledge_dir: Path | None = None
) -> tuple[list[KnowledgeFile], set[tuple[str, str]]]:
    """Files to ingest, and the folders whose deleted files should be removed: (store root, path prefix)."""
    if kind is not None and kind not in KINDS:
        raise KnowledgeError(f"unknown kind {kind!r}; use runbook or incident")
    files: list[KnowledgeFile] = []
    folders: set[tuple[str, str]] = set()
    for given in paths:
        if given.is_dir():
            root, prefix = place(given, knowledge_dir)
            folders.add((root, prefix))
            if root == KNOWLEDGE_DIR and not prefix:  # a Debrief before these names stored it by its path
                folders.add((str(given.resolve()), ""))
            for path in sorted(p for p in given.rglob("*") if _is_markdown(p, given)):
                files.append(
                    _file(path, root, prefix + path.relative_to(given).as_posix(), kind, knowledge_dir)
                )
        elif given.is_file():
            root, prefix = place(given.parent, knowledge_dir)
            files.append(_file(given, root, prefix + given.name, kind, knowledge_dir))
        else:
            raise KnowledgeError(f"no such file or folder: {given}")
    return files, folders


def _file(path: Path, root: str, source: str, kind: str | None, knowledge_dir: Path | None) -> KnowledgeFile:
    """A file to ingest; its kind from its path in its folder (the knowledge dir's, for what lies there)."""
    seen_as = (
        knowledge_dir / source if root == KNOWLEDGE_DIR and knowledge_dir is not None else Path(root, source)
    )
    return KnowledgeFile(path, root, source, kind or infer_kind(seen_as))


def _documents_from(path: Path, knowledge_dir: Path | None, known: dict[str, dict[str, Any]]) -> list[str]:
    """The stored documents whose file was at or under `path` when it was ingested."""
    target = path.resolve()
    base = knowledge_dir.resolve() if knowledge_dir is not None else None
    found: list[str] = []
    for doc_id, meta in known.items():
        root = str(meta.get("root", ""))
        folder = base if root == KNOWLEDGE_DIR else Path(root) if PurePath(root).is_absolute() else None
        if folder is not None and (folder / str(meta.get("source"))).is_relative_to(target):
            found.append(doc_id)
    return found


def _is_gone(root: str) -> bool:
    """Whether a folder the store names by its absolute path no longer exists here."""
    return PurePath(root).is_absolute() and not Path(root).is_dir()


def _is_markdown(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return not hidden and path.suffix.lower() in MARKDOWN_SUFFIXES and path.is_file()


def read_text(path: Path) -> str:
    """The file's text, or KnowledgeError saying why it cannot be ingested."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise KnowledgeError(f"too large ({len(data)} bytes, limit {MAX_FILE_BYTES})")
    if b"\x00" in data:
        raise KnowledgeError("binary file, not Markdown")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise KnowledgeError("empty file")
    return text


class Ingestor:
    """Brings one Chroma collection in line with a set of files; `change` says what it wrote and removed."""

    def __init__(
        self,
        collection: Collection,
        embedder: Embedder,
        redact: Callable[[str], str],
        doc_vector: DocVector = DOC_VECTOR,
    ) -> None:
        self._collection = collection
        self._embedder = embedder
        self._redact = redact
        self._doc_vector = doc_vector
        self.change = Change()

    def run(
        self,
        paths: Sequence[Path],
        kind: str | None = None,
        progress: bool = True,
        knowledge_dir: Path | None = None,
    ) -> IngestReport:
        """Ingest `paths`; `knowledge_dir` is the configured knowledge dir, named as such in the store. A store
        that cannot take the writes (read-only, a full disk, damaged) is a `KnowledgeError` naming it."""
        with store_errors(store_of(self._collection)):
            return self._run(paths, kind, progress, knowledge_dir)

    def _run(
        self, paths: Sequence[Path], kind: str | None, progress: bool, knowledge_dir: Path | None
    ) -> IngestReport:
        started = time.perf_counter()
        known = self._known_documents()
        for path in paths:
            if not path.exists():
                held = len(_documents_from(path, knowledge_dir, known))
                many = "documents" if held > 1 else "document"
                hint = f"; {held} {many} came from it: debrief ingest --forget {path}" if held else ""
                raise KnowledgeError(f"no such file or folder: {path}{hint}")
        files, folders = discover(paths, kind, knowledge_dir)
        report = IngestReport()
        changed: list[tuple[KnowledgeFile, str, str]] = []
        digests: dict[str, str] = {}  # doc id -> content hash, of the files read
        for file in files:
            try:
                text = read_text(file.path)
            except KnowledgeError as exc:
                report.skipped.append(SkippedFile(str(file.path), str(exc)))
                continue
            digest = digests[file.doc_id] = content_hash(text, file.kind)
            if known.get(file.doc_id, {}).get("hash") == digest:
                report.unchanged += 1
            else:
                changed.append((file, text, digest))
        written = self._write(changed, known, progress)
        report.chunks = sum(len(chunks) for chunks, _ in written)
        report.files = len(changed)
        removed = self._remove_deleted(files, folders, known) + self._remove_moved(files, digests, known)
        report.removed = len(removed)
        self.change = Change([_catalog_entry(chunks, digest) for chunks, digest in written], removed)
        report.seconds = time.perf_counter() - started
        return report

    def forget(self, paths: Sequence[Path], knowledge_dir: Path | None = None) -> IngestReport:
        """Remove what was ingested from `paths` (folders or files, present or gone); the number is `removed`.
        A file still in an ingested folder comes back when that folder is ingested again."""
        started = time.perf_counter()
        with store_errors(store_of(self._collection)):
            known = self._known_documents()
            found = {str(path): _documents_from(path, knowledge_dir, known) for path in paths}
            gone = sorted({doc_id for doc_ids in found.values() for doc_id in doc_ids})
            if gone:
                self._collection.delete(where=_any_document(gone))
        self.change = Change([], gone)
        nothing = [path for path, doc_ids in found.items() if not doc_ids]
        return IngestReport(removed=len(gone), seconds=time.perf_counter() - started, nothing_from=nothing)

    def _known_documents(self) -> dict[str, dict[str, Any]]:
        result = self._collection.get(where={"level": "doc"}, include=["metadatas"])
        metadatas = result["metadatas"] or []
        return {str(meta["doc_id"]): dict(meta) for meta in metadatas if meta}

    def _write(
        self, changed: list[tuple[KnowledgeFile, str, str]], known: dict[str, dict[str, Any]], progress: bool
    ) -> list[tuple[list[Chunk], str]]:
        """Each changed file's chunks (and content hash), written: its sections first, its document last."""
        if not changed:
            return []
        stale = [file.doc_id for file, _, _ in changed if file.doc_id in known]
        if stale:
            self._collection.delete(where=_any_document(stale))
        written: list[tuple[list[Chunk], str]] = []
        bar = tqdm(
            total=len(changed),
            desc="embedding",
            unit="file",
            file=sys.stderr,
            disable=not progress or None,
            leave=False,
        )
        with bar:
            for group in _batches(changed, FILE_BATCH):
                files = [
                    (
                        file,
                        digest,
                        build_chunks(
                            self._redact(text), doc_id=file.doc_id, source=file.source, kind=file.kind
                        ),
                    )
                    for file, text, digest in group
                ]
                self._upsert(files)
                written.extend((chunks, digest) for _, digest, chunks in files)
                bar.update(len(group))
        return written

    def _upsert(self, files: list[tuple[KnowledgeFile, str, list[Chunk]]]) -> None:
        chunks = [chunk for _, _, file_chunks in files for chunk in file_chunks]
        vectors = embed_chunks(self._embedder, chunks, self._doc_vector)
        metadatas = []
        for file, digest, file_chunks in files:
            for chunk in file_chunks:
                meta = _metadata(chunk)
                if chunk.level == "doc":
                    meta.update(hash=digest, root=file.root)
                metadatas.append(meta)
        order = sorted(range(len(chunks)), key=lambda i: chunks[i].level == "doc")  # documents last
        for batch in _batches(order, WRITE_BATCH):
            self._collection.upsert(
                ids=[chunks[i].id for i in batch],
                embeddings=[vectors[i] for i in batch],  # type: ignore[arg-type]
                documents=[chunks[i].text for i in batch],
                metadatas=[metadatas[i] for i in batch],
            )

    def _remove_deleted(
        self, files: list[KnowledgeFile], folders: set[tuple[str, str]], known: dict[str, dict[str, Any]]
    ) -> list[str]:
        present = {file.doc_id for file in files}
        gone = [
            doc_id
            for doc_id, meta in known.items()
            if doc_id not in present
            and any(
                meta.get("root") == root and str(meta.get("source")).startswith(prefix)
                for root, prefix in folders
            )
        ]
        if gone:
            self._collection.delete(where=_any_document(gone))
        return gone

    def _remove_moved(
        self, files: list[KnowledgeFile], digests: dict[str, str], known: dict[str, dict[str, Any]]
    ) -> list[str]:
        """Copies left under a folder that is gone, of files now ingested from elsewhere with the same text: the
        folder was moved. A copy whose text differs, or whose folder is still there, is kept."""
        here = {(file.source, digests[file.doc_id]) for file in files if file.doc_id in digests}
        ids = {file.doc_id for file in files}
        moved = [
            doc_id
            for doc_id, meta in known.items()
            if doc_id not in ids
            and (str(meta.get("source")), str(meta.get("hash"))) in here
            and _is_gone(str(meta.get("root", "")))
        ]
        if moved:
            self._collection.delete(where=_any_document(moved))
        return moved


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk], doc_vector: DocVector) -> list[list[float]]:
    """One vector per chunk, in order. With `doc_vector="mean"` a document's vector is the normalised mean of its
    sections' vectors (no model pass of its own); a document without sections is embedded from its text."""
    has_sections = {chunk.doc_id for chunk in chunks if chunk.level == "chunk"}
    embedded = [
        i
        for i, chunk in enumerate(chunks)
        if chunk.level == "chunk" or doc_vector == "text" or chunk.doc_id not in has_sections
    ]
    computed = embedder.embed_documents([chunks[i].embedding_text() for i in embedded])
    vectors: dict[int, list[float]] = dict(zip(embedded, computed, strict=True))
    by_document: dict[str, list[list[float]]] = {}
    for i, vector in vectors.items():
        if chunks[i].level == "chunk":
            by_document.setdefault(chunks[i].doc_id, []).append(vector)
    for i, chunk in enumerate(chunks):
        if i not in vectors:
            mean = np.mean(np.asarray(by_document[chunk.doc_id], dtype=np.float32), axis=0)
            vectors[i] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist()
    return [vectors[i] for i in range(len(chunks))]


def _catalog_entry(chunks: list[Chunk], digest: str) -> tuple[CatalogDocument, LexicalDocument]:
    document = chunks[0]
    entry = CatalogDocument(document.doc_id, document.source, document.kind, document.title, digest)
    sections = [(chunk.heading, chunk.text) for chunk in chunks if chunk.level == "chunk"]
    return entry, lexical_document(entry, sections)


def _metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "kind": chunk.kind,
        "title": chunk.title,
        "heading": chunk.heading,
        "level": chunk.level,
        "ordinal": chunk.ordinal,
    }


def _any_document(doc_ids: list[str]) -> Where:
    return cast("Where", {"doc_id": {"$in": doc_ids}})


def _batches(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
