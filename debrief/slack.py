"""Slack specifics the SlackV3 backend lacks: API base URL, rate limits, refusals, people in commands, threads.

errbot-backend-slackv3 has no base-URL setting: `serve_once` builds its `WebClient` (and, for classic apps, an
`RTMClient`) from the names its module imported from slack_sdk. `prepare_slack` swaps those names, in the loaded
backend module only, for subclasses with Debrief's defaults: `base_url` = SLACK_API_URL when it is set (GovSlack:
https://slack-gov.com/api/), and a retry on HTTP 429 after Slack's Retry-After. Every other Slack client the
backend uses is built on that `WebClient`: the Socket Mode client asks it for `apps.connections.open`, so the
websocket URL comes from the same API, and users and rooms are looked up through it. The Events API adapter is
swapped the same way so that forged requests are refused quietly.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from agent.errors import DebriefError
from agent.settings import Settings

SLACK_BACKEND = "SlackV3"
log = logging.getLogger(__name__)
# The backend acknowledges a Socket Mode event before handling it: a reply or lookup that failed on a rate limit
# would be lost, so each call waits out Retry-After this many times before giving up.
RATE_LIMIT_RETRIES = 3
SLACK_MENTION = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>")


class SlackSetupError(DebriefError):
    """The installed Slack backend cannot be configured (not installed, or an unexpected version)."""


def slack_backend_dir() -> Path:
    """The folder holding `slackv3.plug`, for Errbot's BOT_EXTRA_BACKEND_DIR (found without importing it)."""
    spec = importlib.util.find_spec("slackv3")
    if spec is None or spec.origin is None:
        raise SlackSetupError("errbot-backend-slackv3 is not installed; pip install errbot-backend-slackv3")
    return Path(spec.origin).parent


def prepare_slack(bot: object, settings: Settings) -> None:
    """Before `serve_forever` (where the backend connects): configure its clients and thread replies."""
    if settings.backend != SLACK_BACKEND:
        return
    configure_clients(sys.modules[type(bot).__module__], settings.slack_api_url)
    commands_name_people_plainly(bot)
    reply_in_thread_roots(bot)


def configure_clients(backend_module: ModuleType, api_url: str | None) -> None:
    """The Slack clients `backend_module` builds talk to `api_url` (default slack.com) and wait out rate limits."""
    from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
    from slack_sdk.rtm_v2 import RTMClient
    from slack_sdk.web import WebClient
    from slackeventsapi import SlackEventAdapter

    base_url = {"base_url": api_url.rstrip("/") + "/"} if api_url else {}

    def web_defaults() -> dict[str, Any]:
        retries = [
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ]
        return {**base_url, "retry_handlers": retries}

    _replace(backend_module, "WebClient", WebClient, web_defaults)
    _replace(backend_module, "RTMClient", RTMClient, lambda: dict(base_url))
    _replace(backend_module, "SlackEventAdapter", SlackEventAdapter, dict, _refuse_quietly)


def _refuse_quietly(adapter: Any) -> None:
    """Events API: a request with a bad signature or timestamp gets a 403 and one log line.

    slackeventsapi emits such refusals as an "error" event; with nobody listening the emitter raises, and the
    forger would get a 500 and fill the log with tracebacks.
    """
    adapter.on("error", lambda exc: log.warning("Refused a Slack Events API request: %s", exc))


def _replace(
    module: ModuleType,
    name: str,
    client: type[Any],
    defaults: Callable[[], dict[str, Any]],
    then: Callable[[Any], None] | None = None,
) -> None:
    """Swap `module.<name>` (a `client` class) for a subclass that takes `defaults()`, then runs `then`."""
    current = getattr(module, name, None)
    if not (isinstance(current, type) and issubclass(current, client)):
        raise SlackSetupError(
            f"the Slack backend {module.__name__} does not use {client.__module__}.{name}; "
            "this errbot-backend-slackv3 version is not supported (use 0.3.2)"
        )

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for key, value in defaults().items():
            kwargs.setdefault(key, value)
        base: Any = current
        base.__init__(self, *args, **kwargs)
        if then is not None:
            then(self)

    setattr(module, name, type(name, (current,), {"__init__": __init__, "__module__": __name__}))


def commands_name_people_plainly(bot: object) -> None:
    """In a command, Slack's `<@U123>` (what `@bob` becomes when typed) reads `@U123`, as on every other backend.

    Commands take people as `@user` (`!incident commander @bob`, `!action add ... @bob`); the person a message
    comes from is already their Slack id (`U123`), so the two compare equal. Other messages keep Slack's markup.
    """
    receive = getattr(bot, "callback_message")  # noqa: B009
    prefix = str(getattr(getattr(bot, "bot_config", None), "BOT_PREFIX", "!"))

    def callback_message(msg: Any) -> Any:
        if isinstance(msg.body, str) and msg.body.startswith(prefix):
            msg.body = plain_mentions(msg.body)
        return receive(msg)

    setattr(bot, "callback_message", callback_message)  # noqa: B010


def plain_mentions(text: str) -> str:
    """`<@U123>` and `<@U123|bob>` -> `@U123`."""
    return SLACK_MENTION.sub(lambda match: "@" + match[1], text)


def reply_in_thread_roots(bot: object) -> None:
    """A reply to a message inside a thread goes to that thread's root `ts`, as Slack asks (`thread_ts`).

    The backend threads a reply under its parent's own `ts`; for a question asked inside a thread that is a
    reply's `ts`, which Slack's `chat.postMessage` documents as not to be used. Replies outside threads are
    unchanged: the backend threads them under the message itself.
    """
    send = getattr(bot, "send_message")  # noqa: B009

    def send_message(msg: Any) -> Any:
        root = thread_root(getattr(msg, "parent", None))
        if root is not None:
            msg.extras["thread_ts"] = root
            msg.parent = None  # else the backend would thread it under the reply's own ts again
        return send(msg)

    setattr(bot, "send_message", send_message)  # noqa: B010


def thread_root(parent: object) -> str | None:
    """The `thread_ts` of a Slack message that is itself a reply in a thread, else None."""
    extras = getattr(parent, "extras", None) or {}
    event = extras.get("slack_event") if isinstance(extras, dict) else None
    if not isinstance(event, dict):
        return None
    root = event.get("thread_ts")
    return str(root) if root and root != event.get("ts") else None
