"""Debrief's domain, as pydantic models (DESIGN.md §2). These are what the engine returns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class EventKind(StrEnum):
    MESSAGE = "message"
    NOTE = "note"
    ALERT = "alert"
    DEPLOY = "deploy"
    STATUS = "status"
    ACTION = "action"
    COMMAND = "command"


class ActionKind(StrEnum):
    PREVENT = "prevent"
    DETECT = "detect"
    MITIGATE = "mitigate"
    PROCESS = "process"


class ActionStatus(StrEnum):
    NEEDS_REVISION = "needs_revision"
    PENDING = "pending"
    FILED = "filed"
    DONE = "done"
    DROPPED = "dropped"  # closed without doing it (`!action drop A2 REASON`); never filed anew


# Statuses of an item still to be done: reminded when overdue, editable.
OPEN_ACTION_STATUSES = frozenset({ActionStatus.NEEDS_REVISION, ActionStatus.PENDING, ActionStatus.FILED})


class PostmortemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"


class Incident(BaseModel):
    id: str
    title: str
    severity: Severity | None = None
    severity_reason: str | None = None
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    service: str | None = None  # the first of `services`
    # Every service it is about, `service` first: alerts and deploys naming any of them come to it.
    services: list[str] = Field(default_factory=list)
    room: str
    commander: str | None = None
    participants: list[str] = Field(default_factory=list)
    impact: str | None = None
    cause: str | None = None
    started_by: str | None = None
    started_at: datetime
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    # The measured customer-impact window (`!incident set impact-start|impact-end TIME`), when people set it.
    impact_started_at: datetime | None = None
    impact_ended_at: datetime | None = None
    # Kept out of the knowledge base and away from the LLM (retrieval mode, template postmortem).
    private: bool = False
    # Came from `debrief replay`: a drill, never reminded of anything.
    replayed: bool = False

    @property
    def services_label(self) -> str:
        """How replies name its services: "service a", "services a, b", or "" when it has none."""
        names = self.services
        return f"service{'s' if len(names) > 1 else ''} {', '.join(names)}" if names else ""


class TimelineEvent(BaseModel):
    id: int
    incident_id: str
    at: datetime
    author: str
    text: str
    kind: EventKind
    key: bool = False
    source: str | None = None
    # From long before its incident started (an alert firing for days): context, not its start or detection.
    context: bool = False


class ActionItem(BaseModel):
    """`id` is the database's (unique per installation); people name an item by its `number` in its incident:
    `A2` in the incident's room, `INC-3/A2` anywhere (`ref`, `qualified_ref`)."""

    id: int
    incident_id: str
    # None only in postmortem documents stored before items were numbered per incident (schema 12).
    number: int | None = None
    title: str
    owner: str | None = None
    due: date | None = None
    kind: ActionKind = ActionKind.PREVENT
    success_criteria: str | None = None
    status: ActionStatus = ActionStatus.PENDING
    refs: list[str] = Field(default_factory=list)
    idempotency_key: str
    drop_reason: str | None = None
    # How often its title, owner, due date or status were changed by people: its tickets follow it. Internal.
    revision: int = Field(default=0, exclude=True)

    @property
    def ref(self) -> str:
        """`A2`: how the item is named in its incident's room."""
        return f"A{self.number if self.number is not None else self.id}"

    @property
    def qualified_ref(self) -> str:
        """`INC-3/A2`: how the item is named anywhere."""
        return f"{self.incident_id}/{self.ref}"


class RootCause(BaseModel):
    cause: str
    evidence: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)


class SearchHit(BaseModel):
    """One knowledge-base result, as `debrief search --json` prints it."""

    source: str
    kind: str
    title: str
    heading: str
    score: float  # the ranking score of the search mode (rank-based for hybrid): compares hits of one search only
    relevance: float = (
        1.0  # calibrated, 0-1: how likely the document is about the question (agent.knowledge.relevance)
    )
    similarity: float = (
        0.0  # the best cosine similarity of the document's pieces to the question (0: no dense search)
    )
    snippet: str


class AuditEntry(BaseModel):
    """One row of the append-only audit trail: who changed what, and when it was recorded."""

    id: int
    at: datetime
    actor: str
    action: str
    incident_id: str | None = None
    detail: str
