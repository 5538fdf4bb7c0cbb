"""The Teams backend's parts, in process: reading activities, cards, configuration, the bot token, the connector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from microsoft_agents.activity import Activity

from agent.errors import SettingsError
from agent.settings import load_settings
from backends.teams.activities import read_message
from backends.teams.activity_body import BadActivity, parse_activity
from backends.teams.cards import ADAPTIVE_CARD, MAX_CARD_BYTES, errbot_card, text_card, wants_card
from backends.teams.connector import Connector, ConnectorError
from backends.teams.conversations import Address, Conversations
from backends.teams.credentials import BotTokens, TokenError
from backends.teams.registration import TeamsConfig, TeamsConfigError
from backends.teams.service_urls import DEFAULT_HOSTS, ServiceUrls
from debrief.bot.config import BotConfigError, errbot_config
from tests.fakes.teams_connector import APP_ID, APP_PASSWORD, BOT_ID, FakeTeams

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
CHANNEL = "19:checkout@thread.tacv2"


@pytest.fixture
def teams() -> Iterator[FakeTeams]:
    with FakeTeams() as fake:
        yield fake


def activity(teams: FakeTeams, text: str, **kwargs: Any) -> Activity:
    raw = teams.activity(text, conversation=f"{CHANNEL};messageid=42", activity_id="42", at=T0, **kwargs)
    return Activity.model_validate(raw)


# -- reading activities ----------------------------------------------------------------------------
def test_the_bots_mention_is_removed_and_remembered(teams: FakeTeams) -> None:
    message = read_message(
        activity(teams, "<at>Debrief</at> is there a runbook for X?", mentions=((BOT_ID, "Debrief"),))
    )

    assert (message.text, message.mentions_bot, message.mentioned) == ("is there a runbook for X?", True, ())


def test_other_mentions_become_teams_ids(teams: FakeTeams) -> None:
    message = read_message(
        activity(teams, "!incident commander <at>Bob Jones</at>", mentions=(("29:bob", "Bob Jones"),))
    )

    assert message.text == "!incident commander @29:bob"
    assert not message.mentions_bot
    assert [person.id for person in message.mentioned] == ["29:bob"]


def test_a_thread_belongs_to_its_channel_and_keeps_teams_time_and_id(teams: FakeTeams) -> None:
    message = read_message(activity(teams, "deploy rolled back"))

    assert (message.room, message.at, message.source) == (CHANNEL, T0, f"teams:{CHANNEL}:42")


def test_one_to_one_chat_has_no_room_and_entities_are_plain_text(teams: FakeTeams) -> None:
    message = read_message(activity(teams, "p99&nbsp;&gt; 2s &amp; rising", conversation_type="personal"))

    assert (message.room, message.text) == (None, "p99 > 2s & rising")


def test_timestamp_without_a_zone_is_read_as_utc(teams: FakeTeams) -> None:
    raw = teams.activity("hi", conversation=CHANNEL, activity_id="1", at=T0)
    raw["timestamp"] = "2024-03-01T10:00:00.1234567"

    assert read_message(Activity.model_validate(raw)).at == datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


# -- parsing the request body ----------------------------------------------------------------------
def nested_activity(teams: FakeTeams, levels: int) -> bytes:
    """An activity whose JSON is `levels` containers deep (the activity itself is the first)."""
    raw = teams.activity("x", conversation=CHANNEL, activity_id="1", at=T0)
    raw["value"] = "@@@"
    inner = levels - 1
    return json.dumps(raw).replace('"@@@"', "[" * inner + "]" * inner).encode()


def test_json_nested_up_to_64_levels_is_an_activity_and_deeper_is_refused(teams: FakeTeams) -> None:
    assert parse_activity(nested_activity(teams, 64)).value is not None

    with pytest.raises(BadActivity, match="nested deeper than 64 levels"):
        parse_activity(nested_activity(teams, 65))


def test_an_adaptive_card_submission_is_an_activity(teams: FakeTeams) -> None:
    card = text_card(STATUS)
    raw = teams.activity("", conversation=CHANNEL, activity_id="1", at=T0)
    raw["attachments"] = [{"contentType": ADAPTIVE_CARD, "content": card}]
    raw["value"] = {"action": {"data": {"choice": {"id": "ack", "by": ["29:alice"]}}}}

    activity = parse_activity(json.dumps(raw).encode())

    assert activity.attachments and activity.attachments[0].content == card


# -- where to reach rooms and people ---------------------------------------------------------------
def test_a_channel_is_reached_at_the_channel_and_a_person_in_their_one_to_one_chat(teams: FakeTeams) -> None:
    conversations = Conversations()

    assert conversations.remember(activity(teams, "in a thread"))
    assert not conversations.remember(activity(teams, "same place again"))
    assert conversations.remember(
        Activity.model_validate(
            teams.activity(
                "hi",
                conversation="a:1chat",
                activity_id="1",
                at=T0,
                frm=("29:bob", "Bob"),
                conversation_type="personal",
            )
        )
    )

    assert conversations.address(CHANNEL) == Address(teams.service_url, CHANNEL)
    assert conversations.address("29:bob") == Address(teams.service_url, "a:1chat")
    assert conversations.rooms() == [CHANNEL]
    assert Conversations(conversations.as_data()).address("29:bob") == Address(teams.service_url, "a:1chat")


# -- cards -----------------------------------------------------------------------------------------
STATUS = (
    "INC-3 Checkout 5xx: investigating (SEV2)\nCommander: alice\nStarted: 2024-03-01 10:00:00 UTC\n"
    "Impact: 12% of checkouts fail\nCause: not recorded yet"
)


def test_short_replies_stay_text_and_long_ones_become_cards() -> None:
    assert not wants_card("INC-3 started: Checkout 5xx (SEV2).")
    assert wants_card(STATUS)
    assert wants_card("word " * 150)


def test_status_card_has_a_title_facts_and_the_whole_text_as_fallback() -> None:
    card = text_card(STATUS)

    assert card is not None
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": "INC-3 Checkout 5xx: investigating (SEV2)",
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
    }
    assert card["body"][1]["facts"][0] == {"title": "Commander", "value": "alice"}
    assert card["body"][1]["facts"][2] == {"title": "Impact", "value": "12% of checkouts fail"}
    assert card["fallbackText"] == STATUS


def test_markdown_headings_lists_and_tables_render_as_blocks() -> None:
    card = text_card(
        "Postmortem draft for INC-3\n\n## Summary\nCheckout failed.\n- rolled back\n\n| a | b |\n|---|---|"
    )

    assert card is not None
    blocks = card["body"][1:]
    assert blocks[0] == {
        "type": "TextBlock",
        "text": "Summary",
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
    }
    assert [block["text"] for block in blocks[1:3]] == ["Checkout failed.", "- rolled back"]
    assert blocks[3] == {
        "type": "TextBlock",
        "text": "| a | b |\n|---|---|",
        "fontType": "Monospace",
        "wrap": True,
    }


def test_a_card_too_big_for_teams_is_not_made() -> None:
    assert text_card("line\n" * (MAX_CARD_BYTES // 4)) is None


def test_errbot_card_keeps_title_fields_and_link() -> None:
    card = errbot_card(
        body="Roll back first.", title="Runbook", fields=(("Service", "checkout"),), link="https://x/y"
    )

    assert card is not None
    assert card["body"][0]["text"] == "Runbook"
    assert card["body"][-1] == {"type": "FactSet", "facts": [{"title": "Service", "value": "checkout"}]}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open", "url": "https://x/y"}]
    assert card["fallbackText"] == "Runbook\nRoll back first.\nService: checkout"


# -- configuration ---------------------------------------------------------------------------------
def test_single_tenant_bot_uses_its_tenant_for_tokens_and_keys() -> None:
    config = TeamsConfig.from_identity({"app_id": "app", "app_password": "pw", "tenant_id": "contoso-id"})

    assert config.token_url == "https://login.microsoftonline.com/contoso-id/oauth2/v2.0/token"
    assert config.openid_metadata_urls == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "https://login.microsoftonline.com/contoso-id/v2.0/.well-known/openid-configuration",
    )
    assert config.bot_id == "28:app"


def test_request_bodies_are_bounded_by_default_and_the_bound_must_be_positive() -> None:
    assert TeamsConfig.from_identity({}).max_body_bytes == 1_000_000
    with pytest.raises(TeamsConfigError, match="max_body_bytes must be a positive number of bytes"):
        TeamsConfig.from_identity({"max_body_bytes": 0})
    with pytest.raises(SettingsError, match="DEBRIEF_MAX_BODY_BYTES"):
        load_settings(DEBRIEF_MAX_BODY_BYTES="0")


def test_app_id_without_its_secret_is_refused() -> None:
    with pytest.raises(TeamsConfigError, match="TEAMS_APP_PASSWORD"):
        TeamsConfig.from_identity({"app_id": "app"})


def test_teams_settings_become_the_backends_identity_and_backend_dir(tmp_path: Path) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=tmp_path,
        DEBRIEF_BACKEND="Teams",
        DEBRIEF_ADMINS="29:admin",
        TEAMS_APP_ID="app",
        TEAMS_APP_PASSWORD="pw",
        TEAMS_OPENID_METADATA_URL="http://127.0.0.1:1/a, http://127.0.0.1:1/b",
        TEAMS_SERVICE_URL_HOSTS="smba.trafficmanager.net, *.BotFramework.com",
        DEBRIEF_MAX_BODY_BYTES="2000000",
    )

    config = errbot_config(settings)

    assert config["BOT_IDENTITY"] == {
        "app_id": "app",
        "app_password": "pw",
        "openid_metadata_urls": ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"],
        "service_url_hosts": ["smba.trafficmanager.net", "*.botframework.com"],
        "max_body_bytes": 2_000_000,
        "key_reaction": "heart",
    }
    assert [Path(path).name for path in config["BOT_EXTRA_BACKEND_DIR"]] == ["teams"]  # type: ignore[attr-defined]
    assert (Path(config["BOT_EXTRA_BACKEND_DIR"][0]) / "teams.plug").is_file()  # type: ignore[index]


@pytest.mark.parametrize("hosts", ["https://smba.trafficmanager.net/amer/", "localhost:3978"])
def test_service_url_hosts_that_are_not_host_names_fail_at_start_with_one_line(hosts: str) -> None:
    with pytest.raises(SettingsError, match="TEAMS_SERVICE_URL_HOSTS: must be host names like") as error:
        load_settings(TEAMS_SERVICE_URL_HOSTS=hosts)

    assert "\n" not in str(error.value)


def test_teams_app_id_without_a_secret_fails_at_start_with_one_line(tmp_path: Path) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=tmp_path, DEBRIEF_BACKEND="Teams", DEBRIEF_ADMINS="29:admin", TEAMS_APP_ID="app"
    )

    with pytest.raises(BotConfigError, match="TEAMS_APP_PASSWORD: TEAMS_APP_ID is set"):
        errbot_config(settings)


# -- the bot's token and the connector -------------------------------------------------------------
class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bot_token_is_cached_until_five_minutes_before_it_expires(teams: FakeTeams) -> None:
    clock = Clock()
    tokens = BotTokens(teams.token_url, APP_ID, APP_PASSWORD, clock=clock)

    assert tokens.get() == teams.access_token
    clock.now = 3599 - 301
    tokens.get()
    assert len(teams.token_requests) == 1
    clock.now = 3599 - 299
    tokens.get()
    assert len(teams.token_requests) == 2


def test_wrong_client_secret_is_one_clear_error(teams: FakeTeams) -> None:
    with pytest.raises(TokenError, match="answered 401: AADSTS7000215: Invalid client secret"):
        BotTokens(teams.token_url, APP_ID, "wrong").get()


@pytest.fixture
def connector(teams: FakeTeams) -> Iterator[Connector]:
    sender = Connector(
        BotTokens(teams.token_url, APP_ID, APP_PASSWORD),
        ServiceUrls(["127.0.0.1"]),
        timeout_s=5,
        retry_delays_s=(0.01, 0.01),
    )
    yield sender
    sender.close()


def test_reply_goes_to_the_thread_and_a_new_message_to_the_conversation(
    teams: FakeTeams, connector: Connector
) -> None:
    thread = f"{CHANNEL};messageid=42"
    assert (
        connector.send(teams.service_url, thread, Activity(type="message", text="in thread"), "42") == "bot-1"
    )
    connector.send(teams.service_url, CHANNEL, Activity(type="message", text="new post"), None)

    assert [(s.conversation_id, s.reply_to_id, s.text) for s in teams.sent] == [
        (thread, "42", "in thread"),
        (CHANNEL, None, "new post"),
    ]


def test_throttling_is_retried_and_a_refused_token_renewed_once(
    teams: FakeTeams, connector: Connector
) -> None:
    teams.failures = [429, 401]

    connector.send(teams.service_url, CHANNEL, Activity(type="message", text="eventually"), None)

    assert [s.text for s in teams.sent] == ["eventually"]
    assert len(teams.token_requests) == 2


def test_a_rejected_activity_is_a_connector_error_with_its_status(
    teams: FakeTeams, connector: Connector
) -> None:
    teams.failures = [400]

    with pytest.raises(ConnectorError) as error:
        connector.send(teams.service_url, CHANNEL, Activity(type="message", text="bad"), None)

    assert error.value.status == 400
    assert teams.sent == []


def test_nothing_is_sent_to_a_service_url_outside_the_allowed_hosts(
    teams: FakeTeams, connector: Connector
) -> None:
    elsewhere = teams.service_url.replace("127.0.0.1", "localhost")  # the same fake, under a host not allowed

    with pytest.raises(ConnectorError, match="not an allowed Bot Connector host"):
        connector.send(elsewhere, CHANNEL, Activity(type="message", text="stored long ago"), None)

    assert teams.sent == [] and teams.token_requests == []  # the bot's token was not even fetched


def test_the_connector_allows_microsofts_hosts_unless_configured(teams: FakeTeams) -> None:
    assert TeamsConfig.from_identity({}).service_url_hosts == DEFAULT_HOSTS
    sender = Connector(BotTokens(teams.token_url, APP_ID, APP_PASSWORD))
    try:
        with pytest.raises(ConnectorError, match="not an allowed Bot Connector host"):
            sender.send(teams.service_url, CHANNEL, Activity(type="message", text="hi"), None)
    finally:
        sender.close()
