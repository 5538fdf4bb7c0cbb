"""Slack end to end over the Events API: no app token, a signing secret; Slack POSTs to `/slack/events`.

errbot-backend-slackv3 mounts slackeventsapi's endpoint on Errbot's own webserver, so events arrive on
DEBRIEF_HTTP_PORT beside the webhooks. Requests whose signature or timestamp is wrong are refused and change
nothing. The real bot process runs against a local fake Slack Web API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.slack_server import FakeSlack, event_callback, message_event, slack_ts
from tests.slack_fixtures import ADMIN, SIGNING_SECRET, SlackBot, add_workspace, slack_bot_process

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
CHANNEL = "C0EVENTS"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackBot]:
    root = tmp_path_factory.mktemp("slack-events-api")
    (root / "knowledge").mkdir()
    with FakeSlack() as slack:
        add_workspace(slack, {CHANNEL: "inc-events"})
        with slack_bot_process(slack, root, root / "knowledge", events_api=True) as running:
            yield running


def test_without_an_app_token_the_backend_serves_the_events_api(bot: SlackBot) -> None:
    assert "Using Events API - HTTP listener for request URLs." in bot.output()
    assert "apps.connections.open" not in bot.slack.calls


def test_slack_url_verification_gets_its_challenge_back(bot: SlackBot) -> None:
    response = bot.post_event(
        {"type": "url_verification", "token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV"}
    )

    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


def test_a_signed_command_event_is_answered_with_chat_post_message(bot: SlackBot) -> None:
    bot.say(CHANNEL, ADMIN, "!incident start Checkout 5xx spike --sev SEV2", T0)

    reply = bot.slack.wait_for_post(lambda post: post["channel"] == CHANNEL)

    assert "INC-1 started: Checkout 5xx spike" in reply["text"]


@pytest.mark.parametrize(
    ("secret", "age_s"),
    [("not-the-signing-secret", 0), (None, 6 * 60)],
    ids=["forged signature", "replayed after five minutes"],
)
def test_a_request_slack_did_not_sign_just_now_is_refused_and_changes_nothing(
    bot: SlackBot, secret: str | None, age_s: int
) -> None:
    event = message_event(CHANNEL, ADMIN, "!echo forged", slack_ts(T0 + timedelta(minutes=9)))
    response = bot.post_event(
        event_callback(event, "EvForged"), secret or SIGNING_SECRET, timestamp=int(time.time()) - age_s
    )

    assert response.status_code == 403
    bot.say(CHANNEL, ADMIN, "!echo still here", T0 + timedelta(minutes=10))
    bot.slack.wait_for_post(lambda post: post["text"] == "still here")
    assert "forged" not in [post["text"] for post in bot.slack.posted]
    assert "Traceback" not in bot.output()
