"""A webhook request, start to finish: who sent it, what it says, which incident each signal goes on.

Each webhook is one call (`receive_alertmanager`, `receive_github`) that the HTTP layer only forwards to: it
checks the shared secret, reads the payload (400 with the field at fault, nothing recorded), routes each signal to
the open incident for its service (else the only open incident, else nowhere: reported as unmatched) and records
them as key events, each source once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.engine import Engine
from agent.errors import DebriefError
from agent.signals.alertmanager import alertmanager_signals
from agent.signals.github_deployments import GITHUB_EVENTS, github_signals
from agent.signals.signal import Signal, WebhookPayloadError
from agent.signals.verify import bearer_ok, github_signature_ok
from agent.timeline import NewEvent
from agent.timestamps import event_time


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer: a JSON body and a status code."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def receive_alertmanager(engine: Engine, secret: str | None, authorization: str, body: bytes) -> WebhookReply:
    """Alertmanager's notification; the secret travels as `Authorization: Bearer <secret>`."""
    if not bearer_ok(secret, authorization):
        return WebhookReply(401, {"error": "missing or wrong bearer token (DEBRIEF_WEBHOOK_SECRET)"})
    return _record(engine, lambda: alertmanager_signals(body))


def receive_github(
    engine: Engine, secret: str | None, event: str, signature: str, body: bytes
) -> WebhookReply:
    """A GitHub delivery (`X-GitHub-Event`), signed with the secret (`X-Hub-Signature-256`)."""
    if not github_signature_ok(secret, signature, body):
        return WebhookReply(401, {"error": "missing or wrong X-Hub-Signature-256 (DEBRIEF_WEBHOOK_SECRET)"})
    if not event:
        return WebhookReply(400, {"error": "missing X-GitHub-Event header"})
    if event == "ping":
        return WebhookReply(200, {"ok": "pong"})
    if event not in GITHUB_EVENTS:
        return WebhookReply(202, {"ignored": event, "accepts": list(GITHUB_EVENTS)})
    return _record(engine, lambda: github_signals(event, body))


def _record(engine: Engine, read: Callable[[], list[Signal]]) -> WebhookReply:
    """Record every signal that can be; one that cannot (a time out of range) is reported, not the batch lost."""
    try:
        signals = read()
    except WebhookPayloadError as exc:
        return WebhookReply(400, {"error": str(exc)})
    events: list[NewEvent] = []
    rejected: list[dict[str, object]] = []
    for index, signal in enumerate(signals):
        try:
            event = _event(engine, signal)
        except DebriefError as exc:
            rejected.append({"index": index, "error": str(exc)})
            continue
        if event is not None:
            events.append(event)
    if rejected and len(rejected) == len(signals):
        return WebhookReply(400, {"error": rejected[0]["error"], "rejected": rejected})
    recorded = engine.timeline.record_many(events)
    body: dict[str, object] = {
        "recorded": recorded,
        "duplicates": len(events) - recorded,
        "unmatched": len(signals) - len(events) - len(rejected),
        "incidents": sorted({event.incident_id for event in events}),
    }
    return WebhookReply(200, {**body, "rejected": rejected} if rejected else body)


def _event(engine: Engine, signal: Signal) -> NewEvent | None:
    """The signal as a key event of its incident; `TimestampError` for a time no event can have."""
    at = event_time(signal.at)
    incident = engine.incidents.for_service(signal.service)
    if incident is None:
        return None
    return NewEvent(incident.id, at, signal.author, signal.text, signal.kind, key=True, source=signal.source)
