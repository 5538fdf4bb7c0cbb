"""A rendered reply cut into messages no longer than a platform's limit, only between blocks or lines.

Errbot cuts a long body every N characters, wherever that falls: inside a word, a `<url|link>`, or a code block,
whose fence then opens in one message and closes in the next. Here a cut falls between two blocks; a block longer
than a message is cut between its lines, and a code block cut in two is closed and opened again around the cut.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    """One rendered block; `gap` joins it to the one before; `fence` is a code block's first and last line."""

    text: str
    gap: str = "\n"
    fence: tuple[str, str] | None = None


def join(pieces: Sequence[Piece]) -> str:
    """The whole reply as one text."""
    return "".join((piece.gap if index else "") + piece.text for index, piece in enumerate(pieces))


def split(pieces: Sequence[Piece], limit: int) -> list[str]:
    """Messages of at most `limit` characters, as few as the cuts between blocks allow."""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}{piece.gap}{piece.text}" if current else piece.text
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            parts.append(current)
        *whole, current = _cut(piece, limit) if len(piece.text) > limit else [piece.text]
        parts += whole
    if current or not parts:
        parts.append(current)
    return parts


def _cut(piece: Piece, limit: int) -> list[str]:
    """A block longer than a message, cut between lines; a code block keeps its fence in every part."""
    lines = piece.text.split("\n")
    if piece.fence is None:
        return list(_pack(lines, limit))
    opening, closing = piece.fence
    room = max(1, limit - len(opening) - len(closing) - 2)
    return [f"{opening}\n{chunk}\n{closing}" for chunk in _pack(lines[1:-1], room)]


def _pack(lines: list[str], limit: int) -> Iterator[str]:
    current: list[str] = []
    size = 0
    for line in (piece for whole in lines for piece in _hard_cut(whole, limit)):
        if current and size + 1 + len(line) > limit:
            yield "\n".join(current)
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        yield "\n".join(current)


def _hard_cut(line: str, limit: int) -> Iterator[str]:
    """A single line longer than a message (rare: a pasted log line), cut at spaces where it can be."""
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        yield line[:cut]
        line = line[cut:].lstrip(" ")
    yield line
