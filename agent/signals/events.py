"""`POST /debrief/events`: anything else a team wants on the timeline (CI pipelines, feature flags, scripts).

The body is one event or a list of them:
`{"incident": "INC-3" or "service": "checkout", "text": "...", "at": ISO-8601, "key": false, "source": "...",
"kind": "message|note|alert|deploy", "author": "..."}`. Only `text` and one of `incident`/`service` are required;
`at` defaults to the time it arrived, `kind` to `message`, `author` to the part of `source` before its first `:`.
`source` is the sender's own id for the event: a redelivery with the same one adds nothing. Without it, an event
that gives its `at` is known by its target, time (in UTC, whatever offset it was sent in) and text; one that gives
neither is recorded every time. `incident` is an id as Debrief writes it (`INC-3`, ASCII digits only).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, RootModel, field_validator, model_validator

from agent.models import EventKind
from agent.signals.signal import Reading, Signal, parse_payload, utc_text

# ASCII digits only: `\d` would read any script's digits (an Arabic-Indic one as 1).
_INCIDENT_ID = re.compile(r"\s*INC-[0-9]{1,9}\s*", re.IGNORECASE | re.ASCII)


class _Event(BaseModel):
    incident: str | None = None
    service: str | None = None
    text: str = Field(min_length=1, max_length=10_000)
    at: AwareDatetime | None = None
    key: bool = False
    source: str | None = Field(None, min_length=1, max_length=400)
    kind: Literal["message", "note", "alert", "deploy"] = "message"
    author: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("incident")
    @classmethod
    def _an_incident_id(cls, value: str | None) -> str | None:
        if value and value.strip() and not _INCIDENT_ID.fullmatch(value):
            raise ValueError(f"{value.strip()!r} is not an incident id; ids look like INC-3")
        return value

    @model_validator(mode="after")
    def _names_a_target(self) -> _Event:
        if not (self.incident or "").strip() and not (self.service or "").strip():
            raise ValueError('name the incident ("incident": "INC-3") or the service ("service": "checkout")')
        return self


class _Events(RootModel[_Event | list[_Event]]):
    pass


def generic_signals(body: bytes, now: datetime | None = None) -> Reading:
    """One signal per event in the body (an object or a list of them)."""
    parsed = parse_payload(_Events, body).root
    events = parsed if isinstance(parsed, list) else [parsed]
    arrived = now or datetime.now(UTC)
    return Reading([_signal(event, arrived) for event in events])


def _signal(event: _Event, arrived: datetime) -> Signal:
    target = (event.incident or "").strip().upper() or f"service:{(event.service or '').strip()}"
    service = (event.service or "").strip()
    return Signal(
        at=event.at or arrived,
        author=event.author or _author(event.source),
        text=event.text.strip(),
        kind=EventKind(event.kind),
        source=f"events:{_key(event, target)}",
        key=event.key,
        routing=(("service", service),) if service and not event.incident else (),
        incident=(event.incident or "").strip() or None,
    )


def _author(source: str | None) -> str:
    name = (source or "").split(":", 1)[0].strip()
    return name or "events"


def _key(event: _Event, target: str) -> str:
    if event.source:
        return event.source.strip()
    if event.at is None:
        return f"once:{uuid.uuid4().hex}"
    identity = "\n".join((target, utc_text(event.at), event.kind, event.text.strip()))
    return "hash:" + hashlib.sha256(identity.encode()).hexdigest()[:24]
