"""What every text platform shares: blocks laid out as lines, list markers and indentation, a table's columns.

A platform (`console`, `slack`, `teams`) subclasses `Layout` with how it writes a line's spans, a heading, a code
block and a rule; the result is `Piece`s that `split` cuts into messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from backends.rendering.blocks import Block, Line, Names, parse, plain
from backends.rendering.split import Piece

NEST = "   "  # a nested list item, or a paragraph inside an item, starts this much further in


class Layout:
    bullet = "-"
    quote = "> "
    blank = "\n\n"  # between blocks that a blank line separated in the source
    newline = "\n"  # between the lines of one block

    def pieces(self, markdown: str, names: Names | None = None) -> list[Piece]:
        """The reply laid out; `names` rewrites its text first (`parse`)."""
        pieces: list[Piece] = []
        for block in parse(markdown, names):
            gap = self.blank if block.gap else "\n"
            for piece in self.block(block):
                pieces.append(Piece(piece.text, gap, piece.fence))
                gap = "\n"
        return pieces

    def block(self, block: Block) -> Iterator[Piece]:
        lead, rest = self.prefixes(block)
        if block.marker and block.kind != "text":  # a list item that starts with a code block or a table
            yield Piece(lead.rstrip())
            lead = rest
        if block.kind == "text":
            lines = [self.line(line, start=not block.marker) for line in block.lines]
            lines = [lead + lines[0], *(rest + text for text in lines[1:])]
            yield Piece(self.newline.join(line.rstrip() for line in self.quoted(block, lines)))
        elif block.kind == "heading":
            yield Piece(self.heading(block.lines, block.level))
        elif block.kind == "code":
            yield self.code(block.code, block.language, rest)
        elif block.kind == "table":
            yield self.table(columns(block.rows), rest)
        else:
            yield Piece(self.rule())

    def prefixes(self, block: Block) -> tuple[str, str]:
        """What starts a block's first line (its list marker) and its other lines (the item's indentation)."""
        if not block.depth:
            return "", ""
        base = NEST * (block.depth - 1)
        if not block.marker:
            return base + NEST, base + NEST
        symbol = self.bullet if block.marker == "-" else block.marker
        return f"{base}{symbol} ", base + " " * (len(symbol) + 1)

    def quoted(self, block: Block, lines: list[str]) -> list[str]:
        return [self.quote + line for line in lines] if block.quote else lines

    # -- what a platform writes ------------------------------------------------------------------
    def line(self, line: Line, start: bool) -> str:
        """One line's spans; `start` when nothing of ours precedes it on the line (no list marker)."""
        raise NotImplementedError

    def heading(self, lines: tuple[Line, ...], level: int) -> str:
        raise NotImplementedError

    def code(self, code: str, language: str, indent: str) -> Piece:
        raise NotImplementedError

    def table(self, text: str, indent: str) -> Piece:
        raise NotImplementedError

    def rule(self) -> str:
        return "─" * 24


def columns(rows: Sequence[tuple[Line, ...]]) -> str:
    """A table as aligned monospace columns, a rule under its header row."""
    cells = [[plain(cell).strip() for cell in row] for row in rows]
    width = max((len(row) for row in cells), default=0)
    cells = [row + [""] * (width - len(row)) for row in cells]
    sizes = [max(len(row[index]) for row in cells) for index in range(width)]
    lines = [
        " | ".join(cell.ljust(size) for cell, size in zip(row, sizes, strict=True)).rstrip() for row in cells
    ]
    if len(lines) > 1:
        lines.insert(1, "-+-".join("-" * size for size in sizes))
    return "\n".join(lines)


def fenced(code: str, fence: str = "```") -> Piece:
    """A fenced code block (no language: a platform that shows no highlighting shows the word as a stray line)."""
    while fence in code:
        fence += "`"
    return Piece(f"{fence}\n{code.rstrip(chr(10))}\n{fence}", fence=(fence, fence))


def wrap(text: str, marker: str) -> str:
    """`*text*` with the spaces outside the markers: `* text *` is not formatting (CommonMark, Slack)."""
    stripped = text.strip()
    if not stripped:
        return text
    left = text[: len(text) - len(text.lstrip())]
    right = text[len(text.rstrip()) :]
    return f"{left}{marker}{stripped}{marker}{right}"
