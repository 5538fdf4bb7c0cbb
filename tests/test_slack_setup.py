"""Debrief's Slack backend (a subclass of errbot-backend-slackv3's): where Errbot finds it, which API its clients
call, what commands and the timeline see of a Slack message.

The end-to-end proof is in test_slack_socket_mode.py and test_slack_events_api.py; these pin the pieces down.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from errbot.bootstrap import bot_config_defaults
from pydantic import SecretStr
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.web import WebClient

from agent.settings import load_settings
from backends.slack.slack_backend import DebriefSlackBackend, message_facts, plain_mentions, thread_root
from debrief.bot.config import BACKENDS_DIR, config_namespace, errbot_config

GOVSLACK = "https://slack-gov.com/api"


def backend(tmp_path: Path, **settings: Any) -> DebriefSlackBackend:
    loaded = load_settings(
        DEBRIEF_DATA_DIR=tmp_path,
        DEBRIEF_BACKEND="SlackV3",
        DEBRIEF_ADMINS="U0ADMIN",
        SLACK_BOT_TOKEN=SecretStr("xoxb-1"),
        SLACK_SIGNING_SECRET=SecretStr("s3cret"),
        **settings,
    )
    config = config_namespace(loaded)
    config.BOT_LOG_FILE = None
    bot_config_defaults(config)
    logging.getLogger("errbot").setLevel(logging.WARNING)
    return DebriefSlackBackend(config)


def test_errbot_finds_debriefs_slack_backend_beside_the_teams_one(tmp_path: Path) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=tmp_path,
        DEBRIEF_BACKEND="SlackV3",
        DEBRIEF_ADMINS="U0ADMIN",
        SLACK_BOT_TOKEN=SecretStr("xoxb-1"),
        SLACK_SIGNING_SECRET=SecretStr("s3cret"),
    )

    config = errbot_config(settings)

    assert config["BACKEND"] == "DebriefSlack"
    assert config["BOT_EXTRA_BACKEND_DIR"] == [str(BACKENDS_DIR / "slack")]
    assert (BACKENDS_DIR / "slack" / "slack.plug").is_file()
    assert config["BOT_IDENTITY"] == {"token": "xoxb-1", "signing_secret": "s3cret"}


def test_slack_api_url_becomes_the_base_url_of_every_client_the_backend_builds(tmp_path: Path) -> None:
    slack = backend(tmp_path, SLACK_API_URL=GOVSLACK)

    assert slack.web_client().base_url == "https://slack-gov.com/api/"
    assert slack.rtm_client().web_client.base_url == "https://slack-gov.com/api/"
    assert isinstance(slack.web_client(), WebClient)


def test_without_slack_api_url_the_clients_call_slack_com_and_wait_out_rate_limits(tmp_path: Path) -> None:
    client = backend(tmp_path).web_client()

    assert client.base_url == WebClient.BASE_URL
    limits = [handler for handler in client.retry_handlers if isinstance(handler, RateLimitErrorRetryHandler)]
    assert limits and limits[0].max_retry_count >= 1


# slackeventsapi (the backend's Events API adapter) is built on pyee's deprecated BaseEventEmitter.
@pytest.mark.filterwarnings("ignore:pyee.BaseEventEmitter is deprecated:DeprecationWarning")
def test_an_events_api_request_with_a_bad_signature_is_refused_without_raising(tmp_path: Path) -> None:
    adapter = backend(tmp_path).events_adapter()

    adapter.emit("error", RuntimeError("Invalid request signature"))  # raises when nobody listens


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


@pytest.mark.parametrize(
    ("channel", "key"), [("C024BE91L", "<#C024BE91L>"), ("G0PRIVATE1", "<#G0PRIVATE1>"), ("D0DIRECT1", None)]
)
def test_a_slack_channel_is_keyed_by_its_id_so_a_rename_keeps_its_incident(
    channel: str, key: str | None
) -> None:
    facts = message_facts({"channel": channel, "ts": "1709287380.000100", "text": "hi"})

    assert facts.get("room") == key
    assert facts["source"] == f"slack:{channel}:1709287380.000100"


def test_an_edited_message_keeps_the_time_and_key_of_the_message_it_changed() -> None:
    edit = {
        "channel": "C0INC",
        "ts": "1709287999.000900",
        "message": {"ts": "1709287380.000100", "text": "x"},
    }

    facts = message_facts(edit)

    assert facts["source"] == "slack:C0INC:1709287380.000100"
    assert facts["at"].isoformat() == "2024-03-01T10:03:00.000100+00:00"


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
