"""GitHub's `deployment` and `deployment_status` webhook events, read into signals."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel

from agent.models import EventKind
from agent.signals.signal import Signal, WebhookPayloadError, parse_payload

GITHUB_EVENTS = ("deployment", "deployment_status")


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


def github_signals(event: str, body: bytes) -> list[Signal]:
    """The signal of a GitHub `deployment` or `deployment_status` event."""
    if event == "deployment":
        deployment = parse_payload(_DeploymentEvent, body)
        return [_deployment_signal(deployment)]
    if event == "deployment_status":
        status = parse_payload(_DeploymentStatusEvent, body)
        return [_deployment_status_signal(status)]
    raise WebhookPayloadError(
        f"unsupported GitHub event {event!r}; send deployment or deployment_status events"
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
