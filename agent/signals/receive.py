"""A webhook request, start to finish: who sent it, what it says, where each signal went.

Each webhook is one call (`receive_alertmanager`, `receive_github`, `receive_pagerduty`, `receive_events`) that the
HTTP layer only forwards to: it checks the sender's secret, reads the payload (400 with the field at fault,
nothing recorded), then keeps, routes and records each signal (`agent.signals.record`). The JSON answer says, per
signal, whether it was recorded, a duplicate, unmatched (with the reason and the id to attach it by), ignored or
rejected, and on which incident and event it landed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.engine import Engine
from agent.errors import DebriefError
from agent.incidents import MAX_TITLE_CHARS, IncidentError, InRoom
from agent.markup import literal
from agent.signals.alertmanager import alertmanager_signals
from agent.signals.events import generic_signals
from agent.signals.github_deployments import GITHUB_EVENTS, github_signals
from agent.signals.pagerduty import Page, pagerduty_signals
from agent.signals.record import Outcome, record_signals
from agent.signals.rules import SignalRules
from agent.signals.signal import Reading, WebhookPayloadError
from agent.signals.unmatched import attach_signal
from agent.signals.verify import bearer_ok, github_signature_ok, pagerduty_signature_ok

log = logging.getLogger(__name__)
PAGERDUTY = "pagerduty"


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer (a JSON body and a status code), and what to say in which room (incidents started)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    announcements: tuple[tuple[str, str], ...] = ()


def receive_alertmanager(
    engine: Engine, rules: SignalRules, secret: str | None, authorization: str, body: bytes
) -> WebhookReply:
    """Alertmanager's (or Grafana's) notification; the secret travels as `Authorization: Bearer <secret>`."""
    if not bearer_ok(secret, authorization):
        return WebhookReply(401, {"error": "missing or wrong bearer token (DEBRIEF_WEBHOOK_SECRET)"})
    return _record(engine, rules, lambda: alertmanager_signals(body, rules))


def receive_github(
    engine: Engine,
    rules: SignalRules,
    secret: str | None,
    event: str,
    signature: str,
    body: bytes,
    content_type: str = "application/json",
) -> WebhookReply:
    """A GitHub delivery (`X-GitHub-Event`), JSON or form-encoded, signed over its raw body (`X-Hub-Signature-256`)."""
    if not github_signature_ok(secret, signature, body):
        return WebhookReply(401, {"error": "missing or wrong X-Hub-Signature-256 (DEBRIEF_WEBHOOK_SECRET)"})
    if not event:
        return WebhookReply(400, {"error": "missing X-GitHub-Event header"})
    if event == "ping":
        return WebhookReply(200, {"ok": "pong"})
    if event not in GITHUB_EVENTS:
        return WebhookReply(202, {"ignored": event, "accepts": list(GITHUB_EVENTS)})
    return _record(engine, rules, lambda: github_signals(event, body, rules, content_type))


def receive_pagerduty(
    engine: Engine,
    rules: SignalRules,
    secrets: tuple[str | None, str | None],
    authorization: str,
    signature: str,
    body: bytes,
) -> WebhookReply:
    """A PagerDuty webhooks V3 delivery, signed with the subscription's secret (`X-PagerDuty-Signature`) or
    carrying DEBRIEF_WEBHOOK_SECRET as a bearer token in a custom header. `secrets` is (webhook, PagerDuty)."""
    webhook_secret, pagerduty_secret = secrets
    signed = pagerduty_signature_ok(pagerduty_secret, signature, body)
    bearer = webhook_secret is not None and bearer_ok(webhook_secret, authorization)
    if (webhook_secret or pagerduty_secret) and not (signed or bearer):
        return WebhookReply(
            401,
            {"error": "missing or wrong X-PagerDuty-Signature (DEBRIEF_PAGERDUTY_SECRET) or bearer token"},
        )
    page: list[Page | None] = [None]

    def read() -> Reading:
        reading, page[0] = pagerduty_signals(body)
        return reading

    reply = _record(engine, rules, read)
    found = page[0]
    if reply.status != 200 or found is None:
        return reply
    return _start_for_page(engine, rules, found, reply)


def receive_events(
    engine: Engine, rules: SignalRules, secret: str | None, authorization: str, body: bytes
) -> WebhookReply:
    """`POST /debrief/events`: generic events (`agent.signals.events`), with the bearer token."""
    if not bearer_ok(secret, authorization):
        return WebhookReply(401, {"error": "missing or wrong bearer token (DEBRIEF_WEBHOOK_SECRET)"})
    return _record(engine, rules, lambda: generic_signals(body))


def _record(engine: Engine, rules: SignalRules, read: Callable[[], Reading]) -> WebhookReply:
    """Record every signal that can be; one that cannot (a time out of range) is reported, not the batch lost."""
    try:
        reading = read()
    except WebhookPayloadError as exc:
        return WebhookReply(400, {"error": str(exc)})
    outcomes = record_signals(engine, rules, reading.signals) if reading.signals else []
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected and len(rejected) == len(outcomes):
        errors = [{"index": o.index, "error": o.reason} for o in rejected]
        return WebhookReply(400, {"error": rejected[0].reason, "rejected": errors})
    return WebhookReply(200, _summary(outcomes, reading))


def _summary(outcomes: list[Outcome], reading: Reading) -> dict[str, Any]:
    def count(status: str) -> int:
        return sum(1 for outcome in outcomes if outcome.status == status)

    ignored = [
        {"index": i.index, "source": i.source, "status": "ignored", "reason": i.reason}
        for i in reading.ignored
    ]
    body: dict[str, Any] = {
        "recorded": count("recorded"),
        "duplicates": count("duplicate"),
        "unmatched": count("unmatched"),
        "ignored": len(reading.ignored),
        "incidents": sorted({o.incident_id for o in outcomes if o.incident_id}, key=_incident_order),
        "signals": [outcome.as_json() for outcome in outcomes] + ignored,
    }
    rejected = [{"index": o.index, "error": o.reason} for o in outcomes if o.status == "rejected"]
    return {**body, "rejected": rejected} if rejected else body


def _incident_order(incident_id: str) -> int:
    return int(incident_id.split("-", 1)[1])


def _start_for_page(engine: Engine, rules: SignalRules, page: Page, reply: WebhookReply) -> WebhookReply:
    """A trigger no open incident took, of a configured priority: start a Debrief incident for it."""
    [outcome] = [o for o in reply.body["signals"] if o.get("source") == page.source] or [{}]
    wanted = "*" in rules.pagerduty_priorities or (page.priority or "").upper() in rules.pagerduty_priorities
    if outcome.get("status") != "unmatched" or not rules.pagerduty_room or not wanted:
        return reply
    room = rules.pagerduty_room
    title = _incident_title(page)
    try:
        incident = engine.incidents.start(room, title, PAGERDUTY, page.at, service=page.service)
        attached = attach_signal(engine, rules, outcome["signal"], incident.id, PAGERDUTY)
    except (
        IncidentError
    ) as exc:  # the room already has an open incident: the page stays unmatched, and is said
        log.warning("PagerDuty %s: no incident started in %s: %s", page.incident_id, room, exc)
        return _page_while_busy(engine, room, page, outcome, reply)
    except DebriefError as exc:
        log.warning("PagerDuty %s: %s", page.incident_id, exc)
        return reply
    outcome.update(status="recorded", incident=incident.id, event=f"E{attached.event_id}")
    outcome.pop("reason", None)
    body = {**reply.body, "recorded": reply.body["recorded"] + 1, "unmatched": reply.body["unmatched"] - 1}
    body["incidents"] = sorted({*body["incidents"], incident.id}, key=_incident_order)
    body["started"] = [{"incident": incident.id, "room": room}]
    # The page's title and priority are PagerDuty's text (one line already): shown as written, never as markup.
    what = literal(page.title or "PagerDuty incident")
    text = (
        f"{incident.id} started from PagerDuty: {what} ({literal(page.priority or 'no priority')}). "
        "An admin names its commander with !incident commander @user."
    )
    return WebhookReply(200, body, ((room, text),))


def _page_while_busy(
    engine: Engine, room: str, page: Page, outcome: dict[str, Any], reply: WebhookReply
) -> WebhookReply:
    """A page that would have started an incident in a room that has one open: the room hears of it (it used to
    wait, unsaid, among the unmatched signals) and how to put it on that incident."""
    try:
        busy = engine.incidents.get(InRoom(room)).id
    except DebriefError:
        return reply
    signal = outcome.get("signal", "")
    text = (
        f"PagerDuty page {literal(page.title or 'PagerDuty incident')} "
        f"({literal(page.priority or 'no priority')}) came in while {busy} is open here, so no incident was "
        f"started for it. It is kept as {signal}: !incident signals attach {signal} puts it on {busy}."
    )
    return WebhookReply(reply.status, reply.body, (*reply.announcements, (room, text)))


def _incident_title(page: Page) -> str:
    """`TITLE (PagerDuty ID)`, the title shortened to fit an incident's (the trigger's event has all of it)."""
    suffix = f" (PagerDuty {page.incident_id})"
    title = page.title or "PagerDuty incident"
    fits = MAX_TITLE_CHARS - len(suffix)
    return (title if len(title) <= fits else title[: fits - 1].rstrip() + "\u2026") + suffix
