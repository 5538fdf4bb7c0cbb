"""`POST /debrief/alertmanager` and `POST /debrief/github`: alerts and deploys as key timeline events.

Each route forwards the request to one engine call (`agent.signals`), which checks DEBRIEF_WEBHOOK_SECRET, reads
the payload and routes each signal to its incident. The routes are served by Errbot's Webserver plugin, which
`debrief run` configures from DEBRIEF_HTTP_PORT.
"""

from __future__ import annotations

import logging
from typing import Any

from errbot import BotPlugin, webhook
from flask import Request

from agent.signals import WebhookReply, receive_alertmanager, receive_github
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
        return _response(receive_alertmanager(self.engine, self._secret(), authorization, request.get_data()))

    @webhook("/debrief/github", methods=("POST",), raw=True)
    def github(self, request: Request) -> Response:
        """GitHub webhook for deployment and deployment_status events."""
        event = request.headers.get("X-GitHub-Event", "")
        signature = request.headers.get("X-Hub-Signature-256", "")
        return _response(receive_github(self.engine, self._secret(), event, signature, request.get_data()))

    def _secret(self) -> str | None:
        secret = self.runtime.settings.webhook_secret
        return secret.get_secret_value() if secret else None


def _response(reply: WebhookReply) -> Response:
    return reply.body, reply.status
