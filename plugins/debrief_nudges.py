"""Reminders posted to incident rooms by an Errbot poller; the engine decides and remembers.

Open incidents without a commander, a severity or news (`agent.nudges`), and action items past their due date:
one reminder to the owner, and one escalation to the commander `OVERDUE_ESCALATE_AFTER_DAYS` after it if the
item is still open (`agent.followup`). Each is returned once (the engine records what it sent), so neither
restarts nor a short poll interval can flood a room. Intervals and thresholds are this plugin's Errbot
configuration: `!plugin config DebriefNudges {"INTERVAL_SECONDS": 60, "OVERDUE_ESCALATE_AFTER_DAYS": 3}` (keys
may be left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from errbot import BotPlugin, ValidationException

from agent.followup import FollowUpPolicy, due_followups
from agent.nudges import NudgeThresholds, due_nudges
from debrief.bot.runtime import UsesRuntime

_DEFAULT_THRESHOLDS = NudgeThresholds()
_DEFAULT_FOLLOW_UP = FollowUpPolicy()
DEFAULTS: dict[str, float] = {
    "INTERVAL_SECONDS": 60,
    "NO_COMMANDER_AFTER_MINUTES": _DEFAULT_THRESHOLDS.no_commander_after.total_seconds() / 60,
    "NO_SEVERITY_AFTER_MINUTES": _DEFAULT_THRESHOLDS.no_severity_after.total_seconds() / 60,
    "QUIET_AFTER_MINUTES": _DEFAULT_THRESHOLDS.quiet_after.total_seconds() / 60,
    "OVERDUE_ESCALATE_AFTER_DAYS": _DEFAULT_FOLLOW_UP.escalate_after.total_seconds() / 86400,
}


class DebriefNudges(UsesRuntime, BotPlugin):
    """Remind an incident room of a missing commander or severity, a long silence, or an overdue action item."""

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
        now, engine = datetime.now(UTC), self.runtime.engine
        nudges = due_nudges(engine, now, self.thresholds())
        nudges += due_followups(engine, now, self.follow_up(), self.runtime.settings)
        for nudge in nudges:
            self.send(self.build_identifier(nudge.room), nudge.text)

    def follow_up(self) -> FollowUpPolicy:
        return FollowUpPolicy(escalate_after=timedelta(days=self.config["OVERDUE_ESCALATE_AFTER_DAYS"]))

    def thresholds(self) -> NudgeThresholds:
        return NudgeThresholds(
            no_commander_after=timedelta(minutes=self.config["NO_COMMANDER_AFTER_MINUTES"]),
            no_severity_after=timedelta(minutes=self.config["NO_SEVERITY_AFTER_MINUTES"]),
            quiet_after=timedelta(minutes=self.config["QUIET_AFTER_MINUTES"]),
        )
