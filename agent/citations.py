"""Citation tags: what the tools hand out, the only sources an answer may cite.

Every tool result line starts with a tag such as `[runbook:runbooks/db.md#Mitigation]`, `[incident:INC-7]` or
`[event:123]`, recorded in a `CitationRegistry`. An answer is checked against the registry: a tag that no tool
returned is an invented source, so it is removed from the text and never listed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

from pydantic import BaseModel

KINDS = ("runbook", "incident", "event")
# Any bracketed `kind:...` that looks like one of our tags, known or invented.
_TAG = re.compile(r"\[\s*(?P<kind>runbook|incident|event)\s*:\s*(?P<ref>[^\[\]\n]+?)\s*\]", re.IGNORECASE)
# A sources list the model wrote itself; ours replaces it.
_SOURCES_TAIL = re.compile(r"\n\s*(?:\*\*)?(?:sources|citations|references)(?:\*\*)?\s*:.*\Z", re.I | re.S)


class Citation(BaseModel):
    """A source an answer relies on: a knowledge file and heading, an incident id, or a timeline event."""

    source: str
    heading: str


def tag_of(kind: str, ref: str) -> str:
    """The tag text for a reference; brackets inside it would end the tag early, so they become parentheses."""
    clean = " ".join(ref.replace("[", "(").replace("]", ")").split())
    return f"[{kind}:{clean}]"


class CitationRegistry:
    """Tags handed out by the tools of one conversation, each with the citation it stands for."""

    def __init__(self, known: Mapping[str, Citation] | None = None) -> None:
        self._known: dict[str, Citation] = dict(known or {})
        self._lock = threading.Lock()

    def cite(self, kind: str, ref: str, citation: Citation) -> str:
        """Record a source a tool is about to return; the tag to print next to it."""
        tag = tag_of(kind, ref)
        with self._lock:
            self._known.setdefault(_key(tag), citation)
        return tag

    def get(self, tag: str) -> Citation | None:
        with self._lock:
            return self._known.get(_key(tag))

    def __len__(self) -> int:
        with self._lock:
            return len(self._known)

    def copy(self) -> CitationRegistry:
        with self._lock:
            return CitationRegistry(self._known)

    def merge(self, other: CitationRegistry) -> None:
        with other._lock:
            found = dict(other._known)
        with self._lock:
            for key, citation in found.items():
                self._known.setdefault(key, citation)

    def check(self, text: str) -> tuple[str, list[Citation], list[str]]:
        """`text` without invented tags, the citations it uses (in order, once each), the removed tags."""
        used: dict[str, Citation] = {}
        removed: list[str] = []

        def keep_or_drop(match: re.Match[str]) -> str:
            citation = self.get(match.group(0))
            if citation is None:
                removed.append(match.group(0))
                return ""
            used.setdefault(_key(match.group(0)), citation)
            return tag_of(match.group("kind").lower(), match.group("ref"))

        cleaned = _tidy(_TAG.sub(keep_or_drop, text))
        return cleaned, list(used.values()), removed


def strip_sources_tail(text: str) -> str:
    """Drop a trailing "Sources: ..." block the model wrote (its tags are still checked beforehand)."""
    return _SOURCES_TAIL.sub("", text).rstrip()


def _key(tag: str) -> str:
    match = _TAG.fullmatch(tag.strip())
    if match is None:
        return tag.strip()
    return tag_of(match.group("kind").lower(), match.group("ref")).lower()


def _tidy(text: str) -> str:
    """Spaces left behind by removed tags: no double spaces, no space before punctuation, no empty bullets."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+([.,;:!?)])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"(?m)^[ \t]*[-*][ \t]*$\n?", "", text)
    return re.sub(r"(?m)[ \t]+$", "", text).strip()
