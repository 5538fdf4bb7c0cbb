"""The Postmortem (DESIGN.md §2): what `debrief postmortem --format json` prints and the store keeps.

Narrative claims carry their evidence: timeline event ids written `E12`, or knowledge sources
(`runbooks/payments-psp-timeouts.md`). Evidence is checked against the incident before it gets here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from agent.models import ActionItem, ActionKind, EventKind, IncidentStatus, PostmortemStatus, Severity

NarrativeSource = Literal["llm", "template"]


def event_ref(event_id: int) -> str:
    """How a timeline event is cited as evidence: `E12`."""
    return f"E{event_id}"


class KeyEvent(BaseModel):
    """One line of the postmortem's timeline: a key event, or a chat line the salience rule chose."""

    id: int
    ref: str
    at: datetime
    author: str
    kind: EventKind
    text: str
    # Why it is there: `key event (note)`, or the salience rule's reasons (`decision: rolling back`).
    reasons: list[str] = Field(default_factory=list)


class Finding(BaseModel):
    """A narrative claim with its evidence; `verified` is False when it cites nothing we could check.

    `by` names who wrote it in the review (`!postmortem add|edit`, an imported file); None when Debrief drafted it.
    """

    text: str
    evidence: list[str] = Field(default_factory=list)
    verified: bool = True
    by: str | None = None


class CauseCandidate(BaseModel):
    """A root-cause candidate (DESIGN.md §2: cause, evidence, confidence)."""

    cause: str
    evidence: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)  # 1.0 for the cause people wrote in the review
    verified: bool = True
    by: str | None = None  # who wrote it in the review; None when Debrief drafted it


class SuggestedAction(BaseModel):
    """An action item the narrative proposes; people add the ones they want with `!action add`."""

    title: str
    kind: ActionKind = ActionKind.PREVENT
    evidence: list[str] = Field(default_factory=list)
    verified: bool = True


class ReviewedAction(ActionItem):
    """A recorded action item with what the quality gate says is missing (empty: ready to file)."""

    problems: list[str] = Field(default_factory=list)


class Reference(BaseModel):
    """A similar past incident or a runbook found in the knowledge base."""

    source: str
    kind: str
    title: str
    heading: str = ""
    score: float = 0.0
    snippet: str = ""
    mentioned: bool = False  # named in the incident's own timeline, i.e. actually used
    # A similar past incident of this Debrief with action items still open (`agent.past_incidents`).
    repeat_warning: str | None = None


class Generation(BaseModel):
    """How the narrative was produced, so readers and benchmarks know what they are looking at."""

    narrative: NarrativeSource
    llm_calls: int = 0
    prompt_tokens: int = 0  # estimated as characters / 4
    note: str | None = None  # why the template was used when an LLM was configured


class ReviewedSection(BaseModel):
    """A section people wrote or changed in the review: a new draft keeps it as they left it."""

    section: str  # summary, impact, root-cause, factors, well, poorly, lessons, detection
    by: str
    at: datetime
    revision: int


class Narrative(BaseModel):
    """The narrative sections, from the LLM (evidence checked) or from the template."""

    summary: Finding
    root_causes: list[CauseCandidate] = Field(default_factory=list)
    contributing_factors: list[Finding] = Field(default_factory=list)
    went_well: list[Finding] = Field(default_factory=list)
    went_poorly: list[Finding] = Field(default_factory=list)
    detection_gaps: list[Finding] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    generation: Generation


class Postmortem(BaseModel):
    """A blameless postmortem: facts from the timeline, narrative from the LLM or the template."""

    incident_id: str
    title: str
    severity: Severity | None = None
    service: str | None = None  # the first of `services`
    services: list[str] = Field(default_factory=list)  # every service of the incident (empty in old drafts)
    incident_status: IncidentStatus
    commander: str | None = None
    participants: list[str] = Field(default_factory=list)
    started_at: datetime
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    time_to_detect_s: int | None = None
    time_to_mitigate_s: int | None = None
    time_to_resolve_s: int | None = None
    impact_started_at: datetime | None = None  # the measured customer-impact window, when people set it
    impact_ended_at: datetime | None = None
    impact_duration_s: int | None = None
    event_count: int = 0
    summary: Finding
    customer_impact: str | None = None
    recorded_cause: str | None = None
    timeline: list[KeyEvent] = Field(default_factory=list)
    root_causes: list[CauseCandidate] = Field(default_factory=list)
    contributing_factors: list[Finding] = Field(default_factory=list)
    went_well: list[Finding] = Field(default_factory=list)
    went_poorly: list[Finding] = Field(default_factory=list)
    detection_gaps: list[Finding] = Field(default_factory=list)
    lessons: list[Finding] = Field(default_factory=list)  # written in the review
    action_items: list[ReviewedAction] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    similar_incidents: list[Reference] = Field(default_factory=list)
    runbooks: list[Reference] = Field(default_factory=list)
    generation: Generation
    status: PostmortemStatus = PostmortemStatus.DRAFT
    reviewers: list[str] = Field(default_factory=list)
    reviewed: list[ReviewedSection] = Field(default_factory=list)
