"""A reply's Markdown read once, as CommonMark, into blocks every platform renders its own way.

Debrief's replies are CommonMark (people's own text inside them is made literal by `agent.markup.literal`).
markdown-it reads them exactly as CommonMark says, where Python-Markdown (what Errbot's Text backend and
errbot-backend-slackv3 convert with) finds no fence inside a list item or right after a line of text and reads `*`
in `kube-*` as emphasis. Raw HTML is not markup in a chat reply: it stays text, as typed.

A line break in a reply is a line break: Debrief's replies are written line by line (a timeline, a status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark").enable("table")

Style = Literal["strong", "em", "code"]
Names = Callable[[str], str]  # rewrites a reply's text before a platform escapes it: people's ids as names
Kind = Literal["text", "heading", "code", "table", "rule"]


@dataclass(frozen=True)
class Span:
    """A run of inline text with one style; `url` when it is a link's text."""

    text: str
    styles: frozenset[Style] = frozenset()
    url: str = ""


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Block:
    """One block of a reply, flattened: lists and quotes become each block's `depth`, `marker` and `quote`.

    `marker` is `-` or `3.` on the first block of a list item; `gap` says a blank line preceded it in the source.
    """

    kind: Kind
    lines: tuple[Line, ...] = ()
    code: str = ""
    language: str = ""
    rows: tuple[tuple[Line, ...], ...] = ()
    level: int = 0
    depth: int = 0
    marker: str = ""
    quote: bool = False
    gap: bool = False


def plain(line: Line) -> str:
    """The text of a line without any formatting."""
    return "".join(span.text for span in line)


def parse(markdown: str, names: Names | None = None) -> list[Block]:
    """The reply's blocks, in order; `names` rewrites their text, code included (people's ids as their names:
    `agent.people`), before a platform escapes it."""
    blocks = list(_Reader(_MARKDOWN.parse(markdown)).blocks())
    return [_renamed(block, names) for block in blocks] if names else blocks


def _renamed(block: Block, names: Names) -> Block:
    def line(spans: Line) -> Line:
        return tuple(Span(names(span.text), span.styles, span.url) for span in spans)

    return replace(
        block,
        lines=tuple(line(spans) for spans in block.lines),
        code=names(block.code),
        rows=tuple(tuple(line(cell) for cell in row) for row in block.rows),
    )


@dataclass
class _Reader:
    tokens: Sequence[Token]
    lists: list[list[int]] = field(default_factory=list)  # per open list: [ordered (0/1), last number]
    quotes: int = 0
    marker: str = ""
    last_line: int = 0

    def blocks(self) -> Iterator[Block]:
        tokens = iter(self.tokens)
        for token in tokens:
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                if self.marker:  # an item that starts with a list: the item's marker on a line of its own
                    yield self._block(token, "text", lines=((),))
                start = int(token.attrs.get("start", 1) or 1) - 1
                self.lists.append([int(kind == "ordered_list_open"), start])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "list_item_open":
                self.lists[-1][1] += 1
                ordered, number = self.lists[-1]
                self.marker = f"{number}." if ordered else "-"
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind in ("paragraph_open", "heading_open"):
                inline = next(tokens)
                level = int(token.tag[1:]) if kind == "heading_open" else 0
                lines = _lines(inline.children or [])
                yield self._block(token, "heading" if level else "text", lines=lines, level=level)
            elif kind in ("fence", "code_block"):
                yield self._block(token, "code", code=token.content, language=token.info.split(" ")[0])
            elif kind == "html_block":
                lines = tuple((Span(text),) for text in token.content.rstrip("\n").split("\n"))
                yield self._block(token, "text", lines=lines)
            elif kind == "hr":
                yield self._block(token, "rule")
            elif kind == "table_open":
                yield self._block(token, "table", rows=tuple(_rows(tokens)))
            elif kind == "list_item_close" and self.marker:  # an empty item
                yield self._block(token, "text", lines=((),))

    def _block(
        self,
        token: Token,
        kind: Kind,
        *,
        lines: tuple[Line, ...] = (),
        code: str = "",
        language: str = "",
        rows: tuple[tuple[Line, ...], ...] = (),
        level: int = 0,
    ) -> Block:
        start, end = token.map or (self.last_line, self.last_line)
        gap = start > self.last_line
        self.last_line = max(self.last_line, end)
        marker, self.marker = self.marker, ""
        return Block(
            kind,
            lines=lines,
            code=code,
            language=language,
            rows=rows,
            level=level,
            depth=len(self.lists),
            marker=marker,
            quote=self.quotes > 0,
            gap=gap,
        )


def _rows(tokens: Iterator[Token]) -> Iterator[tuple[Line, ...]]:
    """The rows of a table, each a tuple of cells; consumes the table's tokens."""
    row: list[Line] = []
    for token in tokens:
        if token.type == "inline":
            cell = _lines(token.children or [])
            row.append(tuple(span for line in cell for span in line))
        elif token.type == "tr_close":
            yield tuple(row)
            row = []
        elif token.type == "table_close":
            return


def _lines(children: Sequence[Token]) -> tuple[Line, ...]:
    """Inline tokens as lines of spans: a soft or hard break ends a line."""
    lines: list[Line] = []
    current: list[Span] = []
    styles: set[Style] = set()
    url = ""
    for token in children:
        kind = token.type
        if kind in ("text", "text_special", "html_inline"):
            _add(current, Span(token.content, frozenset(styles), url))
        elif kind == "code_inline":
            _add(current, Span(token.content, frozenset({*styles, "code"}), url))
        elif kind in ("softbreak", "hardbreak"):
            lines.append(tuple(current))
            current = []
        elif kind in ("strong_open", "em_open"):
            styles.add("strong" if kind == "strong_open" else "em")
        elif kind in ("strong_close", "em_close"):
            styles.discard("strong" if kind == "strong_close" else "em")
        elif kind == "link_open":
            url = str(token.attrs.get("href", ""))
        elif kind == "link_close":
            url = ""
        elif kind == "image":
            source = str(token.attrs.get("src", ""))
            _add(current, Span(token.content or source, frozenset(styles), source))
    lines.append(tuple(current))
    return tuple(lines)


def _add(spans: list[Span], span: Span) -> None:
    """Append, merging with the previous span when it has the same style and link."""
    if spans and spans[-1].styles == span.styles and spans[-1].url == span.url and "code" not in span.styles:
        spans[-1] = Span(spans[-1].text + span.text, span.styles, span.url)
    elif span.text:
        spans.append(span)
