"""`POST /debrief/alertmanager` and `POST /debrief/github`: alerts and deploys as key timeline events.

Each route reads the body bounded (DEBRIEF_MAX_BODY_BYTES, 413 above it) and forwards it to one engine call
(`agent.signals`), which checks DEBRIEF_WEBHOOK_SECRET, reads the payload and routes each signal to its incident. The routes are served by Errbot's Webserver plugin, which
`debrief run` configures from DEBRIEF_HTTP_PORT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from errbot import BotPlugin, webhook
from flask import Request

from agent.signals import WebhookReply, receive_alertmanager, receive_github
from backends.request_body import DROP_WAIT_S, BodyTooLarge, MalformedBody, drop_unread, read_body
from debrief.bot.runtime import UsesRuntime

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
        authorization = request.headers.get("Authorization", "")
        return self._bounded(
            request, lambda body: receive_alertmanager(self.engine, self._secret(), authorization, body)
        )

    @webhook("/debrief/github", methods=("POST",), raw=True)
    def github(self, request: Request) -> Response:
        """GitHub webhook for deployment and deployment_status events."""
        event = request.headers.get("X-GitHub-Event", "")
        signature = request.headers.get("X-Hub-Signature-256", "")
        return self._bounded(
            request, lambda body: receive_github(self.engine, self._secret(), event, signature, body)
        )

    def _bounded(self, request: Request, receive: Callable[[bytes], WebhookReply]) -> Response:
        """Read at most DEBRIEF_MAX_BODY_BYTES of the body (413 above it, chunked bodies too), then `receive` it."""
        try:
            body = read_body(request.environ, self.runtime.settings.max_body_bytes)
        except (BodyTooLarge, MalformedBody) as exc:
            drop_unread(request.environ, wait_s=DROP_WAIT_S, refused=True)
            log.warning("webhook: refused a request to %s: %s", request.path, exc)
            return {"error": str(exc)}, 413 if isinstance(exc, BodyTooLarge) else 400
        drop_unread(request.environ)  # anything sent past its Content-Length
        reply = receive(body)
        return reply.body, reply.status

    def _secret(self) -> str | None:
        secret = self.runtime.settings.webhook_secret
        return secret.get_secret_value() if secret else None
