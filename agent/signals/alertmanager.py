"""Alertmanager's webhook (payload version 4), which Grafana's alerting also speaks, read into signals.

- An alert is known by its `fingerprint`, else (senders that leave it out) by a stable hash of its sorted labels,
  and its `startsAt` in UTC (whatever offset the sender wrote it in), so a group of N alerts gives N signals and a
  redelivery gives the same N again (recorded once). A fingerprint too long to keep is known by its hash.
- A resolved alert follows its firing (same alert, same `startsAt`) and says how long it fired; it is at its
  `endsAt`, or, when the sender gives none, at the time it arrived (never at `startsAt`, where it would pass for
  the firing: the incident's start or its detection).
- `truncatedAlerts` (Alertmanager's `max_alerts`) becomes one signal saying how many alerts were not sent.
- The text is the `summary`, `description` or `message` annotation, else the labels.
- Heartbeat alerts (`SignalRules.ignore`: Watchdog, DeadMansSwitch, InfoInhibitor by default) are set aside.
- An alert without its own `status` (some senders) has its notification's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from agent.models import EventKind
from agent.signals.rules import SignalRules
from agent.signals.signal import Ignored, Reading, Signal, bounded_id, parse_payload, utc_text

Status = Literal["firing", "resolved"]
# Alertmanager sends this as endsAt while an alert still fires.
_NEVER = 1
_TEXT_ANNOTATIONS = ("summary", "description", "message")


class _Alert(BaseModel):
    status: Status | None = None
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    fingerprint: str = ""


class _Notification(BaseModel):
    status: Status | None = None
    alerts: list[_Alert] = Field(min_length=1)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    groupKey: str = ""
    truncatedAlerts: int = Field(0, ge=0)
    # Grafana's additions to the format; their presence says who sent it.
    orgId: int | None = None
    state: str | None = None


def alertmanager_signals(
    body: bytes, rules: SignalRules | None = None, now: datetime | None = None
) -> Reading:
    """One signal per alert in an Alertmanager (v4) or Grafana webhook notification (that arrived `now`),
    heartbeats set aside."""
    rules = rules or SignalRules()
    payload = parse_payload(_Notification, body)
    sender = "grafana" if payload.orgId is not None or payload.state is not None else "alertmanager"
    arrived = now or datetime.now(UTC)
    signals: list[Signal] = []
    ignored: list[Ignored] = []
    for index, alert in enumerate(payload.alerts):
        signal = _alert_signal(sender, alert, payload, rules, arrived)
        heartbeat = rules.ignored_by(alert.labels)
        if heartbeat is not None:
            ignored.append(
                Ignored(index, signal.source, f"heartbeat alert ({heartbeat}, DEBRIEF_IGNORE_ALERTS)")
            )
        else:
            signals.append(signal)
    if payload.truncatedAlerts and signals:
        signals.append(_truncated_signal(sender, payload, signals, rules))
    return Reading(signals, ignored)


def alert_identity(alert: _Alert) -> str:
    """The alert's fingerprint (bounded: `bounded_id`), else the first 16 hex digits of a hash of its sorted
    labels."""
    if alert.fingerprint:
        return bounded_id(alert.fingerprint)
    canonical = json.dumps(sorted(alert.labels.items()), ensure_ascii=False, separators=(",", ":"))
    return "labels-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _alert_signal(
    sender: str, alert: _Alert, payload: _Notification, rules: SignalRules, arrived: datetime
) -> Signal:
    status = alert.status or payload.status or "firing"
    started = alert.startsAt
    ended = alert.endsAt if alert.endsAt and alert.endsAt.year > _NEVER else None
    thread = f"{sender}:{alert_identity(alert)}:{utc_text(started)}"
    name = alert.labels.get("alertname", "alert")
    about = f"{name}: {_description(alert)}"
    if status == "firing":
        at, text, follows = started, f"Alert firing: {about}", None
    else:
        at = ended or arrived
        took = f" after {_duration(started, ended)}" if ended else " (its end time was not sent)"
        text, follows = f"Alert resolved{took}: {about}", f"{thread}:firing"
    return Signal(
        at=at,
        author=sender,
        text=text,
        kind=EventKind.ALERT,
        source=f"{thread}:{status}",
        routing=rules.routing(alert.labels, payload.commonLabels),
        thread=thread,
        follows=follows,
    )


def _truncated_signal(sender: str, payload: _Notification, sent: list[Signal], rules: SignalRules) -> Signal:
    group = (
        ", ".join(f"{k}={v}" for k, v in sorted(payload.groupLabels.items())) or payload.groupKey or "group"
    )
    digest = hashlib.sha256("\n".join(sorted(s.source for s in sent)).encode()).hexdigest()[:16]
    count = payload.truncatedAlerts
    noun = "alert was" if count == 1 else "alerts were"
    return Signal(
        at=max(signal.at for signal in sent),
        author=sender,
        text=f"{count} more {noun} not sent ({group}; Alertmanager's max_alerts)",
        kind=EventKind.ALERT,
        source=f"{sender}:truncated:{digest}",
        routing=_merged(rules.routing(payload.commonLabels, payload.groupLabels), *(s.routing for s in sent)),
    )


def _merged(*routings: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The group's own routing labels, then those of the alerts that were sent (where the group went)."""
    found: list[tuple[str, str]] = []
    for pair in (pair for routing in routings for pair in routing):
        if pair not in found:
            found.append(pair)
    return tuple(found)


def _description(alert: _Alert) -> str:
    for name in _TEXT_ANNOTATIONS:
        text = alert.annotations.get(name, "").strip()
        if text:
            return text
    labels = [f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname"]
    return ", ".join(labels) or "no summary, description or labels"


def _duration(start: datetime, end: datetime) -> str:
    seconds = max(0, int((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or hours else []
    return " ".join([*parts, f"{seconds}s"])
