"""The reader's view of a text: what a person reads, with invisible characters dropped, look-alike letters made
ASCII and tokens wrapped onto the next line joined again.

A secret hidden from the patterns (`gh<zero-width space>p_...`, `ghp_` with a Cyrillic `p`, a token a terminal
wrapped) is found in this view and mapped back to the span of the original text it came from, so it is
redacted there whole. Only texts with non-ASCII characters or line breaks inside tokens need it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from functools import lru_cache

from agent.redact.rule import Rule, Span, splice

# Letters drawn like ASCII ones (Cyrillic, Greek, dotless i) and dashes drawn like `-`. NFKC already folds
# full-width (`ghp_` typed as U+FF47 U+FF48 U+FF50 U+FF3F), mathematical and other compatibility forms.
_LOOK_ALIKES = {
    "a": "\u0430",  # Cyrillic small a
    "c": "\u0441",
    "d": "\u0501",
    "e": "\u0435",
    "h": "\u04bb",
    "i": "\u0456\u0131",  # Cyrillic small Byelorussian-Ukrainian i, Latin small dotless i
    "j": "\u0458",
    "l": "\u04cf",
    "o": "\u043e\u03bf",  # Cyrillic small o, Greek small omicron
    "p": "\u0440",
    "q": "\u051b",
    "s": "\u0455",
    "w": "\u051d",
    "x": "\u0445",
    "y": "\u0443",
    "A": "\u0410\u0391",  # Cyrillic capital A, Greek capital alpha
    "B": "\u0412\u0392",
    "C": "\u0421",
    "E": "\u0415\u0395",
    "H": "\u041d\u0397",
    "I": "\u0406\u0399",
    "J": "\u0408",
    "K": "\u041a\u039a",
    "M": "\u041c\u039c",
    "N": "\u039d",
    "O": "\u041e\u039f",
    "P": "\u0420\u03a1",
    "Q": "\u051a",
    "S": "\u0405",
    "T": "\u0422\u03a4",
    "W": "\u051c",
    "X": "\u0425\u03a7",
    "Y": "\u04ae\u03a5",
    "Z": "\u0396",
    "-": "\u2010\u2011\u2012\u2013\u2212",
}
_HOMOGLYPHS = str.maketrans({alike: plain for plain, alikes in _LOOK_ALIKES.items() for alike in alikes})


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """What a reader takes a non-ASCII character for: nothing for an invisible one (zero-width space, joiner,
    word joiner, BOM, soft hyphen, bidi controls: Unicode format characters; combining marks), else its NFKC
    form with look-alike letters made ASCII."""
    if unicodedata.category(char) in ("Cf", "Mn"):
        return ""
    return unicodedata.normalize("NFKC", char).translate(_HOMOGLYPHS)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BREAK = re.compile(r"\n(?=[A-Za-z0-9_+/-])")  # starts with a literal: found at memchr speed
_WRAPPABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/-")
# The next line's first run, not a `key:` or `KEY=value` (`=` only as base64 padding); the line's last run.
_CONTINUATION = re.compile(r"[A-Za-z0-9_+/.-]++(?:=++(?=[\s\"'`]|\Z))?(?![=:])")
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/.=-")


def _token_like(part: str) -> bool:
    """Digits, or mixed case past the first letter: a piece of a token, not a word."""
    return any(c.isdigit() for c in part) or (
        any(c.isupper() for c in part[1:]) and any(c.islower() for c in part)
    )


def _wraps_token(text: str, start: int, end: int) -> bool:
    """Does the line break `text[start:end]` sit inside a token, as when a chat client or a terminal wraps a
    long one? Both the line's last run and the next line's first run look like pieces of a token."""
    first, limit = start, max(0, start - 200)
    while first > limit and text[first - 1] in _TOKEN_CHARACTERS:
        first -= 1
    after = _CONTINUATION.match(text, end)
    return bool(after and _token_like(text[first:start]) and _token_like(after.group()))


Change = tuple[int, int, str]  # start, end, replacement: one step from the text to the reader's view of it


def _changes(text: str) -> tuple[list[Change], list[int]]:
    """What the reader's view changes, in order: each character to fold and each line break inside a token
    (removed); and where those line breaks are."""
    changes = []
    if not text.isascii():
        for char in _NON_ASCII.finditer(text):
            if (folded := _fold(char.group())) != char.group():
                changes.append((char.start(), char.end(), folded))
    joins = []
    for newline in _BREAK.finditer(text):
        start = newline.start() - (text[newline.start() - 1 : newline.start()] == "\r")
        if start and text[start - 1] in _WRAPPABLE and _wraps_token(text, start, newline.end()):
            joins.append(start)
            changes.append((start, newline.end(), ""))
    return sorted(changes), joins


def _view(text: str, changes: list[Change], start: int, end: int) -> tuple[str, list[int], list[int]]:
    """The reader's view of `text[start:end]`, and for each of its characters the span of `text` it came from
    (`starts[i]`, `ends[i]`)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = start
    for first, last, replacement in changes:
        pieces += (text[done:first], replacement)
        starts += [*range(done, first), *[first] * len(replacement)]
        ends += [*range(done + 1, first + 1), *[last] * len(replacement)]
        done = last
    pieces.append(text[done:end])
    starts += range(done, end)
    ends += range(done + 1, end + 1)
    return "".join(pieces), starts, ends


def _joined_lines(text: str, joins: list[int]) -> list[tuple[int, int]]:
    """The stretches of `text` that the removed line breaks join into one line each: from the start of the
    line before a break to the end of the line after it, overlapping stretches merged."""
    lines: list[tuple[int, int]] = []
    for join in joins:
        after = text.find("\n", join) + 1  # the next line's start
        start, end = text.rfind("\n", 0, join) + 1, text.find("\n", after)
        end = len(text) if end < 0 else end
        if lines and start < lines[-1][1]:
            start = lines.pop()[0]
        lines.append((start, end))
    return lines


def reader_secrets(rules: tuple[Rule, ...], text: str) -> list[Span]:
    """The secrets only the reader's view of `text` shows, as spans of `text`. Where characters were folded:
    all the view shows. In a text only re-joined: those across a removed line break, found in the joined
    lines alone, read as one text, one line each (the rest of the text reads the same either way)."""
    if text.isascii() and "\n" not in text:
        return []
    changes, joins = _changes(text)
    if len(changes) > len(joins):
        return _tracked(rules, *_view(text, changes, 0, len(text)))
    lines = _joined_lines(text, joins)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in lines:
        inside = changes[bisect_left(changes, (start,)) : bisect_left(changes, (end,))]
        line, line_starts, line_ends = _view(text, inside, start, end)
        pieces += (line, "\n")
        starts += [*line_starts, end]
        ends += [*line_ends, end + 1]
    line_starts = [start for start, _ in lines]
    found: list[Span] = []
    for span in _tracked(rules, "".join(pieces), starts, ends):
        line_end = lines[bisect_right(line_starts, span[0]) - 1][1]
        after = bisect_right(joins, span[0])
        if span[1] <= line_end and after < len(joins) and joins[after] < span[1]:
            found.append(span)  # within one joined line, across a removed break
    return found


def _tracked(rules: tuple[Rule, ...], text: str, starts: list[int], ends: list[int]) -> list[Span]:
    """Apply `rules` in turn as `Redactor` does, and return the secrets' spans in the original text, which
    `starts` and `ends` map `text` back to (each placeholder maps to the span it replaced)."""
    found: list[Span] = []
    for rule in rules:
        spans = rule.find(text)
        if not spans:
            continue
        new_starts: list[int] = []
        new_ends: list[int] = []
        done = 0
        for start, end, kind in spans:
            original = (starts[start], ends[end - 1], kind)
            size = len(f"[REDACTED:{kind}]")
            new_starts += [*starts[done:start], *[original[0]] * size]
            new_ends += [*ends[done:start], *[original[1]] * size]
            found.append(original)
            done = end
        text = splice(text, spans)
        starts, ends = new_starts + starts[done:], new_ends + ends[done:]
    return found


def merged(spans: list[Span]) -> list[Span]:
    """Sorted, overlapping spans joined; the outer (first, longest) one names the joined span."""
    merged: list[Span] = []
    for start, end, kind in sorted(spans, key=lambda span: (span[0], -span[1])):
        if merged and start < merged[-1][1]:
            first, last, first_kind = merged[-1]
            merged[-1] = (first, max(last, end), first_kind)
        else:
            merged.append((start, end, kind))
    return merged
