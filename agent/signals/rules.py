"""The installation's rules for signals, read once from the settings: which labels name a service and in which
order, which names are aliases of a service, which alerts are heartbeats to ignore, how long before an incident an
alert is only context, and what to do with GitHub's in-between deployment states and PagerDuty's triggers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from agent.settings import Settings

DEFAULT_LABELS = ("service", "app", "app_kubernetes_io_name", "job", "namespace", "deployment")
DEFAULT_IGNORED = ("Watchdog", "DeadMansSwitch", "InfoInhibitor")


@dataclass(frozen=True)
class AlertMatcher:
    """`Watchdog` (an alertname), `severity=none` (a label's value) or `alertname=~Dead.*` (a regex on it)."""

    label: str
    value: str
    regex: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, text: str) -> AlertMatcher:
        label, sep, value = text.partition("=")
        if not sep:
            return cls("alertname", text.strip())
        if value.startswith("~"):
            return cls(label.strip(), value[1:], re.compile(value[1:]))
        return cls(label.strip(), value.strip())

    def matches(self, labels: Mapping[str, str]) -> bool:
        found = labels.get(self.label)
        if found is None:
            return False
        return bool(self.regex.fullmatch(found)) if self.regex else found == self.value

    def __str__(self) -> str:
        if self.regex:
            return f"{self.label}=~{self.value}"
        return self.value if self.label == "alertname" else f"{self.label}={self.value}"


@dataclass(frozen=True)
class SignalRules:
    labels: tuple[str, ...] = DEFAULT_LABELS
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias (lower case) -> service (lower case)
    ignore: tuple[AlertMatcher, ...] = tuple(AlertMatcher.parse(name) for name in DEFAULT_IGNORED)
    pre_incident: timedelta = timedelta(hours=1)
    deploy_progress: str = "event"  # or "drop"
    pagerduty_room: str | None = None
    pagerduty_priorities: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> SignalRules:
        aliases = {
            alias.strip().lower(): name.strip().lower()
            for name, names in settings.service_aliases.items()
            for alias in [name, *names]
        }
        return cls(
            labels=tuple(settings.routing_labels),
            aliases=aliases,
            ignore=tuple(AlertMatcher.parse(text) for text in settings.ignore_alerts),
            pre_incident=timedelta(minutes=settings.pre_incident_minutes),
            deploy_progress=settings.deploy_progress,
            pagerduty_room=(settings.pagerduty_room or "").strip() or None,
            pagerduty_priorities=frozenset(p.upper() for p in settings.pagerduty_priorities),
        )

    def service(self, name: str) -> str:
        """The service a name stands for: itself, or the service it is an alias of (case-insensitive)."""
        key = name.strip().lower()
        return self.aliases.get(key, key)

    def ignored_by(self, labels: Mapping[str, str]) -> AlertMatcher | None:
        return next((matcher for matcher in self.ignore if matcher.matches(labels)), None)

    def routing(self, *label_sets: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """(label, value) for each routing label, in the configured order, from the first set that has it."""
        found: list[tuple[str, str]] = []
        for labels in label_sets:
            for label in self.labels:
                value = (labels.get(label) or "").strip()
                if value and (label, value) not in found:
                    found.append((label, value))
        return tuple(found)
