"""Replies as plain text for a terminal (the Text console) and for Teams' card fallback text.

Nothing is converted that a reader would miss: `code` keeps its backticks, a link shows its address, a code block
is indented four spaces (no fence, no language line), a heading is underlined. Every character of the reply's
text is printed as it is.
"""

from __future__ import annotations

from backends.rendering.blocks import Line, Names
from backends.rendering.layout import Layout
from backends.rendering.split import Piece, join, split

CODE_INDENT = "    "


class Console(Layout):
    def line(self, line: Line, start: bool) -> str:
        out: list[str] = []
        for span in line:
            text = f"`{span.text}`" if "code" in span.styles else span.text
            out.append(f"{text} ({span.url})" if span.url and span.url != span.text else text)
        return "".join(out)

    def heading(self, lines: tuple[Line, ...], level: int) -> str:
        text = " ".join(self.line(line, start=True) for line in lines)
        return f"{text}\n{('=' if level == 1 else '-') * len(text)}" if level <= 2 else text

    def code(self, code: str, language: str, indent: str) -> Piece:
        return Piece(
            "\n".join(f"{indent}{CODE_INDENT}{line}".rstrip() for line in code.rstrip("\n").split("\n"))
        )

    def table(self, text: str, indent: str) -> Piece:
        return Piece("\n".join(indent + line for line in text.split("\n")))


_CONSOLE = Console()


def render_console(markdown: str, limit: int) -> list[str]:
    """The reply as plain-text messages of at most `limit` characters."""
    return split(_CONSOLE.pieces(markdown), limit)


def plain_text(markdown: str, names: Names | None = None) -> str:
    """The whole reply as plain text."""
    return join(_CONSOLE.pieces(markdown, names))
