"""Evidence checks for narrative claims: a cited event must be on this incident's timeline, a cited source must be
one of the knowledge documents the prompt showed. Invalid citations are removed; a claim whose every citation was
invalid is discarded (it cited things that do not exist); a claim that cites nothing is kept, marked unverified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.postmortem.model import event_ref

_EVENT = re.compile(r"^\s*\[?(?:E|event\s*|#)?\s*(\d{1,12})\]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Citations:
    """Canonical evidence of verified citations, and whether the claim should be kept."""

    evidence: list[str]
    keep: bool

    @property
    def verified(self) -> bool:
        return bool(self.evidence)


class EvidenceIndex:
    """What a claim about one incident may cite."""

    def __init__(self, event_ids: Iterable[int], sources: Iterable[str]) -> None:
        self._events = frozenset(event_ids)
        self._sources = {source.strip().lower(): source for source in sources}

    def canonical(self, ref: str) -> str | None:
        """`E12` (also `e12`, `12`, `[E12]`) or an exact knowledge source, else None."""
        match = _EVENT.match(ref)
        if match:
            number = int(match.group(1))
            return event_ref(number) if number in self._events else None
        return self._sources.get(ref.strip().strip("`").lower())

    def check(self, cited: Iterable[str]) -> Citations:
        refs = [ref for ref in cited if ref.strip()]
        valid = list(dict.fromkeys(c for c in (self.canonical(ref) for ref in refs) if c is not None))
        return Citations(valid, keep=bool(valid) or not refs)
