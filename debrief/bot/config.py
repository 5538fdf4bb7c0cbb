"""Debrief's settings expressed as Errbot's configuration names, for `config.py`, `debrief run` and replay.

Errbot reads its configuration from module attributes; this is the one place that maps our `Settings` onto them,
so the console, the replay and a hand-run `errbot -c config.py` start the same, offline bot.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from agent.errors import DebriefError
from agent.identity import normalise_user
from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PLUGINS_DIR = ROOT / "plugins"
BACKENDS_DIR = ROOT / "backends"
# Errbot's own state (plugin settings, Teams conversation references, ACL data) goes to Debrief's database through
# this storage plugin: every write committed, so a crash cannot leave it unreadable as it can Errbot's Shelf.
STORAGE_PLUGIN, STORAGE_DIR = "DebriefSQL", BACKENDS_DIR / "storage"
# DEBRIEF_BACKEND -> the Errbot backend that serves it (each redacts what it sends) and the folder of its `.plug`.
# "Test" is Errbot's in-memory backend, for `debrief replay` and the tests.
BACKENDS = {
    "Text": ("DebriefText", BACKENDS_DIR / "local"),
    "Test": ("DebriefTest", BACKENDS_DIR / "local"),
    "SlackV3": ("DebriefSlack", BACKENDS_DIR / "slack"),
    "Teams": ("Teams", BACKENDS_DIR / "teams"),
}

# Errbot's core plugins we use. VersionChecker is left out: it calls errbot.io.
CORE_PLUGINS = (
    "ACLs",
    "ChatRoom",
    "CommandNotFoundFilter",
    "Health",
    # Not "Help": Debrief's (plugins/debrief_help.py) shows Debrief's commands first and in full.
    "Plugins",
    "TextCmds",
    "Utils",
    "Webserver",
)

# Bot administration stays with the admins; Debrief's own commands check roles themselves.
ADMIN_ONLY_PLUGINS = ("Plugins", "ChatRoom", "Health", "Webserver")

TEXT_DEFAULT_ADMIN = "@localuser"


class BotConfigError(DebriefError):
    """The bot cannot be configured (no plugins directory, no admin for a chat backend)."""


def plugins_dir() -> Path:
    """The repository's `plugins/` folder, which Errbot loads Debrief's plugins from."""
    if not PLUGINS_DIR.is_dir():
        raise BotConfigError(f"Debrief's plugins folder {PLUGINS_DIR} is missing; run from a source checkout")
    return PLUGINS_DIR


def errbot_config(settings: Settings, backend: str | None = None) -> dict[str, object]:
    """Errbot configuration names and values for `settings` (optionally on another `backend`, e.g. Test)."""
    backend = backend or settings.backend
    admins = errbot_admins(backend, settings.admins) or _default_admins(backend)
    data_dir = settings.data_dir.resolve() / "errbot"
    errbot_backend, backend_dir = BACKENDS.get(backend, (backend, None))
    return {
        "BACKEND": errbot_backend,
        "BOT_IDENTITY": _identity(settings, backend),
        "BOT_DATA_DIR": str(data_dir),
        "BOT_EXTRA_PLUGIN_DIR": str(plugins_dir()),
        "BOT_EXTRA_BACKEND_DIR": [str(backend_dir)] if backend_dir else [],
        "STORAGE": STORAGE_PLUGIN,
        "STORAGE_CONFIG": {"url": settings.database},
        "BOT_EXTRA_STORAGE_PLUGINS_DIR": str(STORAGE_DIR),
        "BOT_ADMINS": admins,
        "BOT_PREFIX": "!",
        "BOT_LOG_LEVEL": logging.INFO,
        "BOT_LOG_FILE": str(data_dir / "errbot.log"),
        "BOT_PLUGIN_INDEXES": (),
        "AUTOINSTALL_DEPS": False,
        "CORE_PLUGINS": CORE_PLUGINS,
        "ACCESS_CONTROLS_DEFAULT": {},
        "ACCESS_CONTROLS": {f"{name}:*": {"allowusers": admins} for name in ADMIN_ONLY_PLUGINS},
        "HIDE_RESTRICTED_COMMANDS": True,
        "DEBRIEF_SETTINGS": settings,
    }


def config_namespace(settings: Settings, backend: str | None = None) -> SimpleNamespace:
    """The configuration as the module-like object Errbot's bootstrap expects; creates the data dir."""
    config = SimpleNamespace(**errbot_config(settings, backend))
    Path(str(config.BOT_DATA_DIR)).mkdir(parents=True, exist_ok=True)
    return config


def errbot_admins(backend: str, admins: list[str]) -> tuple[str, ...]:
    """DEBRIEF_ADMINS as ids, names or @names, in the form each backend's people have for Errbot's own checks:
    `@name` on the Text console, the bare name on the test backend, the platform id (U..., 29:...) on chat."""
    names = [normalise_user(admin) for admin in admins if normalise_user(admin)]
    if backend == "Text":
        return tuple(f"@{name}" for name in names)
    return tuple(names)


def _default_admins(backend: str) -> tuple[str, ...]:
    if backend in ("Text", "Test"):
        return (TEXT_DEFAULT_ADMIN,)
    raise BotConfigError(f"DEBRIEF_ADMINS: Errbot needs at least one admin on the {backend} backend")


def _identity(settings: Settings, backend: str) -> dict[str, object]:
    if backend == "Teams":
        return _teams_identity(settings)
    if backend != "SlackV3":
        return {"username": f"@{settings.bot_name}"}  # the console's prompt and mentions
    secrets = {
        "token": settings.slack_bot_token,
        "app_token": settings.slack_app_token,
        "signing_secret": settings.slack_signing_secret,
    }
    identity: dict[str, object] = {
        name: secret.get_secret_value() for name, secret in secrets.items() if secret is not None
    }
    if settings.slack_api_url:
        identity["api_url"] = settings.slack_api_url
    return identity


def _teams_identity(settings: Settings) -> dict[str, object]:
    """The Teams backend's BOT_IDENTITY (backends/teams); unset keys take Microsoft's public-cloud defaults."""
    if settings.teams_app_id and settings.teams_app_password is None:
        raise BotConfigError("TEAMS_APP_PASSWORD: TEAMS_APP_ID is set but the app's client secret is not")
    password = settings.teams_app_password
    identity: dict[str, object] = {
        "app_id": settings.teams_app_id,
        "app_password": password.get_secret_value() if password else None,
        "tenant_id": settings.teams_tenant_id,
        "token_url": settings.teams_token_url,
        "openid_metadata_urls": list(settings.teams_openid_metadata_url),
        "service_url_hosts": list(settings.teams_service_url_hosts),
        "max_body_bytes": settings.max_body_bytes,
        "key_reaction": settings.teams_key_reaction,
    }
    return {key: value for key, value in identity.items() if value}
