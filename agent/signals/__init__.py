"""Signals from outside the chat (alerts, deploys): webhook payloads read, authenticated and routed to incidents."""

from agent.signals.alertmanager import alertmanager_signals
from agent.signals.github_deployments import GITHUB_EVENTS, github_signals
from agent.signals.receive import WebhookReply, receive_alertmanager, receive_github
from agent.signals.signal import Signal, WebhookPayloadError

__all__ = [
    "GITHUB_EVENTS",
    "Signal",
    "WebhookPayloadError",
    "WebhookReply",
    "alertmanager_signals",
    "github_signals",
    "receive_alertmanager",
    "receive_github",
]
