"""Adaptive Cards for long replies (status, timeline, postmortem, answers) and for Errbot's `send_card`.

A reply of several lines reads better as a card: the first line is its title, runs of `Key: value` lines become a
fact table, Markdown headings become bold headings, code blocks Teams' CodeBlock, tables stay monospaced. Every
card carries the whole reply as plain text in `fallbackText`; a card too big for a Teams message is not made (the
caller sends text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from backends.rendering.blocks import Block, Names, parse, plain
from backends.rendering.console import plain_text
from backends.rendering.layout import Layout, columns
from backends.rendering.teams import card_line

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_MIN_LINES = 4
CARD_MIN_CHARS = 600
MAX_CARD_BYTES = 24_000  # Teams refuses messages over ~28 KB

FACT = re.compile(r"^([A-Z][\w ()/'-]{0,40}):\s+(\S.*)$")
HEADING_SIZES = {1: "Large", 2: "Medium"}
# Fence languages -> Teams' CodeBlock languages; anything else is shown as plain text.
CODE_LANGUAGES = {
    **dict.fromkeys(("bash", "sh", "shell", "console", "zsh"), "Bash"),
    **dict.fromkeys(("python", "py"), "Python"),
    **dict.fromkeys(("powershell", "ps1"), "PowerShell"),
    "json": "JSON",
    "sql": "SQL",
    "go": "Go",
    "xml": "XML",
}


class _CardLayout(Layout):
    bullet = "•"


_CARD_LAYOUT = _CardLayout()

Element = dict[str, Any]


def wants_card(text: str) -> bool:
    """Several lines, or a long paragraph: worth a card."""
    return text.count("\n") + 1 >= CARD_MIN_LINES or len(text) >= CARD_MIN_CHARS


def text_card(markdown: str, names: Names | None = None) -> Element | None:
    """The card for a long reply, or None when it would be too big for one Teams message.

    The first line of a reply of several lines is its title; the fallback text is the reply as plain text.
    `names` writes people's ids as their names (`agent.people`).
    """
    blocks = parse(markdown, names)
    body: list[Element] = []
    if blocks and blocks[0].kind in ("text", "heading") and not blocks[0].depth and not blocks[0].quote:
        first, *rest = blocks[0].lines
        if rest or len(blocks) > 1:
            body.append(_title(plain(first)))
            blocks[0] = replace(blocks[0], kind="text", lines=tuple(rest))
    body += _elements(blocks)
    return _sized(_card(body, plain_text(markdown, names)))


def errbot_card(
    *,
    body: str,
    title: str = "",
    summary: str | None = None,
    fields: Sequence[tuple[str, str]] = (),
    link: str | None = None,
    image: str | None = None,
) -> Element | None:
    """Errbot's `Card` (title, summary, Markdown body, key/value fields, link, image) as an Adaptive Card."""
    elements: list[Element] = []
    if title:
        elements.append(_title(title))
    if summary:
        elements.append({"type": "TextBlock", "text": summary, "wrap": True, "isSubtle": True})
    if image:
        elements.append({"type": "Image", "url": image, "size": "Stretch"})
    elements.extend(_elements(parse(body)))
    if fields:
        elements.append(_facts(fields))
    fallback = "\n".join(part for part in (title, summary, body, *(f"{k}: {v}" for k, v in fields)) if part)
    card = _card(elements, fallback)
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
    return _sized(card)


def _elements(blocks: Iterable[Block]) -> list[Element]:
    """The blocks as card elements: a blank line in the reply is space on the card, a rule a separator, and
    consecutive `Key: value` lines one FactSet."""
    elements: list[Element] = []
    separator = False
    for block in blocks:
        if block.kind == "rule":
            separator = True
            continue
        for index, element in enumerate(_block_elements(block)):
            if index == 0 and block.gap:
                element["spacing"] = "Medium"
            elif index:
                element["spacing"] = "None"
            if separator:
                element["separator"], separator = True, False
            last = elements[-1] if elements else None
            if last and last["type"] == element["type"] == "FactSet" and element.get("spacing") != "Medium":
                last["facts"] += element["facts"]
            else:
                elements.append(element)
    return elements


def _block_elements(block: Block) -> Iterator[Element]:
    """Each line of text a TextBlock (a TextBlock needs a blank line for a line break) or a fact; headings bold,
    code a CodeBlock, tables monospace."""
    if block.kind == "heading":
        text = " ".join(plain(line) for line in block.lines)
        size = HEADING_SIZES.get(block.level, "Default")
        yield {"type": "TextBlock", "text": text, "weight": "Bolder", "size": size, "wrap": True}
    elif block.kind == "code":
        yield _code(block.code, block.language)
    elif block.kind == "table":
        yield _monospace(columns(block.rows).split("\n"))
    else:
        lead, rest = _CARD_LAYOUT.prefixes(block)
        for index, line in enumerate(block.lines):
            fact = None if block.depth or block.quote else FACT.match(plain(line))
            if fact:
                yield _facts([(fact.group(1), fact.group(2))])
                continue
            prefix = (lead if index == 0 else rest).replace(" ", "\u2002")  # a leading space would be trimmed
            text = prefix + card_line(line, start=not block.marker)
            yield {
                "type": "TextBlock",
                "text": text,
                "wrap": True,
                **({"isSubtle": True} if block.quote else {}),
            }


def _code(code: str, language: str) -> Element:
    """Teams' CodeBlock element; clients without it show the monospace TextBlock."""
    snippet = code.rstrip("\n")
    return {
        "type": "CodeBlock",
        "codeSnippet": snippet,
        "language": CODE_LANGUAGES.get(language.lower(), "PlainText"),
        "fallback": {"type": "TextBlock", "text": snippet, "fontType": "Monospace", "wrap": True},
    }


def _title(text: str) -> Element:
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": True}


def _facts(facts: Sequence[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": key, "value": value} for key, value in facts]}


def _monospace(lines: Sequence[str]) -> Element:
    return {"type": "TextBlock", "text": "\n".join(lines), "fontType": "Monospace", "wrap": True}


def _card(body: list[Element], fallback: str) -> Element:
    return {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
    }


def _sized(card: Element) -> Element | None:
    return card if len(json.dumps(card).encode()) <= MAX_CARD_BYTES else None
