"""Adaptive Cards for long replies (status, timeline, postmortem) and for Errbot's `send_card`.

A reply of several lines reads better as a card: the first line is its title, runs of `Key: value` lines become a
fact table, Markdown headings become bold headings, tables stay monospaced. Every card carries the whole text as
`fallbackText`; a card too big for a Teams message is not made (the caller sends plain text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_MIN_LINES = 4
CARD_MIN_CHARS = 600
MAX_CARD_BYTES = 24_000  # Teams refuses messages over ~28 KB

FACT = re.compile(r"^([A-Z][\w ()/'-]{0,40}):\s+(\S.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
HEADING_SIZES = {1: "Large", 2: "Medium"}

Element = dict[str, Any]


def wants_card(text: str) -> bool:
    """Several lines, or a long paragraph: worth a card."""
    return text.count("\n") + 1 >= CARD_MIN_LINES or len(text) >= CARD_MIN_CHARS


def text_card(text: str) -> Element | None:
    """The card for a long reply, or None when it would be too big for one Teams message."""
    lines = text.strip("\n").splitlines()
    title, rest = (lines[0], lines[1:]) if len(lines) > 1 else (None, lines)
    body = ([_title(title)] if title else []) + list(_blocks(rest))
    return _sized(_card(body, text))


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
    elements.extend(_blocks(body.splitlines()))
    if fields:
        elements.append(_facts(fields))
    fallback = "\n".join(part for part in (title, summary, body, *(f"{k}: {v}" for k, v in fields)) if part)
    card = _card(elements, fallback)
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
    return _sized(card)


def _blocks(lines: Iterable[str]) -> Iterable[Element]:
    """Group lines into facts, tables and paragraphs; a blank line starts a new group."""
    facts: list[tuple[str, str]] = []
    table: list[str] = []
    spacing = "Small"
    for line in lines:
        fact = FACT.match(line)
        if fact and not table:
            facts.append((fact.group(1), fact.group(2)))
            continue
        if facts:
            yield _facts(facts)
            facts = []
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            yield _monospace(table)
            table = []
        if not line.strip():
            spacing = "Medium"
            continue
        yield _line(line, spacing)
        spacing = "None"
    if facts:
        yield _facts(facts)
    if table:
        yield _monospace(table)


def _line(line: str, spacing: str) -> Element:
    heading = HEADING.match(line)
    if heading:
        size = HEADING_SIZES.get(len(heading.group(1)), "Default")
        return {"type": "TextBlock", "text": heading.group(2), "weight": "Bolder", "size": size, "wrap": True}
    return {"type": "TextBlock", "text": line, "wrap": True, "spacing": spacing}


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
