"""A signal: an alert, deploy, page or generic event read from a webhook, ready to become a timeline event of the
incident it concerns.

Payload shapes are checked with pydantic so a malformed request is refused with the field at fault, before
anything is recorded. A signal says what it is about (`routing`: the labels and values that may name a service,
in the order they are trusted), which earlier signal it continues (`thread`), and never which incident it goes
to: that is routing's decision (`agent.signals.routing`), except for a sender that names the incident itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agent.errors import DebriefError
from agent.models import EventKind
from agent.timestamps import TimestampError, as_utc

_Model = TypeVar("_Model", bound=BaseModel)
# A sender's own id for something, as part of a signal's source and thread (kept in 512 characters).
ID_LIMIT = 128


class WebhookPayloadError(DebriefError):
    """The request body is not the payload this webhook accepts; the message names the field."""


@dataclass(frozen=True)
class Signal:
    """Something a sender reported, to be recorded once (per `source`) on the incident it concerns.

    `routing` holds (label, value) pairs that may name a service, most trusted first. `thread` groups it with the
    signals it continues: an alert's resolution follows its firing, a deployment status its deployment, a page's
    acknowledgement its trigger; a signal goes where its thread already went. `follows` names the signal whose
    event this one links to (a resolution names its firing). `incident` is set only when the sender named one.
    """

    at: datetime
    author: str
    text: str
    kind: EventKind
    source: str
    key: bool = True
    routing: tuple[tuple[str, str], ...] = ()
    thread: str = ""
    follows: str | None = None
    incident: str | None = None

    @property
    def thread_key(self) -> str:
        return self.thread or self.source


@dataclass(frozen=True)
class Ignored:
    """A signal deliberately not recorded (a heartbeat alert, a deployment status configured away), and why."""

    index: int
    source: str
    reason: str


@dataclass(frozen=True)
class Reading:
    """What one webhook request says: the signals to record and those set aside on purpose."""

    signals: list[Signal]
    ignored: list[Ignored] = field(default_factory=list)


def bounded_id(value: str) -> str:
    """A sender's id (a fingerprint, an event id) fit to be part of a source: as sent up to `ID_LIMIT`
    characters, else its start and a hash of all of it. The same id always gives the same part, so a redelivery
    is still recognised, and two long ids that differ anywhere still differ."""
    if len(value) <= ID_LIMIT:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{value[: ID_LIMIT - 40]}~sha256:{digest}"


def utc_text(at: datetime) -> str:
    """`at` in UTC, ISO-8601, for a signal's identity: the same instant sent in any offset is the same signal. A
    time without a UTC equivalent stays as sent (its signal is rejected for it when recorded)."""
    try:
        return as_utc(at).isoformat()
    except TimestampError:
        return at.isoformat()


def parse_payload(model: type[_Model], body: bytes | str | object) -> _Model:
    """The payload as `model`; `WebhookPayloadError` names what is wrong (never a traceback)."""
    data = parse_json(body) if isinstance(body, bytes | str) else body
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WebhookPayloadError(_first_problem(exc)) from None


def parse_json(body: bytes | str) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("the request body is not valid JSON") from None
    except RecursionError:
        raise WebhookPayloadError("the request body is nested too deeply to be a webhook payload") from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
