"""Alertmanager's webhook (payload version 4), which Grafana's alerting also speaks, read into signals."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from agent.models import EventKind
from agent.signals.signal import Signal, parse_payload

# Alertmanager sends this as endsAt while an alert still fires.
_NEVER = 1


class _Alert(BaseModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    fingerprint: str = ""


class _AlertmanagerPayload(BaseModel):
    alerts: list[_Alert] = Field(min_length=1)


def alertmanager_signals(body: bytes) -> list[Signal]:
    """One signal per alert in an Alertmanager (v4) webhook notification."""
    payload = parse_payload(_AlertmanagerPayload, body)
    return [_alert_signal(alert) for alert in payload.alerts]


def _alert_signal(alert: _Alert) -> Signal:
    name = alert.labels.get("alertname", "alert")
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    ended = alert.endsAt if alert.endsAt and alert.endsAt.year > _NEVER else None
    at = ended if alert.status == "resolved" and ended else alert.startsAt
    key = alert.fingerprint or name
    return Signal(
        service=alert.labels.get("service"),
        at=at,
        author="alertmanager",
        text=f"Alert {alert.status}: {name}" + (f": {summary}" if summary else ""),
        kind=EventKind.ALERT,
        source=f"alertmanager:{key}:{alert.status}:{at.isoformat()}",
    )
