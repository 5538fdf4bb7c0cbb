"""The Teams backend's configuration: Errbot's `BOT_IDENTITY` for `BACKEND = "Teams"`, with Microsoft's defaults.

`debrief.errbot_config` fills `BOT_IDENTITY` from TEAMS_* settings; a hand-written Errbot `config.py` can set the
same keys. Without an app id the backend runs unauthenticated (local testing only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from microsoft_agents.hosting.core import AuthenticationConstants

from agent.errors import DebriefError
from backends.request_body import MAX_BODY_BYTES
from backends.teams.service_urls import DEFAULT_HOSTS

# Multi-tenant bots get their token from the botframework.com tenant; single-tenant bots from their own.
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MULTI_TENANT = "botframework.com"
BOT_FRAMEWORK_METADATA_URL = AuthenticationConstants.PUBLIC_ABS_OPENID_METADATA_URL
ENTRA_METADATA_URL = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"


class TeamsConfigError(DebriefError):
    """The Teams backend cannot start with this configuration."""


@dataclass(frozen=True)
class TeamsConfig:
    app_id: str | None
    app_password: str | None
    tenant_id: str | None
    token_url: str
    openid_metadata_urls: tuple[str, ...]
    service_url_hosts: tuple[str, ...] = DEFAULT_HOSTS
    max_body_bytes: int = MAX_BODY_BYTES
    key_reaction: str | None = None  # the reaction type (like, heart, ...) that marks a message key

    @property
    def authenticated(self) -> bool:
        """Inbound tokens are checked and replies carry a bot token only when an app id is configured."""
        return bool(self.app_id)

    @property
    def bot_id(self) -> str:
        """The bot's account id in Teams activities (`28:` + app id)."""
        return f"28:{self.app_id or 'debrief'}"

    @classmethod
    def from_identity(cls, identity: Mapping[str, object]) -> TeamsConfig:
        """Read `BOT_IDENTITY`; its keys are the fields' names, and unset ones take Microsoft's defaults."""
        app_id = _text(identity, "app_id")
        password = _text(identity, "app_password")
        if app_id and not password:
            raise TeamsConfigError("TEAMS_APP_PASSWORD: the Teams app id is set but its client secret is not")
        tenant = _text(identity, "tenant_id")
        return cls(
            app_id=app_id,
            app_password=password,
            tenant_id=tenant,
            token_url=_text(identity, "token_url") or TOKEN_URL.format(tenant=tenant or MULTI_TENANT),
            openid_metadata_urls=_texts(identity, "openid_metadata_urls") or default_metadata_urls(tenant),
            service_url_hosts=_texts(identity, "service_url_hosts") or DEFAULT_HOSTS,
            max_body_bytes=_positive(identity, "max_body_bytes") or MAX_BODY_BYTES,
            key_reaction=(_text(identity, "key_reaction") or "").strip().lower() or None,
        )


def default_metadata_urls(tenant_id: str | None) -> tuple[str, ...]:
    """Bot Framework's keys (tokens from the Bot Connector) and Entra ID's (tokens Entra issued for the bot)."""
    return (BOT_FRAMEWORK_METADATA_URL, ENTRA_METADATA_URL.format(tenant=tenant_id or "common"))


def _texts(identity: Mapping[str, object], key: str) -> tuple[str, ...]:
    values = identity.get(key) or ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TeamsConfigError(f"{key} must be a list")
    return tuple(str(value) for value in values)


def _positive(identity: Mapping[str, object], key: str) -> int | None:
    value = identity.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TeamsConfigError(f"{key} must be a positive number of bytes, got {value!r}")
    return value


def _text(identity: Mapping[str, object], key: str) -> str | None:
    value = identity.get(key)
    return str(value) if value else None
