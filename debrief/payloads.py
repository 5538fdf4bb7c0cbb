"""Alertmanager and GitHub deployment webhooks, read into `Signal`s: what happened, when, to which service.

The payload shapes are checked with pydantic so a malformed request is refused with the field at fault, before
anything is recorded. Which incident a signal belongs to is the engine's call (`IncidentService.for_service`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from agent.errors import DebriefError
from agent.models import EventKind

GITHUB_EVENTS = ("deployment", "deployment_status")

# Alertmanager sends this as endsAt while an alert still fires.
_NEVER = 1


_Model = TypeVar("_Model", bound=BaseModel)


class WebhookPayloadError(DebriefError):
    """The request body is not the payload this webhook accepts; the message names the field."""


@dataclass(frozen=True)
class Signal:
    """An alert or deploy, ready to become a key timeline event of the incident for `service`."""

    service: str | None
    at: datetime
    author: str
    text: str
    kind: EventKind
    source: str


class _Alert(BaseModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    fingerprint: str = ""


class _AlertmanagerPayload(BaseModel):
    alerts: list[_Alert] = Field(min_length=1)


class _User(BaseModel):
    login: str


class _Repository(BaseModel):
    name: str
    full_name: str


class _Deployment(BaseModel):
    id: int
    sha: str
    ref: str
    environment: str
    description: str | None = None
    creator: _User | None = None
    created_at: AwareDatetime
    payload: dict[str, Any] | str | None = None


class _DeploymentStatus(BaseModel):
    id: int
    state: str
    environment: str | None = None
    description: str | None = None
    creator: _User | None = None
    created_at: AwareDatetime


class _DeploymentEvent(BaseModel):
    deployment: _Deployment
    repository: _Repository
    sender: _User | None = None


class _DeploymentStatusEvent(_DeploymentEvent):
    deployment_status: _DeploymentStatus


def alertmanager_signals(body: bytes) -> list[Signal]:
    """One signal per alert in an Alertmanager (v4) webhook notification."""
    payload = _parse(_AlertmanagerPayload, body)
    return [_alert_signal(alert) for alert in payload.alerts]


def github_signals(event: str, body: bytes) -> list[Signal]:
    """The signal of a GitHub `deployment` or `deployment_status` event."""
    if event == "deployment":
        deployment = _parse(_DeploymentEvent, body)
        return [_deployment_signal(deployment)]
    if event == "deployment_status":
        status = _parse(_DeploymentStatusEvent, body)
        return [_deployment_status_signal(status)]
    raise WebhookPayloadError(
        f"unsupported GitHub event {event!r}; send deployment or deployment_status events"
    )


def _alert_signal(alert: _Alert) -> Signal:
    name = alert.labels.get("alertname", "alert")
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    ended = alert.endsAt if alert.endsAt and alert.endsAt.year > _NEVER else None
    at = ended if alert.status == "resolved" and ended else alert.startsAt
    key = alert.fingerprint or name
    return Signal(
        service=alert.labels.get("service"),
        at=at,
        author="alertmanager",
        text=f"Alert {alert.status}: {name}" + (f": {summary}" if summary else ""),
        kind=EventKind.ALERT,
        source=f"alertmanager:{key}:{alert.status}:{at.isoformat()}",
    )


def _deployment_signal(event: _DeploymentEvent) -> Signal:
    deployment = event.deployment
    who = _login(deployment.creator, event.sender)
    text = f"Deploy of {_what(event)} to {deployment.environment} started by {who}"
    return Signal(
        service=_service(event),
        at=deployment.created_at,
        author=who,
        text=text + (f": {deployment.description}" if deployment.description else ""),
        kind=EventKind.DEPLOY,
        source=f"github:deployment:{deployment.id}",
    )


def _deployment_status_signal(event: _DeploymentStatusEvent) -> Signal:
    status = event.deployment_status
    environment = status.environment or event.deployment.environment
    text = f"Deploy of {_what(event)} to {environment}: {status.state}"
    return Signal(
        service=_service(event),
        at=status.created_at,
        author=_login(status.creator, event.sender),
        text=text + (f" ({status.description})" if status.description else ""),
        kind=EventKind.DEPLOY,
        source=f"github:deployment_status:{status.id}",
    )


def _what(event: _DeploymentEvent) -> str:
    deployment = event.deployment
    return f"{event.repository.full_name} {deployment.ref} ({deployment.sha[:7]})"


def _service(event: _DeploymentEvent) -> str:
    """The deployment payload's `service` when given, else the repository name."""
    payload = event.deployment.payload
    if isinstance(payload, dict) and isinstance(payload.get("service"), str):
        return str(payload["service"])
    return event.repository.name


def _login(*users: _User | None) -> str:
    return next((user.login for user in users if user is not None), "github")


def _parse(model: type[_Model], body: bytes) -> _Model:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("the request body is not valid JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WebhookPayloadError(_first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
