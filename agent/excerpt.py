"""The first steps of a runbook section, whole: a retrieval answer leads with them instead of a clipped excerpt.

A section is cut only between its top-level blocks (a list counts item by item), never inside a step, so a step's
code block always arrives with both fences. Wrapped lines of a paragraph are joined: chat clients wrap text
themselves, and a reply's line breaks are kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

_COMMONMARK = MarkdownIt("commonmark").enable("table")
_CONTINUATION = re.compile(r"[ \t]*(?:\\|  +)?$")  # a hard line break's marker at the end of a wrapped line


@dataclass(frozen=True)
class Excerpt:
    text: str
    shown: int  # steps (or blocks) shown
    left: int  # steps (or, in a section without steps, blocks) left out
    steps: bool  # the section is a list of steps


def has_steps(markdown: str) -> bool:
    """An ordered list or a code block: something to do, not background."""
    return any(
        token.type in ("ordered_list_open", "fence", "code_block") for token in _COMMONMARK.parse(markdown)
    )


def lead(markdown: str, max_chars: int, max_steps: int) -> Excerpt:
    """The section's first blocks (list items count one by one) within `max_chars` and `max_steps`; at least one."""
    lines = markdown.strip("\n").split("\n")
    tokens = _COMMONMARK.parse("\n".join(lines))
    units = _units(tokens)
    items = {
        token.map[0] for token in tokens if token.type == "list_item_open" and token.level == 1 and token.map
    }
    joined = _joined_paragraphs(tokens, lines)
    chosen: list[tuple[int, int]] = []
    size = 0
    for start, end in units:
        text_size = sum(len(joined.get(index, lines[index])) + 1 for index in range(start, end))
        if chosen and (size + text_size > max_chars or len(chosen) >= max_steps):
            break
        chosen.append((start, end))
        size += text_size
    last = chosen[-1][1] if chosen else len(lines)
    text = "\n".join(
        joined.get(index, lines[index]) for index in range(0, last) if index not in joined or joined[index]
    )
    steps = bool(items)
    left = len(items - {start for start, _ in chosen}) if steps else len(units) - len(chosen)
    return Excerpt(text.strip("\n"), len(chosen), left, steps)


def _units(tokens: list[Token]) -> list[tuple[int, int]]:
    """Line ranges of the top-level blocks, a top-level list's items one by one."""
    units: list[tuple[int, int]] = []
    for token in tokens:
        if token.map is None or token.nesting == -1:
            continue
        top = token.level == 0 and token.type not in ("bullet_list_open", "ordered_list_open")
        if top or (token.level == 1 and token.type == "list_item_open"):
            units.append((token.map[0], token.map[1]))
    return units


def _joined_paragraphs(tokens: list[Token], lines: list[str]) -> dict[int, str]:
    """Each wrapped paragraph (outside quotes and tables) on its first line; its other lines map to ""."""
    joined: dict[int, str] = {}
    quoted = 0
    for token in tokens:
        quoted += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
        if token.type != "paragraph_open" or quoted or token.map is None:
            continue
        start, end = token.map
        if end - start < 2:
            continue
        pieces = [_CONTINUATION.sub("", lines[start])] + [
            _CONTINUATION.sub("", line).strip() for line in lines[start + 1 : end]
        ]
        joined[start] = " ".join(piece for piece in pieces if piece)
        joined.update(dict.fromkeys(range(start + 1, end), ""))
    return joined
