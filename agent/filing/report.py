"""What a filing run did, item by item and tracker by tracker, as data (JSON) and as one summary text.

The chat reply and the CLI's human output are the same summary, so both say the same thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from agent.models import ActionItem


class FilingOutcome(StrEnum):
    FILED = "filed"  # created now
    FOUND = "found"  # already in the tracker (a run died before recording it): recorded now
    ALREADY_FILED = "already_filed"  # recorded by an earlier run: nothing done
    PENDING = "pending"  # a retryable failure: kept, retried later
    CONFIRMING = "confirming"  # pending: an earlier create's answer was lost; only looked up until the time
    FAILED = "failed"  # a failure a retry cannot fix: kept, retried by the next manual run
    BUSY = "busy"  # another run holds it right now
    NEEDS_REVISION = "needs_revision"  # stopped by the quality gate: never filed
    UPDATED = "updated"  # a filed ticket now states its item as people changed it (closed, if it is closed)
    UPDATE_PENDING = "update_pending"  # its update failed for now: retried later
    UPDATE_FAILED = "update_failed"  # its update failed in a way a retry cannot fix: retried by a person


LABELS = {
    FilingOutcome.FILED: "filed",
    FilingOutcome.FOUND: "already existed",
    FilingOutcome.ALREADY_FILED: "already filed",
    FilingOutcome.PENDING: "pending",
    FilingOutcome.CONFIRMING: "waiting to confirm an earlier create",
    FilingOutcome.FAILED: "failed",
    FilingOutcome.BUSY: "being filed by another run",
    FilingOutcome.NEEDS_REVISION: "needs revision",
    FilingOutcome.UPDATED: "updated",
    FilingOutcome.UPDATE_PENDING: "update pending",
    FilingOutcome.UPDATE_FAILED: "update failed",
}


@dataclass(frozen=True)
class FilingResult:
    """One item's outcome on one tracker (`tracker` is None for a needs-revision item).

    `action_id` is the database id; `number` the item's number in its incident (`A2`).
    """

    action_id: int
    incident_id: str
    title: str
    outcome: FilingOutcome
    tracker: str | None = None
    ref: str | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None
    number: int | None = None

    @classmethod
    def of(
        cls,
        item: ActionItem,
        outcome: FilingOutcome,
        tracker: str | None = None,
        reason: str | None = None,
        next_attempt_at: datetime | None = None,
        *,
        ref: str | None = None,
    ) -> FilingResult:
        """`item`'s outcome: filing (`agent.filing.filer`) and updates (`agent.filing.updates`) alike."""
        return cls(
            action_id=item.id,
            incident_id=item.incident_id,
            title=item.title,
            outcome=outcome,
            tracker=tracker,
            ref=ref,
            reason=reason,
            next_attempt_at=next_attempt_at,
            number=item.number,
        )

    @property
    def item_ref(self) -> str:
        """`A2`, as people name the item in its incident."""
        return f"A{self.number if self.number is not None else self.action_id}"

    def as_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "number": self.number,
            "action_ref": f"{self.incident_id}/{self.item_ref}",
            "incident_id": self.incident_id,
            "title": self.title,
            "outcome": self.outcome.value,
            "tracker": self.tracker,
            "ref": self.ref,
            "reason": self.reason,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }

    def describe(self) -> str:
        """`jira:OPS-1 filed`, `github pending (HTTP 503 ...; next try after ...)`, ..."""
        label = LABELS[self.outcome]
        if self.outcome is FilingOutcome.NEEDS_REVISION:
            return f"{label}: {self.reason}"
        if self.outcome is FilingOutcome.CONFIRMING and self.next_attempt_at is not None:
            return waiting_note(self.tracker or "", self.next_attempt_at)
        text = f"{self.ref or self.tracker} {label}"
        notes = [self.reason] if self.reason else []
        if self.next_attempt_at is not None:
            notes.append(f"next try after {show_time(self.next_attempt_at)}")
        return f"{text} ({'; '.join(notes)})" if notes else text


@dataclass(frozen=True)
class FilingReport:
    trackers: tuple[str, ...]
    results: tuple[FilingResult, ...]

    def of(self, *outcomes: FilingOutcome) -> list[FilingResult]:
        return [result for result in self.results if result.outcome in outcomes]

    def counts(self) -> dict[str, int]:
        found = Counter(result.outcome for result in self.results)
        return {outcome.value: found[outcome] for outcome in FilingOutcome if found[outcome]}

    def as_json(self) -> dict[str, Any]:
        return {
            "trackers": list(self.trackers),
            "counts": self.counts(),
            "results": [result.as_json() for result in self.results],
        }

    def summary(self) -> str:
        """A headline with the counts, then one line per item with its outcome on each tracker."""
        if not self.results:
            return "No action items to file."
        found = Counter(result.outcome for result in self.results)
        counts = ", ".join(f"{found[o]} {LABELS[o]}" for o in FilingOutcome if found[o])
        lines = [f"Filing to {', '.join(self.trackers)}: {counts}."]
        lines += self.item_lines()
        return "\n".join(lines)

    def item_lines(self) -> list[str]:
        """One line per item: `A1 Add a canary stage: jira:OPS-1 filed, github:acme/ops#1 filed`."""
        lines: list[str] = []
        several = len({result.incident_id for result in self.results}) > 1
        by_item: dict[int, list[FilingResult]] = {}
        for result in self.results:
            by_item.setdefault(result.action_id, []).append(result)
        for results in by_item.values():
            first = results[0]
            where = f"{first.incident_id}/" if several else ""
            parts = ", ".join(result.describe() for result in results)
            lines.append(f"{where}{first.item_ref} {first.title}: {parts}")
        return lines


@dataclass(frozen=True)
class StatusResult:
    """One filed ticket's status as read back from its tracker (`error` when it could not be read)."""

    action_id: int
    ref: str
    status: str | None
    error: str | None = None
    changed: bool = False


def waiting_note(tracker: str, until: datetime) -> str:
    """`jira: waiting to confirm an earlier create (until 2024-03-01 10:42 UTC)`."""
    return f"{tracker}: {LABELS[FilingOutcome.CONFIRMING]} (until {show_time(until)})"


def show_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
