"""A long incident's timeline, compacted to a token budget for the LLM prompt.

Key events are kept in full (each bounded); messages are deduplicated (repeats of the same line, e.g. a bot or a
flapping alert, become one line with a count), redacted, truncated, and, when they still do not fit, sampled evenly
over the incident with the first and last kept; the chat lines the document's timeline tells (`story`, from
`agent.salience`) are kept before any sampling. Gaps are marked, so the model knows what it has not seen.
Tokens are estimated as characters / 4.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from agent.models import EventKind, TimelineEvent
from agent.postmortem.model import KeyEvent, event_ref

CHARS_PER_TOKEN = 4
KEY_EVENT_CHARS = 600
MESSAGE_CHARS = 240
KEY_EVENT_SHARE = 0.5  # at most this share of the budget goes to key events
GAP_MARKER_CHARS = len("[... 1234 messages not shown ...]\n")
_DIGITS = re.compile(r"\d+")


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class Line:
    at: datetime
    order: int  # event id: ties at one instant keep recording order
    text: str
    priority: bool = False  # kept before anything is sampled (status changes)


@dataclass(frozen=True)
class CompactTimeline:
    text: str
    key_events: int
    key_events_shown: int
    messages: int
    messages_shown: int
    duplicates: int

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def compact(
    key_events: list[KeyEvent],
    messages: list[TimelineEvent],
    budget_tokens: int,
    scrub: Callable[[str], str],
    story: frozenset[int] = frozenset(),
) -> CompactTimeline:
    """The timeline as prompt lines (`E12 10:03:10 bob: ...`), at most about `budget_tokens` tokens."""
    budget = max(0, budget_tokens) * CHARS_PER_TOKEN
    keys = _fit_evenly([_key_line(e) for e in key_events], int(budget * KEY_EVENT_SHARE))
    unique, duplicates = _dedupe(messages)
    room = budget - _size(keys)
    # Choose on raw lengths (cheap), then redact only the chosen messages. Each sampled message may bring a gap
    # marker; the final text is checked against the budget and thinned until it fits.
    raw = [_message_line(e, n, _same, e.id in story) for e, n in unique]
    sampled = _fit_evenly(raw, room) if _size(raw) <= room else _fit_evenly(raw, room, GAP_MARKER_CHARS)
    chosen = {line.order for line in sampled}
    shown = [_message_line(e, n, scrub) for e, n in unique if e.id in chosen]
    events = [e for e, _ in unique]
    text = _compose(keys, shown, events)
    while shown and len(text) > budget:
        shown = _even_sample(shown, len(shown) - max(1, len(shown) // 10))
        text = _compose(keys, shown, events)
    return CompactTimeline(text, len(key_events), len(keys), len(messages), len(shown), duplicates)


def _compose(keys: list[Line], shown: list[Line], events: list[TimelineEvent]) -> str:
    lines = sorted([*keys, *shown], key=lambda line: (line.at, line.order))
    return "\n".join(_with_gaps(lines, events, {line.order for line in shown}))


def _same(text: str) -> str:
    return text


def _key_line(event: KeyEvent) -> Line:
    text = _truncate(" ".join(event.text.split()), KEY_EVENT_CHARS)
    line = f"{event.ref} {event.at:%H:%M:%S} {event.author} [{event.kind.value}] {text}"
    return Line(event.at, event.id, line, priority=event.kind == EventKind.STATUS)


def _message_line(
    event: TimelineEvent, repeats: int, scrub: Callable[[str], str], priority: bool = False
) -> Line:
    # Redact before truncating: a secret cut in half no longer looks like one.
    text = _truncate(" ".join(scrub(event.text).split()), MESSAGE_CHARS)
    more = f" (said {repeats} times)" if repeats > 1 else ""
    line = f"{event_ref(event.id)} {event.at:%H:%M:%S} {event.author}: {text}{more}"
    return Line(event.at, event.id, line, priority=priority)


def _dedupe(messages: list[TimelineEvent]) -> tuple[list[tuple[TimelineEvent, int]], int]:
    """First occurrence of each message (same text up to case, spacing and numbers) with its count."""
    first: dict[str, TimelineEvent] = {}
    counts: dict[str, int] = {}
    for event in messages:
        norm = _DIGITS.sub("#", " ".join(event.text.lower().split()))
        first.setdefault(norm, event)
        counts[norm] = counts.get(norm, 0) + 1
    unique = [(event, counts[norm]) for norm, event in first.items()]
    return unique, len(messages) - len(unique)


def _fit_evenly(lines: list[Line], budget: int, overhead: int = 0) -> list[Line]:
    """All `lines` if they fit in `budget` characters, else the priority ones plus an even sample of the rest.

    `overhead` is what each sampled line may add (a gap marker before it).
    """
    if _size(lines) <= budget:
        return lines
    kept = [line for line in lines if line.priority]
    rest = [line for line in lines if not line.priority]
    room = budget - _size(kept)
    if room <= 0 or not rest:
        return _within(kept, budget)
    average = _size(rest) / len(rest) + overhead
    count = min(len(rest), max(1, int(room / average * 0.9)))
    return _within(sorted([*kept, *_even_sample(rest, count)], key=lambda line: line.order), budget)


def _even_sample(lines: list[Line], count: int) -> list[Line]:
    """`count` lines spread evenly, first and last included."""
    if count >= len(lines):
        return lines
    if count == 1:
        return lines[:1]
    step = (len(lines) - 1) / (count - 1)
    return [lines[round(i * step)] for i in range(count)]


def _within(lines: list[Line], budget: int) -> list[Line]:
    """Drop evenly from `lines` until they fit (a sample estimated from average lengths may run over)."""
    while lines and _size(lines) > budget:
        lines = _even_sample(lines, max(0, len(lines) - max(1, len(lines) // 10))) if len(lines) > 1 else []
    return lines


def _size(lines: list[Line]) -> int:
    return sum(len(line.text) + 1 for line in lines)


def _with_gaps(lines: list[Line], messages: list[TimelineEvent], picked: set[int]) -> list[str]:
    """The lines, with `[... N messages not shown ...]` where sampled-out (unique) messages were."""
    if len(picked) == len(messages):
        return [line.text for line in lines]
    position = {event.id: index for index, event in enumerate(messages)}
    out: list[str] = []
    previous = -1
    for line in lines:
        index = position.get(line.order)
        if index is not None and line.order in picked:
            skipped = index - previous - 1
            if skipped > 0:
                out.append(f"[... {skipped} messages not shown ...]")
            previous = index
        out.append(line.text)
    if len(messages) - previous - 1 > 0:
        out.append(f"[... {len(messages) - previous - 1} messages not shown ...]")
    return out


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
