"""A knowledge file -> the chunks stored for it: one document-level piece plus one per heading section."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from agent.knowledge.lexical import readable_name, spelled_out
from agent.knowledge.markdown import Document, parse_document, split_long

KINDS = ("runbook", "incident")
_INCIDENT_DIRS = {"incidents", "postmortems", "incident", "postmortem"}
# The document-level vector sees the start of the file; MiniLM reads ~256 word pieces anyway.
DOC_TEXT_CHARS = 1500
# A postmortem's lists of other documents (Debrief writes them): indexed, they would make it "similar" to every
# incident and runbook it names, itself included when it is published and found again.
_REFERENCE_SECTIONS = {"similar past incidents", "runbooks"}
# How a document-level vector is made: from the start of its text ("text", a model pass of its own) or as the
# mean of its sections' vectors ("mean", free). BENCHMARKS.md "Embed less" measured both.
DocVector = Literal["text", "mean"]
DOC_VECTOR: DocVector = "mean"
# Raised whenever what is embedded for a file changes (2: alert names spelled out), so that the next ingest embeds
# every file again instead of keeping vectors of the old kind.
PIECES_VERSION = 2


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    source: str
    kind: str
    title: str
    heading: str
    text: str
    level: str  # "doc" (whole-document piece) or "chunk" (one heading section)
    ordinal: int

    def embedding_text(self) -> str:
        """What the vector is computed from: the title and heading give a section its context."""
        title = spelled_out(readable_name(self.title))
        prefix = title if not self.heading else f"{title} - {self.heading}"
        return f"{prefix}\n{self.text}"


def infer_kind(path_as_given: PurePath) -> str:
    """`incidents/` or `postmortems/` anywhere in the path means a past incident, otherwise a runbook."""
    parts = {part.lower() for part in path_as_given.parts[:-1]}
    return "incident" if parts & _INCIDENT_DIRS else "runbook"


def document_id(root: str, source: str) -> str:
    """Stable per (ingest root, relative path): two roots may hold files with the same relative path. `root` is
    how the store names the folder (`agent.knowledge.ingest.place`)."""
    return hashlib.sha1(f"{root}\0{source}".encode()).hexdigest()[:20]


def content_hash(text: str, kind: str) -> str:
    """What decides whether a file is embedded again: its text, its kind and how pieces are made from them."""
    return hashlib.sha256(f"{PIECES_VERSION}\0{kind}\0{text}".encode()).hexdigest()


def build_chunks(text: str, *, doc_id: str, source: str, kind: str) -> list[Chunk]:
    document = parse_document(text, PurePath(source))
    headed = [(_heading(section.heading_path, document), section.text) for section in document.sections]
    if kind == "incident":
        headed = [(heading, text) for heading, text in headed if not _is_reference_list(heading)]
    sections = [(heading, piece) for heading, text in headed for piece in split_long(text)]
    body_text = (
        "\n\n".join(f"{heading}\n{piece}" if heading else piece for heading, piece in sections)
        or document.title
    )
    chunks = [
        Chunk(f"{doc_id}:doc", doc_id, source, kind, document.title, "", body_text[:DOC_TEXT_CHARS], "doc", 0)
    ]
    for ordinal, (heading, piece) in enumerate(sections, start=1):
        chunks.append(
            Chunk(
                f"{doc_id}:{ordinal}", doc_id, source, kind, document.title, heading, piece, "chunk", ordinal
            )
        )
    return chunks


def _heading(path: tuple[str, ...], document: Document) -> str:
    """Heading path below the document's name: ("KubePodCrashLooping", "Diagnosis") -> "Diagnosis"."""
    if path and path[0] in (document.title, document.h1):
        path = path[1:]
    return " > ".join(path)


def _is_reference_list(heading: str) -> bool:
    return heading.split(" > ", 1)[0].strip().lower() in _REFERENCE_SECTIONS
