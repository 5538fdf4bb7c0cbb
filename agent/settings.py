"""Every setting Debrief reads, in one object (DESIGN.md §3.4).

Settings are read once at start (`load_settings`) and passed down; nothing else reads the
environment. A wrong value stops start-up with one line that names the variable.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent.errors import SettingsError

TRACKER_NAMES = ("jira", "github")
# The postmortem's free-text sections (agent/postmortem/sections.py), as DEBRIEF_REQUIRED_SECTIONS names them.
POSTMORTEM_SECTIONS = ("summary", "impact", "root-cause", "factors", "well", "poorly", "detection", "lessons")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_http_url(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{name} must be an http(s) URL with a host, got {value!r}")
    return value.rstrip("/")


class Settings(BaseSettings):
    """Debrief's configuration; field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, case_sensitive=False, frozen=True
    )

    data_dir: Path = Field(Path("data"), alias="DEBRIEF_DATA_DIR")
    knowledge_dir: Path = Field(Path("knowledge"), alias="DEBRIEF_KNOWLEDGE_DIR")
    backend: str = Field("Text", alias="DEBRIEF_BACKEND")
    # How people mention the bot (`@debrief`) where the platform does not say (the console, plain text).
    bot_name: str = Field("debrief", alias="DEBRIEF_BOT_NAME", pattern=r"^[A-Za-z0-9][\w.-]{0,40}$")
    database_url: str | None = Field(None, alias="DEBRIEF_DATABASE_URL")
    # Where `debrief replay` keeps what it replays; unset: a fresh temporary dir each time (never the live data).
    replay_data_dir: Path | None = Field(None, alias="DEBRIEF_REPLAY_DATA_DIR")
    # Seconds a writer waits for SQLite's write lock (another process filing, a backup) before giving up.
    database_lock_timeout_s: float = Field(30.0, alias="DEBRIEF_DB_LOCK_TIMEOUT", gt=0)

    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", alias="DEBRIEF_LLM_MODEL")
    llm_timeout_s: float = Field(30.0, alias="DEBRIEF_LLM_TIMEOUT", gt=0)
    embeddings: Literal["local", "openai"] = Field("local", alias="DEBRIEF_EMBEDDINGS")
    embeddings_model: str = Field("text-embedding-3-small", alias="DEBRIEF_EMBEDDINGS_MODEL")
    # The local embedder's weights: int8 (default: faster, BENCHMARKS.md) or fp32 (sentence-transformers' vectors).
    embeddings_precision: Literal["int8", "fp32"] = Field("int8", alias="DEBRIEF_EMBEDDINGS_PRECISION")

    chroma_host: str | None = Field(None, alias="CHROMA_HOST")
    chroma_port: int = Field(8000, alias="CHROMA_PORT", ge=1, le=65535)
    # The start of the collection's name (the embedder's name follows): two Debriefs can share one Chroma server.
    chroma_collection: str = Field(
        "debrief", alias="DEBRIEF_CHROMA_COLLECTION", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,100}$"
    )

    jira_url: str | None = Field(None, alias="JIRA_URL")
    jira_user: str | None = Field(None, alias="JIRA_USER")
    jira_api_token: SecretStr | None = Field(None, alias="JIRA_API_TOKEN")
    jira_project: str | None = Field(None, alias="JIRA_PROJECT")
    github_token: SecretStr | None = Field(None, alias="GITHUB_TOKEN")
    github_repository: str | None = Field(None, alias="GITHUB_REPOSITORY")
    github_api_url: str = Field("https://api.github.com", alias="GITHUB_API_URL")
    trackers: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="DEBRIEF_TRACKERS")
    auto_file: bool = Field(False, alias="DEBRIEF_AUTO_FILE")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    teams_app_id: str | None = Field(None, alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(None, alias="TEAMS_APP_PASSWORD")
    # Single-tenant Azure Bot: its Entra tenant (token endpoint and accepted Entra issuers).
    teams_tenant_id: str | None = Field(None, alias="TEAMS_TENANT_ID")
    # Defaults are Microsoft's public cloud; set for sovereign clouds (and the tests' fake connector).
    teams_token_url: str | None = Field(None, alias="TEAMS_TOKEN_URL")
    teams_openid_metadata_url: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="TEAMS_OPENID_METADATA_URL"
    )
    # Hosts an activity's serviceUrl may name, so the bot's token goes nowhere else; replaces Microsoft's defaults.
    teams_service_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="TEAMS_SERVICE_URL_HOSTS"
    )
    http_port: int = Field(3978, alias="DEBRIEF_HTTP_PORT", ge=1, le=65535)
    # The largest request body the HTTP port reads (Teams' /api/messages), in bytes; larger ones get 413.
    max_body_bytes: int = Field(1_000_000, alias="DEBRIEF_MAX_BODY_BYTES", gt=0)
    # Seconds a client of the HTTP port has to send its request (headers and body) once connected, however it spaces
    # its bytes; a slower or idle connection is closed, so trickling clients cannot hold the server's threads.
    http_timeout_s: float = Field(30.0, alias="DEBRIEF_HTTP_TIMEOUT", gt=0)
    # Connections the HTTP port serves at once; more get 503 and are closed at once, without a thread of their own.
    http_max_connections: int = Field(100, alias="DEBRIEF_HTTP_MAX_CONNECTIONS", ge=1)
    webhook_secret: SecretStr | None = Field(None, alias="DEBRIEF_WEBHOOK_SECRET")
    # Signals (agent/signals): which labels name an alert's service, in order; alert matchers to ignore (a bare name
    # is an alertname, `label=value` and `label=~regex` match labels); service aliases `name=alias|alias,...`.
    routing_labels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "service",
            "app",
            "app_kubernetes_io_name",
            "job",
            "namespace",
            "deployment",
        ],
        alias="DEBRIEF_ROUTING_LABELS",
    )
    ignore_alerts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Watchdog", "DeadMansSwitch", "InfoInhibitor"], alias="DEBRIEF_IGNORE_ALERTS"
    )
    service_aliases: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict, alias="DEBRIEF_SERVICE_ALIASES"
    )
    # An alert that started this many minutes before its incident is pre-incident context, not the detection.
    pre_incident_minutes: float = Field(60.0, alias="DEBRIEF_PRE_INCIDENT_MINUTES", ge=0)
    # GitHub deployment statuses queued, pending, in_progress, inactive: `event` (an ordinary event) or `drop`.
    deploy_progress: Literal["event", "drop"] = Field("event", alias="DEBRIEF_DEPLOY_PROGRESS")
    # PagerDuty webhooks V3: the subscription's signing secret (X-PagerDuty-Signature); triggers of these
    # priorities start a Debrief incident in this room when no open incident takes them.
    pagerduty_secret: SecretStr | None = Field(None, alias="DEBRIEF_PAGERDUTY_SECRET")
    pagerduty_room: str | None = Field(None, alias="DEBRIEF_PAGERDUTY_ROOM")
    pagerduty_priorities: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="DEBRIEF_PAGERDUTY_PRIORITIES"
    )
    # The Teams reaction (like, heart, laugh, surprised, sad, angry) that marks a message as a key event; empty: none.
    teams_key_reaction: str = Field("heart", alias="DEBRIEF_TEAMS_KEY_REACTION")
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="DEBRIEF_ADMINS")
    # Redact e-mail addresses (`[REDACTED:email]`) in everything that leaves the process, the database included.
    # Off by default: incident chat names people and on-call aliases by address, and tickets need them.
    redact_emails: bool = Field(False, alias="DEBRIEF_REDACT_EMAILS")
    # Load the embedding model and the knowledge index when the bot starts, so the first question is answered as
    # fast as the tenth; off leaves it to the first question (less memory until someone asks).
    warm_up: bool = Field(True, alias="DEBRIEF_WARM_UP")
    # The bot checks the knowledge dir for edits before a question when its last check is older than this: an
    # edited runbook is answered from without a restart. 0: only at start.
    knowledge_refresh_seconds: float = Field(60.0, ge=0, alias="DEBRIEF_KNOWLEDGE_REFRESH_SECONDS")
    # Postmortem sections that must have text before it is published (`none`: no section is required).
    required_sections: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["summary", "impact", "root-cause"], alias="DEBRIEF_REQUIRED_SECTIONS"
    )

    @field_validator(
        "trackers",
        "admins",
        "teams_openid_metadata_url",
        "routing_labels",
        "ignore_alerts",
        "pagerduty_priorities",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("required_sections", mode="before")
    @classmethod
    def _section_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("required_sections")
    @classmethod
    def _known_sections(cls, value: list[str]) -> list[str]:
        names = [name.lower() for name in value if name.lower() != "none"]
        unknown = [name for name in names if name not in POSTMORTEM_SECTIONS]
        if unknown:
            raise ValueError(f"unknown section {unknown[0]!r}; use {', '.join(POSTMORTEM_SECTIONS)} or none")
        return list(dict.fromkeys(names))

    @field_validator("service_aliases", mode="before")
    @classmethod
    def _aliases(cls, value: object) -> object:
        """`checkout=checkout-api|acme/checkout,search=search-api` -> {"checkout": ["checkout-api", ...], ...}."""
        if not isinstance(value, str):
            return value
        aliases: dict[str, list[str]] = {}
        for entry in (part.strip() for part in value.split(",")):
            if not entry:
                continue
            name, sep, rest = entry.partition("=")
            names = [alias.strip() for alias in rest.split("|") if alias.strip()]
            if not sep or not name.strip() or not names:
                raise ValueError(f"entries look like service=alias|alias, got {entry!r}")
            aliases.setdefault(name.strip(), []).extend(names)
        return aliases

    @field_validator("trackers")
    @classmethod
    def _known_trackers(cls, value: list[str]) -> list[str]:
        names = [name.lower() for name in value if name.lower() != "none"]
        unknown = [name for name in names if name not in TRACKER_NAMES]
        if unknown:
            raise ValueError(f"unknown tracker {unknown[0]!r}; use jira, github or none")
        return names

    @field_validator(
        "openai_base_url", "jira_url", "github_api_url", "slack_api_url", "teams_token_url", mode="after"
    )
    @classmethod
    def _urls(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.field_name or "URL"
        return _check_http_url(_ALIASES.get(name, name), value)

    @field_validator("teams_openid_metadata_url", mode="after")
    @classmethod
    def _url_list(cls, value: list[str]) -> list[str]:
        return [url for url in (_check_http_url("TEAMS_OPENID_METADATA_URL", item) for item in value) if url]

    @field_validator("teams_service_url_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("teams_service_url_hosts", mode="after")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        """Host names (`*.` and a domain for any host under it), without scheme, path or port."""
        for host in value:
            if any(c in host for c in "/@ ") or host.count(":") == 1 or host.endswith("."):
                raise ValueError(
                    f"must be host names like smba.trafficmanager.net or *.botframework.com, got {host!r}"
                )
        return [host.lower() for host in value]

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+")):
            raise ValueError(f"must start with sqlite:// or postgresql://, got {value.split(':')[0]!r}")
        return value or None

    @field_validator("github_repository")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value and (value.count("/") != 1 or not all(value.split("/"))):
            raise ValueError(f"must be owner/name, got {value!r}")
        return value or None

    @model_validator(mode="after")
    def _dependent_settings(self) -> Settings:
        required = {
            "jira": ("jira_url", "jira_user", "jira_api_token", "jira_project"),
            "github": ("github_token", "github_repository"),
        }
        for tracker in self.trackers:
            for field in required[tracker]:
                if not getattr(self, field):
                    raise SettingsError(
                        _ALIASES[field], f"DEBRIEF_TRACKERS names {tracker} but {_ALIASES[field]} is not set"
                    )
        if self.embeddings == "openai" and not self.openai_api_key:
            raise SettingsError("OPENAI_API_KEY", "DEBRIEF_EMBEDDINGS=openai needs OPENAI_API_KEY")
        return self

    @property
    def database(self) -> str:
        """The SQLAlchemy URL: the configured one, else SQLite in the data dir."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'debrief.db').resolve()}"

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


_ALIASES = {name: str(field.alias) for name, field in Settings.model_fields.items()}


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`) once; raise `SettingsError` naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsError:
        raise
    except ValidationError as exc:
        raise _first_error(exc) from None
    except UnicodeDecodeError:
        raise _dotenv_error(overrides.get("_env_file", Settings.model_config.get("env_file"))) from None


def _dotenv_error(env_file: object) -> SettingsError:
    """The `.env` that is not UTF-8, named with the line and column of its first byte that is not."""
    path = Path(str(env_file or ".env"))
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except OSError as exc:
        return SettingsError(".env", f"{path}: cannot read it ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return SettingsError(
            ".env",
            f"{path.resolve()}: line {line}, column {column} is not UTF-8 (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8",
        )
    return SettingsError(".env", f"{path.resolve()}: it is not UTF-8; save the file as UTF-8")


def _first_error(exc: ValidationError) -> SettingsError:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    variable = _ALIASES.get(field, field)
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, SettingsError):
        return cause
    message = str(cause) if cause else error["msg"]
    return SettingsError(variable, f"{variable}: {message}")


def check_services(settings: Settings, timeout_s: float = 3.0) -> None:
    """Fail fast on configured servers that cannot be reached (today: the Chroma server)."""
    if settings.chroma_host:
        try:
            with socket.create_connection((settings.chroma_host, settings.chroma_port), timeout=timeout_s):
                pass
        except OSError as exc:
            raise SettingsError(
                "CHROMA_HOST",
                f"CHROMA_HOST: cannot reach Chroma at {settings.chroma_host}:{settings.chroma_port} ({exc})",
            ) from None
