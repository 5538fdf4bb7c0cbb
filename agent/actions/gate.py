"""The action-item quality gate: only specific, owned, dated items are filed to a tracker.

An item that fails is kept (people fix it) but marked `needs_revision` with the exact reasons, and the filer skips
it: the filer files only `pending` items for which `check(item)` returns no problems. The gate runs when an item
is added or edited (`ActionService`, which also refuses a due date already past when it is typed) and again when
a postmortem is drafted or items are filed (`apply_gate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from agent.models import ActionItem, ActionStatus
from agent.store import Store

MIN_TITLE_WORDS = 3
MIN_TITLE_CHARS = 12
# A title opening with one of these is vague unless it is long or concrete (numbers, thresholds, names).
VAGUE_OPENERS = (
    "improve",
    "look into",
    "looking into",
    "investigate",
    "consider",
    "think about",
    "explore",
    "revisit",
    "discuss",
    "review",
    "check",
    "monitor",
    "follow up",
    "try to",
    "enhance",
    "better",
    "more",
    "fix",
    "make sure",
    "ensure",
)
# Phrases that are vague wherever they appear.
VAGUE_PHRASES = (
    "be more careful",
    "be careful",
    "pay more attention",
    "more attention",
    "try harder",
    "communicate better",
    "better communication",
    "more testing",
    "test more",
    "don't let this happen again",
    "doesn't happen again",
    "does not happen again",
    "never happens again",
    "from happening again",
    "in the future",
    "as needed",
    "if possible",
    "etc",
)
CONCRETE_OPENER_WORDS = 7  # "Investigate ..." with this many words or a number in it is specific enough
_CONCRETE = re.compile(r"\d|[<>=%]|`|\w[_./]\w")  # numbers, thresholds, code, file names


class Items(Protocol):
    """What the gate needs of `agent.actions.ActionService` (which itself uses `check`)."""

    def list(self, incident: str) -> list[ActionItem]: ...

    def set_status(self, action_id: int, status: ActionStatus, by: str) -> ActionItem: ...


@dataclass(frozen=True)
class GateResult:
    item: ActionItem
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


def check(item: ActionItem, today: date | None = None) -> list[str]:
    """What keeps `item` from being filed, one sentence each; empty when it passes.

    `today`, when given, also refuses a due date in the past.
    """
    problems = title_problems(item.title)
    if not item.owner:
        problems.append("no owner: add @owner")
    if item.due is None:
        problems.append("no due date: add due:YYYY-MM-DD")
    elif today is not None and item.due < today:
        problems.append(f"due date {item.due.isoformat()} is in the past")
    if item.success_criteria is not None:
        problems += [f"success criteria: {p}" for p in title_problems(item.success_criteria, "the text")]
    return problems


def title_problems(text: str, subject: str = "the title") -> list[str]:
    """Why `text` does not say what will change: too short or vague."""
    words = text.split()
    flat = " ".join(re.sub(r"[^\w'%<>=`.-]+", " ", text.lower()).split())
    phrase = next((p for p in VAGUE_PHRASES if re.search(rf"\b{re.escape(p)}\b", flat)), None)
    if phrase:
        return [f"{subject} is vague ({phrase!r}): name the concrete change and how we will know it is done"]
    opener = next((o for o in VAGUE_OPENERS if flat == o or flat.startswith(o + " ")), None)
    if opener and len(words) < CONCRETE_OPENER_WORDS and not _CONCRETE.search(text):
        return [
            f"{subject} is vague ({text.strip()!r}): name the concrete change "
            "(what, where, which threshold) and how we will know it is done"
        ]
    if len(words) < MIN_TITLE_WORDS or len(text.strip()) < MIN_TITLE_CHARS:
        return [
            f"{subject} is too short ({text.strip()!r}): say what will change, "
            f"in at least {MIN_TITLE_WORDS} words"
        ]
    return []


def apply_gate(
    actions: Items, store: Store, incident_id: str, by: str, today: date | None = None
) -> list[GateResult]:
    """Check every item of the incident; mark failing pending items needs_revision (and fixed ones pending).

    Items already filed, done or dropped are reported but never changed. Each change is audited with its reasons.
    """
    results: list[GateResult] = []
    for item in actions.list(incident_id):
        problems = check(item, today)
        target = _target_status(item.status, problems)
        if target is not None:
            item = actions.set_status(item.id, target, by)
            store.audit(by, "gate_action", incident_id, {"action": item.id, "problems": problems})
        results.append(GateResult(item, problems))
    return results


def _target_status(status: ActionStatus, problems: list[str]) -> ActionStatus | None:
    if problems and status == ActionStatus.PENDING:
        return ActionStatus.NEEDS_REVISION
    if not problems and status == ActionStatus.NEEDS_REVISION:
        return ActionStatus.PENDING
    return None
