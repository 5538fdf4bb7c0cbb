"""A secret shape (`Rule`): a pattern, what a match's kind is, and the cheap tests that make most texts fast.

Also the spans a rule finds and how they are spliced into placeholders, and the two helpers most rules are
built with: `token_rule` (a self-identifying vendor token) and `mentions` (a gate on words).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

KindOf = Callable[[re.Match[str]], str | None]
Gate = Callable[[str], bool]
Span = tuple[int, int, str]  # start, end, kind: text[start:end] becomes `[REDACTED:kind]`


@dataclass(frozen=True)
class Rule:
    """One secret shape: the `secret` group is replaced, the rest of the match is kept as it was.

    Speed: `re` skips ahead fast only when a pattern starts with a literal or a character set, so each pattern
    does, and boundary checks come after the first character or in `kind`. A shape whose start is far from its
    distinctive part (`DB_PASSWORD = x`, `bob@host`) gets an `anchor`: a pattern run over the reversed text,
    whose matches end where the shape starts. A shape whose pattern must start with a common letter or digit,
    or that only counts near some context, gets a `gate`: a cheap test that skips most texts at once.
    """

    pattern: re.Pattern[str]
    kind: str | KindOf  # a callable may return None: "not a secret after all"
    anchor: re.Pattern[str] | None = None
    gate: Gate | None = None
    full_stop: bool = True  # a final `.` ends the sentence, not the secret (not so for fixed-length hashes)

    def find(self, text: str) -> list[Span]:
        """The secrets in `text`, in order, not overlapping (most texts hold none: one C-level search)."""
        if self.gate is not None and not self.gate(text):
            return []
        if self.anchor is None:
            first = self.pattern.search(text)
            if first is None:
                return []
            return [
                span for match in self.pattern.finditer(text, first.start()) if (span := self._span(match))
            ]
        spans: list[Span] = []
        done, size = 0, len(text)
        for start in sorted({size - found.end() for found in self.anchor.finditer(text[::-1])}):
            match = self.pattern.match(text, start) if start >= done else None
            if match is not None:
                if span := self._span(match):
                    spans.append(span)
                done = match.end()
        return spans

    def apply(self, text: str) -> str:
        spans = self.find(text)
        return splice(text, spans) if spans else text

    def _span(self, match: re.Match[str]) -> Span | None:
        kind = self.kind if isinstance(self.kind, str) else self.kind(match)
        if kind is None:
            return None
        start, end = match.span("secret")
        if self.full_stop and end - start > 1 and match.string[end - 1] == ".":
            end -= 1  # a sentence's full stop, not part of the secret
        return start, end, kind


def splice(text: str, spans: list[Span]) -> str:
    """`text` with each span (sorted, not overlapping) replaced by its placeholder."""
    if not spans:
        return text
    pieces: list[str] = []
    done = 0
    for start, end, kind in spans:
        pieces += (text[done:start], f"[REDACTED:{kind}]")
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def token_rule(kind: str, body: str, gate: Gate | None = None) -> Rule:
    """A self-identifying token (the whole match is the secret) that does not start inside a longer word."""

    def kind_of(match: re.Match[str]) -> str | None:
        start = match.start()
        before = match.string[start - 1] if start else " "
        return None if before.isalnum() or before in "_-" else kind

    return Rule(re.compile(f"(?P<secret>{body})"), kind_of, gate=gate)


def mentions(*words: str) -> Gate:
    """A gate: the text holds one of `words` (lower case: in any case)."""

    def gate(text: str) -> bool:
        lowered = text.lower()
        return any(word in lowered for word in words)

    return gate
