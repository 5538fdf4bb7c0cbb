"""PagerDuty webhooks V3 (`{"event": {...}}`), read into signals.

incident.triggered, acknowledged, escalated, resolved and annotated become key events, at PagerDuty's own
`occurred_at`. Every event of one PagerDuty incident shares a thread, so once its trigger went somewhere (routed
by the PagerDuty service's name, attached by hand, or a Debrief incident started for it) the rest follows; a note
(`incident.annotated`) names no service and only ever follows. Other event types are acknowledged and set aside.
PagerDuty's ids are kept as sent, or by their hash when too long to keep (`bounded_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from agent.models import EventKind
from agent.signals.sender_text import one_line
from agent.signals.signal import Ignored, Reading, Signal, bounded_id, parse_payload

EVENT_TYPES = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.escalated",
    "incident.resolved",
    "incident.annotated",
    "incident.priority_updated",  # PagerDuty often sets the priority after the trigger: it may start an incident
    "incident.reopened",
)
# Events that may start a Debrief incident (`Page`): the trigger, and a priority set later.
PAGE_TYPES = ("incident.triggered", "incident.priority_updated")


class _Reference(BaseModel):
    id: str = ""
    summary: str = ""


class _Incident(BaseModel):
    id: str
    number: int | None = None
    title: str = ""
    status: str = ""
    urgency: str | None = None
    service: _Reference | None = None
    priority: _Reference | None = None
    assignees: list[_Reference] = Field(default_factory=list)


class _Note(BaseModel):
    id: str = ""
    content: str = ""
    incident: _Reference


class _Event(BaseModel):
    id: str
    event_type: str
    occurred_at: AwareDatetime
    agent: _Reference | None = None
    data: dict[str, Any]


class _Envelope(BaseModel):
    event: _Event


class Page(BaseModel):
    """A PagerDuty incident as its trigger described it: enough to start a Debrief incident for it. Its texts
    are one line each (`one_line`), still to be made literal where they are shown."""

    incident_id: str
    at: datetime
    title: str
    service: str | None
    priority: str | None
    source: str


def pagerduty_signals(body: bytes) -> tuple[Reading, Page | None]:
    """The event's signal, and the page it triggered (for incidents started from PagerDuty) if it is a trigger."""
    event = parse_payload(_Envelope, body).event
    source = f"pagerduty:{bounded_id(event.id)}"
    if event.event_type not in EVENT_TYPES:
        return Reading([], [Ignored(0, source, f"PagerDuty event {event.event_type} is not recorded")]), None
    who = event.agent.summary if event.agent and event.agent.summary else "pagerduty"
    if event.event_type == "incident.annotated":
        note = parse_payload(_Note, event.data)
        text = f"PagerDuty note on {note.incident.summary or note.incident.id}: {note.content}"
        return Reading([_signal(event, who, text, f"pagerduty:{bounded_id(note.incident.id)}", ())]), None
    incident = parse_payload(_Incident, event.data)
    service = one_line(incident.service.summary) if incident.service else ""
    routing = (("pagerduty_service", service),) if service else ()
    thread = f"pagerduty:{bounded_id(incident.id)}"
    signal = _signal(event, who, _text(event.event_type, who, incident), thread, routing)
    page = None
    if event.event_type in PAGE_TYPES:
        priority = incident.priority.summary if incident.priority else None
        page = Page(
            incident_id=one_line(bounded_id(incident.id)),
            at=event.occurred_at,
            title=one_line(incident.title),
            service=service or None,
            priority=one_line(priority) if priority else None,
            source=source,
        )
    return Reading([signal]), page


def _signal(event: _Event, who: str, text: str, thread: str, routing: tuple[tuple[str, str], ...]) -> Signal:
    return Signal(
        at=event.occurred_at,
        author=who,
        text=text,
        kind=EventKind.ALERT,
        source=f"pagerduty:{bounded_id(event.id)}",
        routing=routing,
        thread=thread,
    )


def _text(event_type: str, who: str, incident: _Incident) -> str:
    name = (
        f"PagerDuty incident #{incident.number}" if incident.number else f"PagerDuty incident {incident.id}"
    )
    action = event_type.removeprefix("incident.")
    details = [part for part in _details(incident) if part]
    if action == "acknowledged":
        head = f"{name} acknowledged by {who}"
    elif action == "priority_updated":
        priority = incident.priority.summary if incident.priority else "none"
        head = f"{name} priority set to {priority}"
    elif action == "escalated":
        assigned = ", ".join(a.summary for a in incident.assignees if a.summary)
        head = f"{name} escalated" + (f" to {assigned}" if assigned else "")
    else:
        head = f"{name} {action}"
    return f"{head}: {incident.title}" + (f" ({', '.join(details)})" if details else "")


def _details(incident: _Incident) -> list[str]:
    return [
        incident.service.summary if incident.service else "",
        incident.priority.summary if incident.priority else "",
        f"{incident.urgency} urgency" if incident.urgency else "",
    ]
