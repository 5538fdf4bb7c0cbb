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
    service: str | None = None
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
    # Kept out of the knowledge base and away from the LLM (retrieval mode, template postmortem).
    private: bool = False


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
    id: int
    incident_id: str
    title: str
    owner: str | None = None
    due: date | None = None
    kind: ActionKind = ActionKind.PREVENT
    success_criteria: str | None = None
    status: ActionStatus = ActionStatus.PENDING
    refs: list[str] = Field(default_factory=list)
    idempotency_key: str


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
    score: float
    snippet: str


class AuditEntry(BaseModel):
    """One row of the append-only audit trail: who changed what, and when it was recorded."""

    id: int
    at: datetime
    actor: str
    action: str
    incident_id: str | None = None
    detail: str
