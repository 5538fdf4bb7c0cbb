"""`debrief health`: what this installation is set up to do, checked without touching the network.

One line per check; a failed check makes the command exit non-zero (the container's health check), a warning
does not. The database is opened and its write lock taken; the chat backend's Errbot configuration is built
(admins included); trackers, the LLM and the webhooks are checked as configured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from agent.engine import check_database
from agent.errors import DebriefError, SettingsError
from agent.settings import Settings
from agent.trackers import make_trackers
from debrief.bot.config import BACKENDS, errbot_config

# What a person's id looks like on each chat backend; a name there cannot be told from the id Errbot compares.
# The chat backends Debrief ships (README); "Test" is Errbot's in-memory one, for replays and the tests.
_OURS = ("Text", "SlackV3", "Teams")
_PLATFORM_IDS = {"SlackV3": re.compile(r"^[UW][A-Z0-9]{2,}$"), "Teams": re.compile(r"^\d+:")}


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str

    def line(self) -> str:
        return f"{self.verdict.value:<4}  {self.name:<9}  {self.detail}"


def check_installation(settings: Settings) -> list[Check]:
    return [
        _database(settings),
        _backend(settings),
        _admins(settings),
        _trackers(settings),
        _llm(settings),
        _webhooks(settings),
    ]


def _database(settings: Settings) -> Check:
    try:
        check_database(settings)
    except DebriefError as exc:
        return Check("database", Verdict.FAIL, str(exc))
    return Check("database", Verdict.OK, f"{_safe_url(settings.database)} opens, is current and takes writes")


def check_backend(settings: Settings) -> None:
    """Refuse a DEBRIEF_BACKEND that cannot start, naming the variable: a name no backend has (names are
    case-sensitive, as Errbot reads them), or a chat backend without the credential it connects with.
    `debrief run` says this line before starting Errbot; `debrief health` fails with it."""
    name = settings.backend
    known = backend_names()
    if name not in known:
        same = [other for other in known if other.lower() == name.lower()]
        others = sorted(set(known) - {*_OURS, "Test"})
        hint = (
            f"names are case-sensitive: use {same[0]}"
            if same
            else f"use Text, SlackV3 or Teams (or an installed Errbot backend: {', '.join(others) or 'none'})"
        )
        raise SettingsError("DEBRIEF_BACKEND", f"DEBRIEF_BACKEND: unknown backend {name!r}; {hint}")
    if name == "SlackV3" and not _secret(settings.slack_bot_token):
        raise SettingsError(
            "SLACK_BOT_TOKEN",
            "SLACK_BOT_TOKEN is not set: the SlackV3 backend connects with the Slack app's bot token (xoxb-..., "
            "on its OAuth & Permissions page)",
        )


def backend_names() -> list[str]:
    """Debrief's backends and the Errbot backends installed (Errbot's own, and packages that register one)."""
    from errbot.backend_plugin_manager import enumerate_backend_plugins
    from errbot.bootstrap import CORE_BACKENDS
    from errbot.utils import collect_roots, entry_point_plugins

    roots = collect_roots((CORE_BACKENDS, entry_point_plugins(group="errbot.backend_plugins")))
    return list(dict.fromkeys([*BACKENDS, *(str(plug.name) for plug in enumerate_backend_plugins(roots))]))


def _secret(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())


def _backend(settings: Settings) -> Check:
    try:
        check_backend(settings)
        config = errbot_config(settings)
    except DebriefError as exc:
        return Check("backend", Verdict.FAIL, str(exc))
    line = f"{settings.backend} (Errbot backend {config['BACKEND']})"
    if settings.backend == "SlackV3" and not (
        _secret(settings.slack_app_token) or _secret(settings.slack_signing_secret)
    ):
        return Check(
            "backend",
            Verdict.WARN,
            f"{line}: no SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (Events API), so only a "
            "classic Slack app can connect",
        )
    if settings.backend == "Teams" and not settings.teams_app_id:
        return Check("backend", Verdict.WARN, f"{line}: no TEAMS_APP_ID, so requests are not authenticated")
    return Check("backend", Verdict.OK, line)


def _admins(settings: Settings) -> Check:
    if not settings.admins:
        verdict = Verdict.OK if settings.backend in ("Text", "Test") else Verdict.FAIL
        return Check("admins", verdict, "none set (the console's local user is its admin)")
    shape = _PLATFORM_IDS.get(settings.backend)
    names = ", ".join(settings.admins)
    if shape is not None and not all(shape.match(admin.strip().lstrip("@")) for admin in settings.admins):
        return Check(
            "admins", Verdict.WARN, f"{names}: on {settings.backend} give user ids (`!whoami` shows one)"
        )
    return Check("admins", Verdict.OK, names)


def _trackers(settings: Settings) -> Check:
    if not settings.trackers:
        return Check("trackers", Verdict.OK, "none: action items are kept, not filed")
    try:
        built = make_trackers(settings)
    except DebriefError as exc:
        return Check("trackers", Verdict.FAIL, str(exc))
    for tracker in built:
        tracker.close()
    return Check("trackers", Verdict.OK, ", ".join(settings.trackers) + " configured (not contacted)")


def _llm(settings: Settings) -> Check:
    if not settings.llm_enabled:
        return Check("llm", Verdict.OK, "none: answers from retrieval, postmortems from the template")
    where = settings.openai_base_url or "OpenAI"
    return Check("llm", Verdict.OK, f"{settings.llm_model} at {where}, {settings.llm_timeout_s:g} s timeout")


def _webhooks(settings: Settings) -> Check:
    port = settings.http_port
    if settings.webhook_secret is None:
        verdict = Verdict.OK if settings.backend in ("Text", "Test") else Verdict.WARN
        return Check(
            "webhooks", verdict, f"port {port}, no DEBRIEF_WEBHOOK_SECRET: anyone who reaches it can post"
        )
    return Check("webhooks", Verdict.OK, f"port {port}, DEBRIEF_WEBHOOK_SECRET required")


def _safe_url(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
