"""Signals from outside the chat (alerts, deploys, pages, generic events): webhook payloads read, authenticated,
kept and routed to incidents, or kept as unmatched until a responder attaches them."""

from agent.signals.alertmanager import alertmanager_signals
from agent.signals.events import generic_signals
from agent.signals.github_deployments import GITHUB_EVENTS, github_signals
from agent.signals.pagerduty import pagerduty_signals
from agent.signals.receive import (
    WebhookReply,
    receive_alertmanager,
    receive_events,
    receive_github,
    receive_pagerduty,
)
from agent.signals.record import Outcome, record_signals
from agent.signals.rules import AlertMatcher, SignalRules
from agent.signals.sender_text import one_line
from agent.signals.signal import Reading, Signal, WebhookPayloadError
from agent.signals.unmatched import (
    Attached,
    UnknownSignal,
    UnmatchedSignal,
    attach_signal,
    claim_unmatched,
    unmatched_signals,
)

__all__ = [
    "GITHUB_EVENTS",
    "AlertMatcher",
    "Attached",
    "Outcome",
    "Reading",
    "Signal",
    "SignalRules",
    "UnknownSignal",
    "UnmatchedSignal",
    "WebhookPayloadError",
    "WebhookReply",
    "alertmanager_signals",
    "attach_signal",
    "claim_unmatched",
    "generic_signals",
    "github_signals",
    "one_line",
    "pagerduty_signals",
    "receive_alertmanager",
    "receive_events",
    "receive_github",
    "receive_pagerduty",
    "record_signals",
    "unmatched_signals",
]
