"""`POST /debrief/alertmanager`, `/debrief/github`, `/debrief/pagerduty` and `/debrief/events`: signals onto the
timeline of the incident they concern, or kept as unmatched.

Each route reads the body bounded (DEBRIEF_MAX_BODY_BYTES, 413 above it) and forwards it to one engine call
(`agent.signals`), which checks the sender's secret, reads the payload and routes each signal. An incident started
from PagerDuty is announced in its room. The routes are served by Errbot's Webserver plugin, which `debrief run`
configures from DEBRIEF_HTTP_PORT and bounds (`debrief.bot.http_server`: a deadline per request, a cap on connections).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from errbot import BotPlugin, webhook
from errbot.core_plugins import flask_app
from flask import Request

from agent.signals import (
    SignalRules,
    WebhookReply,
    receive_alertmanager,
    receive_events,
    receive_github,
    receive_pagerduty,
)
from backends.request_body import BodyTooLarge, MalformedBody, drop_unread, read_body, refuse_body
from debrief.bot.runtime import UsesRuntime

log = logging.getLogger(__name__)

Response = tuple[dict[str, Any], int]


class DebriefWebhooks(UsesRuntime, BotPlugin):
    """Record alerts, deploys, pages and generic events on the matching incident's timeline."""

    def activate(self) -> None:
        # Errbot adds a plugin's routes to its Flask app when the plugin activates, and the Webserver plugin may
        # already be serving by then (Teams' /api/messages, a sender retrying): Flask refuses routes added after
        # its first request, which left the webhooks unserved until a restart. Each route here is added before it
        # can be requested, so the refusal protects nothing; Flask's own `run` resets the flag the same way.
        flask_app._got_first_request = False
        super().activate()
        self.rules = SignalRules.from_settings(self.runtime.settings)
        if self._secret() is None and self.runtime.settings.backend not in ("Text", "Test"):
            log.warning("DEBRIEF_WEBHOOK_SECRET is not set: anyone who reaches the webhooks can add events")

    @webhook("/debrief/alertmanager", methods=("POST",), raw=True)
    def alertmanager(self, request: Request) -> Response:
        """Alertmanager (payload version 4) and Grafana webhook receiver."""
        authorization = request.headers.get("Authorization", "")
        return self._bounded(
            request,
            lambda body: receive_alertmanager(self.engine, self.rules, self._secret(), authorization, body),
        )

    @webhook("/debrief/github", methods=("POST",), raw=True)
    def github(self, request: Request) -> Response:
        """GitHub webhook for deployment and deployment_status events (JSON or form-encoded)."""
        event = request.headers.get("X-GitHub-Event", "")
        signature = request.headers.get("X-Hub-Signature-256", "")
        content_type = request.headers.get("Content-Type", "")
        return self._bounded(
            request,
            lambda body: receive_github(
                self.engine, self.rules, self._secret(), event, signature, body, content_type
            ),
        )

    @webhook("/debrief/pagerduty", methods=("POST",), raw=True)
    def pagerduty(self, request: Request) -> Response:
        """PagerDuty webhooks V3."""
        authorization = request.headers.get("Authorization", "")
        signature = request.headers.get("X-PagerDuty-Signature", "")
        secrets = (self._secret(), self._pagerduty_secret())
        return self._bounded(
            request,
            lambda body: receive_pagerduty(self.engine, self.rules, secrets, authorization, signature, body),
        )

    @webhook("/debrief/events", methods=("POST",), raw=True)
    def events(self, request: Request) -> Response:
        """Generic events: {"incident" or "service", "text", "at", "key", "source"}."""
        authorization = request.headers.get("Authorization", "")
        return self._bounded(
            request, lambda body: receive_events(self.engine, self.rules, self._secret(), authorization, body)
        )

    def _bounded(self, request: Request, receive: Callable[[bytes], WebhookReply]) -> Response:
        """Read at most DEBRIEF_MAX_BODY_BYTES of the body (413 above it, chunked bodies too; 408 when it does not
        arrive within DEBRIEF_HTTP_TIMEOUT), then `receive` it."""
        try:
            body = read_body(request.environ, self.runtime.settings.max_body_bytes)
        except (BodyTooLarge, MalformedBody) as exc:
            status = refuse_body(request.environ, exc)
            log.warning("webhook: refused a request to %s: %s", request.path, exc)
            return {"error": str(exc)}, status
        drop_unread(request.environ)  # anything sent past its Content-Length
        reply = receive(body)
        for room, text in reply.announcements:
            self._announce(room, text)
        return reply.body, reply.status

    def _announce(self, room: str, text: str) -> None:
        try:
            self.send(self.build_identifier(room), text)
        except Exception:  # the incident is started either way; the room may not be reachable yet
            log.warning("webhook: cannot announce in %s", room, exc_info=True)

    def _secret(self) -> str | None:
        secret = self.runtime.settings.webhook_secret
        return secret.get_secret_value() if secret else None

    def _pagerduty_secret(self) -> str | None:
        secret = self.runtime.settings.pagerduty_secret
        return secret.get_secret_value() if secret else None
