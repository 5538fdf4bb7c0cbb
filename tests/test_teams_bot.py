"""Teams end to end: the real bot process (`python -m debrief run`, DEBRIEF_BACKEND=Teams) with an app id, against
a fake of Microsoft's side (Bot Connector, token endpoint, OpenID metadata with a locally generated key set).

One bot serves the whole module; each test uses its own channel, so the tests do not depend on each other.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.teams_connector import BOT_ID, FakeTeams, SigningKey
from tests.slack_fixtures import eventually
from tests.teams_fixtures import ADMIN, TeamsBot, teams_bot

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ANSWER_TIMEOUT_S = 120  # the first answer loads the embedding model and ingests the knowledge dir
ACK = "Looking into it…"
KNOWLEDGE = {
    "runbooks/payment-timeouts.md": (
        "# Payment provider timeouts\n\n## Symptoms\n\nCheckout requests to the payment provider time out; "
        "p99 latency of /pay above 10s.\n\n## Mitigation\n\n1. Switch traffic to the backup provider with "
        "`payctl failover`.\n2. Raise the client timeout only after the failover.\n"
    ),
    "runbooks/disk-full.md": (
        "# Node disk almost full\n\n## Mitigation\n\nDelete old container images with crictl rmi --prune.\n"
    ),
}


@pytest.fixture(scope="module")
def teams() -> Iterator[FakeTeams]:
    with FakeTeams() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, teams: FakeTeams) -> Iterator[TeamsBot]:
    with teams_bot(
        tmp_path_factory.mktemp("teams"), teams, authenticated=True, knowledge=KNOWLEDGE
    ) as running:
        yield running


class Channel:
    """A Teams channel of its own per test: activity ids and thread conversation ids made up as Teams does."""

    count = 0

    def __init__(self, bot: TeamsBot, teams: FakeTeams) -> None:
        Channel.count += 1
        self.id = f"19:channel{Channel.count}@thread.tacv2"
        self.bot, self.teams = bot, teams
        self._next = Channel.count * 1000

    def post(self, text: str, at: datetime = T0, token: str | None = None, **kwargs: Any) -> str:
        """Post a new channel message (a thread root); its activity id."""
        self._next += 1
        activity_id = str(self._next)
        activity = self.teams.activity(
            text, conversation=f"{self.id};messageid={activity_id}", activity_id=activity_id, at=at, **kwargs
        )
        response = self.bot.post(activity, token=token or self.teams.token())
        assert response.status_code == 200, response.text
        return activity_id

    def start_incident(self) -> str:
        replies = self.teams.wait_for_replies(self.post("!incident start Checkout 5xx --sev SEV2"))
        match = re.match(r"(INC-\d+) started", replies[0].text)
        assert match, replies[0].text
        return match.group(1)


@pytest.fixture
def channel(bot: TeamsBot, teams: FakeTeams) -> Channel:
    return Channel(bot, teams)


def test_command_is_answered_in_its_thread_with_the_bots_token(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    activity_id = channel.post("!incident start Checkout 5xx --sev SEV2 --service checkout-api", at=T0)

    [reply] = teams.wait_for_replies(activity_id)
    assert re.match(
        r"INC-\d+ started: Checkout 5xx \(SEV2, service checkout-api\)\. Alice runs it", reply.text
    )
    assert reply.conversation_id == f"{channel.id};messageid={activity_id}"
    assert reply.body["replyToId"] == activity_id
    assert reply.body["from"]["id"] == BOT_ID
    assert reply.authorization == f"Bearer {teams.access_token}"
    with bot.engine() as engine:
        incident = engine.incidents.open_in_room(channel.id)
    assert incident is not None
    assert (incident.started_at, incident.service) == (T0, "checkout-api")


def test_bot_token_is_requested_once_and_reused_for_every_reply(channel: Channel, teams: FakeTeams) -> None:
    channel.start_incident()
    teams.wait_for_replies(channel.post("!note first"))
    teams.wait_for_replies(channel.post("!note second"))

    assert len(teams.token_requests) == 1


def test_mention_is_answered_in_its_thread(channel: Channel, bot: TeamsBot, teams: FakeTeams) -> None:
    channel.start_incident()
    question = "is there a runbook for payment timeouts?"

    activity_id = channel.post(
        f"<at>Debrief</at> {question}", at=T0 + timedelta(minutes=3), mentions=((BOT_ID, "Debrief"),)
    )

    ack, answer = teams.wait_for_replies(activity_id, count=2, timeout=ANSWER_TIMEOUT_S)
    assert ack.text == ACK
    assert "\n\nPayment provider timeouts: Mitigation\n" in answer.text  # the card's plain-text fallback
    assert "payctl failover" in answer.text
    event = bot.wait_for_event(channel.id, question)  # captured without the <at> markup, at Teams' time
    assert (event.author, event.at) == ("Alice", T0 + timedelta(minutes=3))
    assert event.source == f"teams:{channel.id}:{activity_id}"


def test_command_after_the_bots_mention_runs_and_mentioned_people_are_their_teams_ids(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    incident_id = channel.start_incident()

    activity_id = channel.post(
        "<at>Debrief</at> !incident commander <at>Bob Jones</at>",
        mentions=((BOT_ID, "Debrief"), ("29:bob", "Bob Jones")),
    )

    [reply] = teams.wait_for_replies(activity_id)
    assert reply.text == f"Bob Jones is now the commander of {incident_id}."  # the reply names him
    with bot.engine() as engine:
        assert engine.incidents.get(incident_id).commander == "29:bob"  # roles go by the id

    def named() -> str | None:  # remembered off the message's path, for documents
        with bot.engine() as engine:
            return engine.people.names().get("29:alice")

    assert eventually(named, what="Alice's name in the database") == "Alice"


def test_status_is_sent_as_an_adaptive_card_with_a_text_fallback(channel: Channel, teams: FakeTeams) -> None:
    incident_id = channel.start_incident()

    [reply] = teams.wait_for_replies(channel.post("!incident status"))

    card = reply.card
    assert card is not None and card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == f"{incident_id} Checkout 5xx: investigating (SEV2)"
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Commander"] == "not named yet"
    assert facts["Started"] == "2024-03-01 10:00:00 UTC"
    assert card["fallbackText"].startswith(f"{incident_id} Checkout 5xx: investigating (SEV2)\nCommander:")
    assert reply.body["summary"] == f"{incident_id} Checkout 5xx: investigating (SEV2)"


def test_message_with_a_valid_token_is_recorded_at_its_own_time(channel: Channel, bot: TeamsBot) -> None:
    channel.start_incident()
    said_at = T0 + timedelta(minutes=7, seconds=3)

    activity_id = channel.post("error rate 12% on checkout-api since the 09:55 deploy", at=said_at)

    event = bot.wait_for_event(channel.id, "error rate 12% on checkout-api since the 09:55 deploy")
    assert (event.at, event.author, event.source) == (
        said_at,
        "Alice",  # the display name the activity carries; roles and admins still go by the Teams id
        f"teams:{channel.id}:{activity_id}",
    )


def _expired(teams: FakeTeams) -> str | None:
    now = int(time.time())
    return teams.token(exp=now - 600, nbf=now - 4200)


BAD_TOKENS: dict[str, Callable[[FakeTeams], str | None]] = {
    "missing": lambda teams: None,
    "expired": _expired,
    "wrong audience": lambda teams: teams.token(aud="11111111-2222-4333-8444-555555555555"),
    "wrong issuer": lambda teams: teams.token(iss="https://login.evil.example.com"),
    "forged signature": lambda teams: teams.token(key=SigningKey.generate(kid=teams.keys[0].kid)),
    "unknown key": lambda teams: teams.token(key=SigningKey.generate()),
    "wrong serviceUrl claim": lambda teams: teams.token(serviceurl="https://attacker.example.com/svc/"),
    "no serviceUrl claim": lambda teams: teams.token(serviceurl=None),
    "Entra token not naming its caller": lambda teams: teams.token(**_entra(), serviceurl=None),
    "Entra token from another app": lambda teams: teams.token(
        **_entra(), azp="22222222-3333-4444-8555-666666666666", serviceurl=None
    ),
}


def _entra() -> dict[str, Any]:
    """An Entra ID v2 token from the Bot Framework's tenant, which carries no serviceurl claim."""
    tenant = "d6d49420-f39b-4df7-a1dc-d59a935871db"
    return {"iss": f"https://login.microsoftonline.com/{tenant}/v2.0", "tid": tenant, "ver": "2.0"}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_bad_token_is_refused_with_401_and_nothing_is_recorded(
    case: str, channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    channel.start_incident()
    token = BAD_TOKENS[case](teams)
    forged = teams.activity(
        f"forged message ({case})",
        conversation=f"{channel.id};messageid=9{Channel.count}",
        activity_id=f"9{Channel.count}",
        at=T0,
    )

    response = bot.post(forged) if token is None else bot.post(forged, token=token)

    assert response.status_code == 401
    channel.post(
        "a genuine message after it"
    )  # processed in order: once it is recorded, so would the forgery be
    bot.wait_for_event(channel.id, "a genuine message after it")
    assert not [event for event in bot.timeline(channel.id) if "forged" in event.text]
    assert teams.replies_to(f"9{Channel.count}") == []


def test_activity_whose_service_url_is_not_a_microsoft_connector_is_refused_and_nothing_is_sent(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    """A valid token for an unknown connector: the bot would send its own token there with every reply."""
    channel.start_incident()
    elsewhere = teams.service_url.replace("127.0.0.1", "localhost")  # the same fake, under a host not allowed
    activity = teams.activity(
        "!note sent through an unknown connector",
        conversation=channel.id,
        activity_id=f"8{Channel.count}",
        at=T0,
    )
    activity["serviceUrl"] = elsewhere

    response = bot.post(activity, token=teams.token(serviceurl=elsewhere))

    assert response.status_code == 403
    assert response.json() == {"error": "serviceUrl is not a Microsoft Bot Connector host"}
    channel.post("a genuine message after it")
    bot.wait_for_event(channel.id, "a genuine message after it")
    assert not [event for event in bot.timeline(channel.id) if "unknown connector" in event.text]
    assert teams.replies_to(f"8{Channel.count}") == []
    assert "serviceUrl 'http://localhost:" in bot.log()


def test_direct_message_is_answered_in_the_one_to_one_chat(bot: TeamsBot, teams: FakeTeams) -> None:
    chat = teams.activity(
        "!whoami", conversation="a:1direct-chat", activity_id="d1", at=T0, conversation_type="personal"
    )

    assert bot.post(chat, token=teams.token()).status_code == 200

    [reply] = teams.wait_for_replies("d1")
    assert reply.conversation_id == "a:1direct-chat"
    assert (
        "\nperson   | 29:alice\n" in reply.text
    )  # Errbot's Markdown table, as aligned columns: the id, asked for


def test_reminders_are_posted_to_the_channel_without_a_message_to_reply_to(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    incident_id = channel.start_incident()  # started at T0, long ago: no commander named since
    admin_chat = teams.activity(
        '!plugin config DebriefNudges {"INTERVAL_SECONDS": 0.5}',
        conversation="a:1admin-chat",
        activity_id="admin-1",
        at=T0,
        frm=(ADMIN, "Admin"),
        conversation_type="personal",
    )

    assert bot.post(admin_chat, token=teams.token()).status_code == 200

    deadline = time.monotonic() + 20
    while not (
        nudges := [s for s in teams.sent if s.conversation_id == channel.id and incident_id in s.text]
    ):
        assert time.monotonic() < deadline, f"no reminder in {channel.id}; sent: {teams.sent[-3:]}"
        time.sleep(0.1)
    assert nudges[0].reply_to_id is None
    assert "no commander" in nudges[0].text


MESSAGE_SAMPLE = Path(__file__).parent / "data" / "signals" / "teams" / "msteams-docs-message-received.json"


def test_the_name_teams_sends_with_a_message_is_remembered_and_whoami_still_shows_the_id(
    bot: TeamsBot, teams: FakeTeams
) -> None:
    # Microsoft's published message activity (PROVENANCE.md): Megan Bowen writes to the bot one to one.
    activity: dict[str, Any] = json.loads(MESSAGE_SAMPLE.read_text())
    megan = activity["from"]["id"]
    activity.update(
        serviceUrl=teams.service_url,
        recipient={"id": BOT_ID, "name": "Debrief"},
        text="!whoami",
        id="megan-1",
    )

    assert bot.post(activity, token=teams.token()).status_code == 200

    [reply] = teams.wait_for_replies("megan-1")
    assert f"\nperson   | {megan}\n" in reply.text  # asked for the id: not replaced by the name

    def named() -> str | None:
        with bot.engine() as engine:
            return engine.people.names().get(megan)

    assert eventually(named, what="Megan's name in the database") == "Megan Bowen"


REACTION_SAMPLE = (
    Path(__file__).parent / "data" / "signals" / "teams" / "msteams-docs-messageReaction-added.json"
)


def from_sample(channel: Channel, activity_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """Microsoft's published messageReaction activity (PROVENANCE.md), addressed to this bot and channel."""
    activity: dict[str, Any] = copy.deepcopy(json.loads(REACTION_SAMPLE.read_text()))
    activity.update(
        id=activity_id,
        timestamp=at.isoformat().replace("+00:00", "Z"),
        serviceUrl=channel.teams.service_url,
        recipient={"id": BOT_ID, "name": "Debrief"},
        **fields,
    )
    activity["conversation"]["id"] = f"{channel.id};messageid={activity_id}"
    activity["from"]["name"] = "Alice"
    return activity


def test_an_edited_teams_message_replaces_its_text_and_a_deleted_one_leaves_the_timeline(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    channel.start_incident()
    edited = channel.post("error rate 21%", at=T0 + timedelta(minutes=1))
    deleted = channel.post("probably DNS", at=T0 + timedelta(minutes=2))
    bot.wait_for_event(channel.id, "probably DNS")

    later = T0 + timedelta(minutes=3)
    update = from_sample(channel, edited, later, type="messageUpdate", text="error rate 12%")
    update.pop("reactionsAdded")
    update["channelData"]["eventType"] = "editMessage"
    delete = from_sample(channel, deleted, later, type="messageDelete")
    delete.pop("reactionsAdded")
    delete["channelData"]["eventType"] = "softDeleteMessage"
    for activity in (update, delete):
        assert bot.post(activity, token=teams.token()).status_code == 200

    event = bot.wait_for_event(channel.id, "error rate 12%")
    assert event.source == f"teams:{channel.id}:{edited}"
    texts = [e.text for e in bot.timeline(channel.id)]
    assert "probably DNS" not in texts and "error rate 21%" not in texts


def test_the_configured_reaction_marks_a_teams_message_key_and_others_do_not(
    channel: Channel, bot: TeamsBot, teams: FakeTeams
) -> None:
    channel.start_incident()
    said = channel.post("replica lag 40s on orders-db", at=T0 + timedelta(minutes=1))
    bot.wait_for_event(channel.id, "replica lag 40s on orders-db")

    like = from_sample(
        channel, "f:9f78d1f3", T0 + timedelta(minutes=2), replyToId=said
    )  # Microsoft's sample: like
    heart = from_sample(channel, "f:9f78d1f4", T0 + timedelta(minutes=3), replyToId=said)
    heart["reactionsAdded"] = [{"type": "heart"}]
    assert bot.post(like, token=teams.token()).status_code == 200
    assert not bot.wait_for_event(channel.id, "replica lag 40s on orders-db").key
    assert bot.post(heart, token=teams.token()).status_code == 200

    deadline = time.monotonic() + 20
    while not bot.wait_for_event(channel.id, "replica lag 40s on orders-db").key:
        assert time.monotonic() < deadline, "the heart reaction never marked the message key"
        time.sleep(0.1)
