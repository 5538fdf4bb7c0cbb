"""Markdown runbooks and postmortems -> heading chunks that keep their file, title and heading path."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import PurePath

import yaml
from markdown_it import MarkdownIt

_INCIDENT_ID = re.compile(r"INC-\d+")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# The line breaks markdown-it counts in `token.map` (it normalises \r\n and \r to \n); str.splitlines()
# would also split at \f, \v, \u2028 and shift the line numbers.
_LINE_BREAK = re.compile(r"\r\n?|\n")
# CommonMark block structure only: heading titles are the raw inline source (`token.content`), so the
# inline rule, half of the parsing time, is switched off. Cheap to build and stateless between parses.
_COMMONMARK = MarkdownIt("commonmark").disable("inline")
# Chunks longer than this are split at paragraph boundaries so one chunk stays one topic.
MAX_CHUNK_CHARS = 2000


@dataclass(frozen=True)
class Section:
    """A heading-delimited piece of one document."""

    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Document:
    title: str
    h1: str | None  # the first level-1 heading: the document's own name, not a section
    front_matter: dict[str, object]
    sections: list[Section]


@dataclass(frozen=True)
class _Heading:
    level: int
    title: str  # raw inline Markdown, whitespace collapsed; "" for an empty `#`
    first_line: int
    end_line: int  # exclusive; a setext heading spans its title line(s) and the underline


def parse_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split optional YAML front matter from the body; malformed front matter is kept as body text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def parse_document(text: str, path: PurePath) -> Document:
    """Parse a Markdown file into titled heading sections (CommonMark: headings inside code are not headings)."""
    front, body = parse_front_matter(text)
    lines = _LINE_BREAK.split(body)
    headings = _headings(body)
    sections: list[Section] = []
    stack: list[_Heading] = []

    def add_section(start: int, end: int) -> None:
        content = "\n".join(lines[start:end]).strip()
        if content:
            sections.append(Section(tuple(h.title for h in stack if h.title), content))

    start = 0
    for heading in headings:
        add_section(start, heading.first_line)
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        start = heading.end_line
    add_section(start, len(lines))
    h1 = _first_h1(headings)
    return Document(_title(front, h1, path), h1, front, sections)


def first_h1(body: str) -> str | None:
    """The title of the first non-empty top-level `# heading` (ATX or setext), if any."""
    return _first_h1(_headings(body))


def _headings(body: str) -> list[_Heading]:
    """Top-level headings only: `> # x` or `- # x` is a heading inside a quote or list item, which is
    content of the section around it, not a boundary between sections."""
    tokens = _COMMONMARK.parse(body)
    return [
        _Heading(int(token.tag[1]), " ".join(inline.content.split()), token.map[0], token.map[1])
        for token, inline in itertools.pairwise(tokens)
        if token.type == "heading_open" and token.level == 0 and token.map
    ]


def _first_h1(headings: list[_Heading]) -> str | None:
    return next((h.title for h in headings if h.level == 1 and h.title), None)


def _title(front: dict[str, object], first_h1: str | None, path: PurePath) -> str:
    """The front matter's title, else the first `# heading`, else the file name; a postmortem's own incident id
    (`id: INC-127`) leads it, so answers cite and list the incident by the id people know it by."""
    title = front.get("title")
    if isinstance(title, str) and title.strip():
        chosen = title.strip()
    else:
        chosen = first_h1 or path.stem.replace("-", " ").replace("_", " ").strip() or path.name
    incident = str(front.get("id", "")).strip().upper()
    if _INCIDENT_ID.fullmatch(incident) and not re.search(rf"\b{incident}\b", chosen, re.IGNORECASE):
        return f"{incident}: {chosen}"
    return chosen


def split_long(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split text at blank lines (then lines) into pieces of at most about `limit` characters."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for block in re.split(r"\n\s*\n", text):
        parts = [block] if len(block) <= limit else block.splitlines()
        for part in parts:
            if current and len(current) + len(part) + 2 > limit:
                pieces.append(current)
                current = ""
            current = f"{current}\n\n{part}" if current else part
    if current:
        pieces.append(current)
    return [piece[i : i + limit] for piece in pieces for i in range(0, len(piece), limit)]
