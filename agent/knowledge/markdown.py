"""Markdown runbooks and postmortems -> heading chunks that keep their file, title and heading path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

import yaml

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
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
    """Parse a Markdown file into titled heading sections (headings inside code fences are not headings)."""
    front, body = parse_front_matter(text)
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        content = "\n".join(lines).strip()
        if content:
            sections.append(Section(tuple(title for _, title in stack), content))
        lines.clear()

    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
            continue
        lines.append(line)
    flush()
    h1 = first_h1(body)
    return Document(_title(front, h1, path), h1, front, sections)


def first_h1(body: str) -> str | None:
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return match.group(2).strip()
    return None


def _title(front: dict[str, object], first_h1: str | None, path: PurePath) -> str:
    title = front.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    if first_h1:
        return first_h1
    return path.stem.replace("-", " ").replace("_", " ").strip() or path.name


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
