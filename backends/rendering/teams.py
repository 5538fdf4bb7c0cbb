"""Replies as the Markdown Microsoft Teams renders in a message (`textFormat: markdown`) and in card text.

Teams reads a subset of Markdown (bold, italic, `code`, fenced code, quotes, links; lists on desktop only; no
headings, tables or rules in a message) and needs a blank line for a line break: a single newline is ignored
(https://learn.microsoft.com/microsoftteams/platform/resources/bot-v3/bots-text-formats). So every line is its
own paragraph, a heading is a bold line, a table is monospace, a code block is fenced without a language.
Text stays literal with as few escapes as will do (a client that shows an escape shows it rarely): a marker that
could pair (`*` also inside words, as CommonMark reads it) backslash-escaped, so is a backslash before
punctuation and a `](` that would make a link; in a message (Teams renders some HTML) a `<` that could open a tag
and an `&` that could start an entity are written as entities; a line that would start a list, heading or quote
is escaped.
"""

from __future__ import annotations

import re

from backends.rendering.blocks import Line, Names, Span
from backends.rendering.layout import Layout, fenced, wrap
from backends.rendering.markers import keep_literal
from backends.rendering.split import Piece, split

# A heading, quote, list item, rule, table row or `~~~` fence; a list number keeps its digits: `1\.`.
_LINE_START = re.compile(r"^(\s*)([#>+=|*-]|~(?=~~)|\d+(?=[.)]))")
_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])|\](?=\()")  # a backslash that would escape; `](` of a link
_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")  # a tag or comment; an entity
_ENTITIES = {"&": "&amp;", "<": "&lt;"}


class TeamsText(Layout):
    newline = "\n\n"

    def __init__(self, entities: bool) -> None:
        self.entities = entities

    def pieces(self, markdown: str, names: Names | None = None) -> list[Piece]:
        return [Piece(piece.text, self.blank, piece.fence) for piece in super().pieces(markdown, names)]

    def line(self, line: Line, start: bool) -> str:
        return "".join(self.span(span, start and index == 0) for index, span in enumerate(line))

    def span(self, span: Span, first: bool = False) -> str:
        """One span; `first` when its text starts a line, where it must not start a list, heading or quote."""
        if "code" in span.styles:
            out = f"`` {span.text} ``" if "`" in span.text else f"`{span.text}`"
        else:
            out = keep_literal(
                _ESCAPE.sub(lambda match: "\\" + match[0], span.text), _backslash, intraword="*"
            )
            if self.entities:
                out = _HTML.sub(lambda match: _ENTITIES[match[0]], out)
            if first and not span.styles and not span.url:
                out = _LINE_START.sub(_escape_line_start, out)
        if span.url:
            out = span.url if span.url == span.text else f"[{out}]({span.url})"
        if "em" in span.styles:
            out = wrap(out, "_")
        if "strong" in span.styles:
            out = wrap(out, "**")
        return out

    def heading(self, lines: tuple[Line, ...], level: int) -> str:
        unbold = [tuple(Span(s.text, s.styles - {"strong"}, s.url) for s in line) for line in lines]
        return wrap(" ".join(self.line(line, start=False) for line in unbold), "**")

    def code(self, code: str, language: str, indent: str) -> Piece:
        return fenced(code)

    def table(self, text: str, indent: str) -> Piece:
        return fenced(text)


_MESSAGE = TeamsText(entities=True)
_CARD = TeamsText(entities=False)


def render_teams_text(markdown: str, limit: int, names: Names | None = None) -> list[str]:
    """The reply as Teams message texts of at most `limit` characters."""
    return split(_MESSAGE.pieces(markdown, names), limit)


def card_line(line: Line, start: bool = True) -> str:
    """A line for an Adaptive Card's TextBlock (its own Markdown subset; card text is not HTML)."""
    return _CARD.line(line, start)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, start = match[1], match[2]
    return f"{indent}{start}\\" if start[0].isdigit() else f"{indent}\\{start}"


def _backslash(run: str, opens: bool, closes: bool) -> str:
    return "".join("\\" + char for char in run)
