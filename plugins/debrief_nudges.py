"""Reminders for open incidents, posted to their room by an Errbot poller; the engine decides and remembers.

`agent.nudges.due_nudges` returns each reminder once (it records what it sent), so neither restarts nor a short
poll interval can flood a room. Intervals and thresholds are this plugin's Errbot configuration:
`!plugin config DebriefNudges {"INTERVAL_SECONDS": 60, "QUIET_AFTER_MINUTES": 30}` (keys may be left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from errbot import BotPlugin, ValidationException

from agent.nudges import NudgeThresholds, due_nudges
from debrief.bot.runtime import UsesRuntime

_DEFAULT_THRESHOLDS = NudgeThresholds()
DEFAULTS: dict[str, float] = {
    "INTERVAL_SECONDS": 60,
    "NO_COMMANDER_AFTER_MINUTES": _DEFAULT_THRESHOLDS.no_commander_after.total_seconds() / 60,
    "NO_SEVERITY_AFTER_MINUTES": _DEFAULT_THRESHOLDS.no_severity_after.total_seconds() / 60,
    "QUIET_AFTER_MINUTES": _DEFAULT_THRESHOLDS.quiet_after.total_seconds() / 60,
}


class DebriefNudges(UsesRuntime, BotPlugin):
    """Remind an incident room of a missing commander or severity, or of a long silence, once each."""

    def get_configuration_template(self) -> dict[str, float]:
        return dict(DEFAULTS)

    def check_configuration(self, configuration: Mapping[str, Any]) -> None:
        """Any subset of the keys; each a positive number."""
        for key, value in configuration.items():
            if key not in DEFAULTS:
                raise ValidationException(f"unknown key {key}; use {', '.join(DEFAULTS)}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValidationException(f"{key} must be a positive number, got {value!r}")

    def configure(self, configuration: Mapping[str, Any] | None) -> None:
        super().configure({**DEFAULTS, **(configuration or {})})

    def activate(self) -> None:
        super().activate()
        if not getattr(self._bot.bot_config, "DEBRIEF_REPLAY", False):  # a replay's clock is the transcript's
            self.start_poller(float(self.config["INTERVAL_SECONDS"]), self.send_nudges)

    def send_nudges(self) -> None:
        """Post every reminder that is due now to its incident's room."""
        for nudge in due_nudges(self.runtime.engine, datetime.now(UTC), self.thresholds()):
            self.send(self.build_identifier(nudge.room), nudge.text)

    def thresholds(self) -> NudgeThresholds:
        return NudgeThresholds(
            no_commander_after=timedelta(minutes=self.config["NO_COMMANDER_AFTER_MINUTES"]),
            no_severity_after=timedelta(minutes=self.config["NO_SEVERITY_AFTER_MINUTES"]),
            quiet_after=timedelta(minutes=self.config["QUIET_AFTER_MINUTES"]),
        )
