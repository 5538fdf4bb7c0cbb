"""`POST /debrief/alertmanager` and `POST /debrief/github`: alerts and deploys as key timeline events.

Each signal goes to the open incident for its service, else the only open incident, else nowhere (reported as
unmatched). Malformed payloads get 400 with the field at fault and record nothing. The routes are served by Errbot's
Webserver plugin, which `debrief run` configures from DEBRIEF_HTTP_PORT. With DEBRIEF_WEBHOOK_SECRET set, requests
without it (or GitHub's signature made with it) get 401 and record nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from errbot import BotPlugin, webhook
from flask import Request

from agent.timeline import NewEvent
from debrief.payloads import GITHUB_EVENTS, Signal, WebhookPayloadError, alertmanager_signals, github_signals
from debrief.runtime import UsesRuntime
from debrief.webhook_auth import bearer_ok, github_signature_ok

log = logging.getLogger(__name__)

Response = tuple[dict[str, Any], int]


class DebriefWebhooks(UsesRuntime, BotPlugin):
    """Record Alertmanager alerts and GitHub deployments on the matching incident's timeline."""

    def activate(self) -> None:
        super().activate()
        if self._secret() is None and self.runtime.settings.backend != "Text":
            log.warning("DEBRIEF_WEBHOOK_SECRET is not set: anyone who reaches the webhooks can add events")

    @webhook("/debrief/alertmanager", methods=("POST",), raw=True)
    def alertmanager(self, request: Request) -> Response:
        """Alertmanager webhook receiver (payload version 4)."""
        if not bearer_ok(self._secret(), request.headers.get("Authorization", "")):
            return {"error": "missing or wrong bearer token (DEBRIEF_WEBHOOK_SECRET)"}, 401
        body = request.get_data()
        return self._record(lambda: alertmanager_signals(body))

    @webhook("/debrief/github", methods=("POST",), raw=True)
    def github(self, request: Request) -> Response:
        """GitHub webhook for deployment and deployment_status events."""
        signature = request.headers.get("X-Hub-Signature-256", "")
        if not github_signature_ok(self._secret(), signature, request.get_data()):
            return {"error": "missing or wrong X-Hub-Signature-256 (DEBRIEF_WEBHOOK_SECRET)"}, 401
        event = request.headers.get("X-GitHub-Event", "")
        if not event:
            return {"error": "missing X-GitHub-Event header"}, 400
        if event == "ping":
            return {"ok": "pong"}, 200
        if event not in GITHUB_EVENTS:
            return {"ignored": event, "accepts": list(GITHUB_EVENTS)}, 202
        body = request.get_data()
        return self._record(lambda: github_signals(event, body))

    def _secret(self) -> str | None:
        secret = self.runtime.settings.webhook_secret
        return secret.get_secret_value() if secret else None

    def _record(self, read: Callable[[], list[Signal]]) -> Response:
        try:
            signals = read()
        except WebhookPayloadError as exc:
            return {"error": str(exc)}, 400
        events = [event for event in map(self._event, signals) if event is not None]
        recorded = self.runtime.engine.timeline.record_many(events)
        return {
            "recorded": recorded,
            "duplicates": len(events) - recorded,
            "unmatched": len(signals) - len(events),
            "incidents": sorted({event.incident_id for event in events}),
        }, 200

    def _event(self, signal: Signal) -> NewEvent | None:
        incident = self.runtime.engine.incidents.for_service(signal.service)
        if incident is None:
            return None
        return NewEvent(
            incident.id, signal.at, signal.author, signal.text, signal.kind, key=True, source=signal.source
        )
