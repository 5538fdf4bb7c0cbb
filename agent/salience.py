"""Which chat lines tell an incident's story: the salience rule, with the reasons it gives for each line.

Key events (status changes, alerts, deploys, notes, pins) are the incident's skeleton; the chat holds the rest: the
numbers people read off dashboards, the errors they saw, what they suspected, what they decided and when things
recovered. The rule is deliberately plain so anyone can check it: a chat line is salient when it says at least one
of those five things, recognised by the words and numbers listed below, and `judge` names what matched. Small
talk ("on it", "thanks", "anyone around?") matches nothing and stays out.

`story` picks what a bounded retelling shows (catch-up, the postmortem's timeline): the key events, the salient
chat lines (each repeated line once), and action-item creations last, so a burst of `!action add` never pushes
the measurements and decisions out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.models import EventKind, TimelineEvent

MEASUREMENT = "measurement"
ERROR = "error"
HYPOTHESIS = "hypothesis"
DECISION = "decision"
RECOVERY = "recovery"

_UNITS = (
    r"%|ms|µs|us|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|k|x|rps|qps|rpm|tps|req/s|kb|mb|gb|tb|kib|mib|gib"
    r"|cores?|pods?|replicas?|nodes?|conns?|connections?|errors?|requests?|tickets?|users?|customers?|orders?"
)
# Each kind: the words (or numbers) that make a line say it. Case-insensitive, whole words.
RULE: dict[str, re.Pattern[str]] = {
    MEASUREMENT: re.compile(
        rf"(?<![\w.:/-])\d+(?:[.,]\d+)?\s?(?:{_UNITS})(?![\w/-])|\bp(?:50|75|90|95|99|999)\b"
        r"|\b(?:doubled|tripled|halved|spiked?|dropped to|went up|went down)\b",
        re.IGNORECASE,
    ),
    ERROR: re.compile(
        r"\b(?:errors?|exceptions?|time[ds] ?out|timeouts?|timing out|refused|fail(?:ed|ing|ures?|s)?|5xx|4xx"
        r"|50[0-4]s?|oom(?:killed)?|out of memory|crash\w*|panic\w*|unavailable|denied|too many|exhausted"
        r"|saturat\w*|deadlocks?|throttl\w*|unreachable|restarting|restarted|is down|went down|broken)\b",
        re.IGNORECASE,
    ),
    HYPOTHESIS: re.compile(
        r"\b(?:i think|we think|maybe|might be|might have|could be|suspect\w*|looks like|seems?|probably|likely"
        r"|hypothes\w*|theory|because|caused by|root cause|due to|wonder if|my guess|correlat\w*)\b",
        re.IGNORECASE,
    ),
    DECISION: re.compile(
        r"\b(?:decided|decision|agreed|plan is|next step|roll(?:ing)? ?back|rolled back|revert\w*|fail(?:ing)? over"
        r"|failover|scal(?:e|ing|ed) (?:up|down|out)|disabl\w*|enabl\w*|switch(?:ing|ed)? (?:to|over)|drain\w*"
        r"|rotat(?:e|ing|ed)|purg\w*|paus(?:e|ing|ed)|hotfix\w*|let'?s)\b",
        re.IGNORECASE,
    ),
    RECOVERY: re.compile(
        r"\bback to (?:normal\b|\d[\w.%]*)|\b(?:recovered|recovering|recovery|stabili[sz]ed|stable again|healthy again|green again"
        r"|is fixed|fixed now|went away|looks good now)\b",
        re.IGNORECASE,
    ),
}
# The order kinds rank in when a retelling has to choose between lines that say as much.
KINDS = (DECISION, MEASUREMENT, ERROR, HYPOTHESIS, RECOVERY)
# Action-item creations a bounded retelling shows (the latest); the rest are counted, and `!actions` lists them.
ACTION_LINES = 2


@dataclass(frozen=True)
class Judgement:
    """What a chat line says, as the rule sees it: `reasons` like `measurement: 12%`, `decision: rolling back`."""

    reasons: tuple[str, ...] = ()

    @property
    def salient(self) -> bool:
        return bool(self.reasons)

    @property
    def score(self) -> int:
        """How many different things the line says."""
        return len(self.reasons)


def judge(text: str) -> Judgement:
    """The salience rule on one chat line: every kind it says, each with the first words that showed it."""
    reasons = []
    for kind in KINDS:
        found = RULE[kind].search(text)
        if found:
            reasons.append(f"{kind}: {' '.join(found.group(0).split()).lower()}")
    return Judgement(tuple(reasons))


@dataclass(frozen=True)
class StoryLine:
    """One line of a retelling and why it is there (`key event (status)`, or the rule's reasons)."""

    event: TimelineEvent
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Story:
    """The chosen lines, oldest first, and what was left out (so a reader is told)."""

    lines: list[StoryLine]
    messages_left_out: int = 0  # salient chat lines that did not fit
    actions_left_out: int = 0  # action-item creations not shown
    key_events_left_out: int = 0
    considered: dict[str, int] = field(default_factory=dict)


def story(events: Sequence[TimelineEvent], limit: int | None = None, messages: int | None = None) -> Story:
    """The lines that tell the story of `events` (time-ordered): key events, salient chat lines, action items.

    `limit` bounds the whole retelling (catch-up): action creations get at most `ACTION_LINES` of it, salient
    chat lines at least half of the rest when there are that many, key events the remainder; each group keeps
    its latest lines. Without `limit` every key event and action creation is kept and `messages` bounds the chat
    lines (the postmortem), chosen by how much they say, then spread over the incident.
    """
    key = [e for e in events if e.key and e.kind != EventKind.ACTION]
    actions = [e for e in events if e.kind == EventKind.ACTION]
    salient = _salient([e for e in events if not e.key])
    if limit is None:
        chosen_messages = _most_telling(salient, len(salient) if messages is None else messages)
        chosen_key, chosen_actions = key, actions
    else:
        action_slots = min(len(actions), ACTION_LINES, max(0, limit // 5))
        rest = max(0, limit - action_slots)
        message_slots = min(len(salient), max(rest // 2, rest - len(key)))
        chosen_key = key[len(key) - min(len(key), rest - message_slots) :]
        chosen_messages = salient[len(salient) - message_slots :]
        chosen_actions = actions[len(actions) - action_slots :]
    lines = [StoryLine(e, (f"key event ({e.kind.value})",)) for e in [*chosen_key, *chosen_actions]]
    lines += [StoryLine(e, judgement.reasons) for e, judgement in chosen_messages]
    lines.sort(key=lambda line: (line.event.at, line.event.id))
    return Story(
        lines,
        messages_left_out=len(salient) - len(chosen_messages),
        actions_left_out=len(actions) - len(chosen_actions),
        key_events_left_out=len(key) - len(chosen_key),
        considered={"key": len(key), "salient": len(salient), "actions": len(actions)},
    )


def _salient(messages: list[TimelineEvent]) -> list[tuple[TimelineEvent, Judgement]]:
    """The salient chat lines, each distinct line once (its first time), time-ordered."""
    seen: set[str] = set()
    found = []
    for event in messages:
        norm = " ".join(event.text.lower().split())
        if norm in seen:
            continue
        seen.add(norm)
        judgement = judge(event.text)
        if judgement.salient:
            found.append((event, judgement))
    return found


def _most_telling(
    salient: list[tuple[TimelineEvent, Judgement]], count: int
) -> list[tuple[TimelineEvent, Judgement]]:
    """`count` lines: those that say the most first; within the last score that fits, spread over time."""
    if count >= len(salient):
        return salient
    chosen: list[tuple[TimelineEvent, Judgement]] = []
    for score in sorted({j.score for _, j in salient}, reverse=True):
        tier = [item for item in salient if item[1].score == score]
        room = count - len(chosen)
        if room <= 0:
            break
        chosen += tier if len(tier) <= room else _spread(tier, room)
    return sorted(chosen, key=lambda item: (item[0].at, item[0].id))


def _spread(
    items: list[tuple[TimelineEvent, Judgement]], count: int
) -> list[tuple[TimelineEvent, Judgement]]:
    if count == 1:
        return items[-1:]
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]
