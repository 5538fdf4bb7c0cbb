"""How Debrief prepares errbot-backend-slackv3: where Errbot finds it, which API its clients call, what commands see.

The end-to-end proof is in test_slack_socket_mode.py and test_slack_events_api.py; these pin the pieces down.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.rtm_v2 import RTMClient
from slack_sdk.web import WebClient
from slackeventsapi import SlackEventAdapter

from agent.settings import load_settings
from debrief.errbot_config import errbot_config
from debrief.slack import (
    SlackSetupError,
    configure_clients,
    plain_mentions,
    prepare_slack,
    slack_backend_dir,
    thread_root,
)

GOVSLACK = "https://slack-gov.com/api"


def backend_module() -> ModuleType:
    """A stand-in for the loaded `errbot.backends.slackv3` module: the names it imports from slack_sdk."""
    module = ModuleType("errbot.backends.slackv3_standin")
    module.WebClient = WebClient  # type: ignore[attr-defined]
    module.RTMClient = RTMClient  # type: ignore[attr-defined]
    module.SlackEventAdapter = SlackEventAdapter  # type: ignore[attr-defined]
    return module


def test_errbot_finds_the_slack_backend_in_the_installed_package(tmp_path: Path) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=tmp_path,
        DEBRIEF_BACKEND="SlackV3",
        DEBRIEF_ADMINS="U0ADMIN",
        SLACK_BOT_TOKEN=SecretStr("xoxb-1"),
        SLACK_SIGNING_SECRET=SecretStr("s3cret"),
    )

    config = errbot_config(settings)

    assert config["BOT_EXTRA_BACKEND_DIR"] == [str(slack_backend_dir())]
    assert (slack_backend_dir() / "slackv3.plug").is_file()
    assert config["BOT_IDENTITY"] == {"token": "xoxb-1", "signing_secret": "s3cret"}


def test_slack_api_url_becomes_the_default_base_url_of_every_client_the_backend_builds() -> None:
    module = backend_module()

    configure_clients(module, GOVSLACK)

    assert module.WebClient(token="xoxb-1").base_url == "https://slack-gov.com/api/"
    assert module.RTMClient(token="xoxb-1").web_client.base_url == "https://slack-gov.com/api/"
    assert module.WebClient(token="xoxb-1", base_url="http://other/api/").base_url == "http://other/api/"
    assert isinstance(module.WebClient(token="xoxb-1"), WebClient)


def test_without_slack_api_url_the_clients_call_slack_com_and_wait_out_rate_limits() -> None:
    module = backend_module()

    configure_clients(module, None)
    client = module.WebClient(token="xoxb-1")

    assert client.base_url == WebClient.BASE_URL
    limits = [handler for handler in client.retry_handlers if isinstance(handler, RateLimitErrorRetryHandler)]
    assert limits and limits[0].max_retry_count >= 1


# slackeventsapi (the backend's Events API adapter) is built on pyee's deprecated BaseEventEmitter.
@pytest.mark.filterwarnings("ignore:pyee.BaseEventEmitter is deprecated:DeprecationWarning")
def test_an_events_api_request_with_a_bad_signature_is_refused_without_raising() -> None:
    module = backend_module()
    configure_clients(module, None)
    adapter = module.SlackEventAdapter("s3cret", "/slack/events", None)

    adapter.emit("error", RuntimeError("Invalid request signature"))  # raises when nobody listens


def test_a_backend_that_builds_its_clients_differently_is_refused_at_start() -> None:
    module = backend_module()
    del module.WebClient

    with pytest.raises(SlackSetupError, match=r"does not use slack_sdk\.web\.client\.WebClient"):
        configure_clients(module, GOVSLACK)


def test_other_backends_are_left_alone(tmp_path: Path) -> None:
    bot = SimpleNamespace(send_message=print, callback_message=print)

    prepare_slack(bot, load_settings(DEBRIEF_DATA_DIR=tmp_path, SLACK_API_URL=GOVSLACK))

    assert (bot.send_message, bot.callback_message) == (print, print)


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("!incident commander <@U0BOB>", "!incident commander @U0BOB"),
        (
            "!action add fix it <@W0ENTERPRISE|erin> due:2024-03-15",
            "!action add fix it @W0ENTERPRISE due:2024-03-15",
        ),
        ("!note see <#C0OTHER|other> and <https://example.com|the dashboard>", None),
    ],
)
def test_slack_user_mentions_in_commands_read_as_at_user(typed: str, seen: str | None) -> None:
    assert plain_mentions(typed) == (seen or typed)


def slack_message(**event: Any) -> SimpleNamespace:
    return SimpleNamespace(extras={"slack_event": {"channel": "C0INC", **event}})


def test_a_reply_to_a_message_inside_a_thread_goes_to_the_thread_root() -> None:
    assert (
        thread_root(slack_message(ts="1709287400.000200", thread_ts="1709287380.000100"))
        == "1709287380.000100"
    )
    assert thread_root(slack_message(ts="1709287380.000100", thread_ts="1709287380.000100")) is None
    assert thread_root(slack_message(ts="1709287380.000100")) is None
    assert thread_root(SimpleNamespace(extras={"at": "2024-03-01T10:00:00Z"})) is None
    assert thread_root(None) is None
