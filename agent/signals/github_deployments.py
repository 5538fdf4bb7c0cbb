"""GitHub's `deployment` and `deployment_status` webhook events, read into signals.

- A new deployment and its success, failure or error are key events; queued, pending, in_progress and inactive
  (and states GitHub adds later) are ordinary events, or dropped with DEBRIEF_DEPLOY_PROGRESS=drop.
- Deliveries come as JSON or, GitHub's default content type, form-encoded (`payload=<json>`); the signature is
  checked over the raw body before either is read (`agent.signals.verify`).
- A deployment is about its payload's `service` when it names one, its repository (`owner/name`, then `name`) and
  its environment, in that order; service aliases map any of them to an incident's service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from pydantic import AwareDatetime, BaseModel

from agent.models import EventKind
from agent.signals.rules import SignalRules
from agent.signals.signal import Ignored, Reading, Signal, WebhookPayloadError, parse_json, parse_payload

GITHUB_EVENTS = ("deployment", "deployment_status")
KEY_STATES = frozenset({"success", "failure", "error"})
FORM = "application/x-www-form-urlencoded"


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


def github_body(content_type: str, body: bytes) -> object:
    """The delivery's JSON, from a JSON body or a form-encoded one (`payload=...`)."""
    if content_type.split(";")[0].strip().lower() == FORM or body.startswith(b"payload="):
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise WebhookPayloadError("the form-encoded body cannot be read") from None
        payload = fields.get("payload")
        if not payload:
            raise WebhookPayloadError("the form-encoded body has no payload field")
        return parse_json(payload[0])
    return parse_json(body)


def github_signals(
    event: str, body: bytes, rules: SignalRules | None = None, content_type: str = "application/json"
) -> Reading:
    """The signal of a GitHub `deployment` or `deployment_status` delivery (JSON or form-encoded)."""
    rules = rules or SignalRules()
    data = github_body(content_type, body)
    if event == "deployment":
        return Reading([_deployment_signal(parse_payload(_DeploymentEvent, data))])
    if event == "deployment_status":
        return _status_reading(parse_payload(_DeploymentStatusEvent, data), rules)
    raise WebhookPayloadError(
        f"unsupported GitHub event {event!r}; send deployment or deployment_status events"
    )


def _deployment_signal(event: _DeploymentEvent) -> Signal:
    deployment = event.deployment
    who = _login(deployment.creator, event.sender)
    text = f"Deploy of {_what(event)} to {deployment.environment} started by {who}"
    return Signal(
        at=deployment.created_at,
        author=who,
        text=text + (f": {deployment.description}" if deployment.description else ""),
        kind=EventKind.DEPLOY,
        source=f"github:deployment:{deployment.id}",
        routing=_routing(event, deployment.environment),
        thread=_thread(event),
    )


def _status_reading(event: _DeploymentStatusEvent, rules: SignalRules) -> Reading:
    status = event.deployment_status
    source = f"github:deployment_status:{status.id}"
    key = status.state in KEY_STATES
    if not key and rules.deploy_progress == "drop":
        return Reading(
            [], [Ignored(0, source, f"deployment state {status.state} (DEBRIEF_DEPLOY_PROGRESS=drop)")]
        )
    environment = status.environment or event.deployment.environment
    text = f"Deploy of {_what(event)} to {environment}: {status.state}"
    signal = Signal(
        at=status.created_at,
        author=_login(status.creator, event.sender),
        text=text + (f" ({status.description})" if status.description else ""),
        kind=EventKind.DEPLOY,
        source=source,
        key=key,
        routing=_routing(event, environment),
        thread=_thread(event),
    )
    return Reading([signal])


def _what(event: _DeploymentEvent) -> str:
    deployment = event.deployment
    return f"{event.repository.full_name} {deployment.ref} ({deployment.sha[:7]})"


def _thread(event: _DeploymentEvent) -> str:
    return f"github:deployment:{event.deployment.id}"


def _routing(event: _DeploymentEvent, environment: str) -> tuple[tuple[str, str], ...]:
    """The deployment payload's `service`, the repository (full, then short name), the environment."""
    found: list[tuple[str, str]] = []
    payload = event.deployment.payload
    if isinstance(payload, dict) and isinstance(payload.get("service"), str) and payload["service"].strip():
        found.append(("service", str(payload["service"]).strip()))
    found += [
        ("repository", event.repository.full_name),
        ("repository", event.repository.name),
        ("environment", environment),
    ]
    return tuple(found)


def _login(*users: _User | None) -> str:
    return next((user.login for user in users if user is not None), "github")
