"""Slack end to end over Socket Mode: the real `python -m debrief run` process against a local fake Slack.

SLACK_API_URL points the backend's Web API client at the fake, whose `apps.connections.open` hands out a local
`ws://` URL; events arrive as Socket Mode envelopes and every reply leaves through `chat.postMessage`.
One bot process serves the whole module; each test works in its own channel.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.models import Incident, TimelineEvent
from backends.slack.slack_backend import slack_time
from tests.fakes.slack_server import FakeSlack, reaction_event
from tests.slack_fixtures import (
    ADMIN,
    SlackBot,
    add_workspace,
    eventually,
    slack_bot_process,
)

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
BOB = "U0BOB"
CHANNELS = {
    "C0START": "inc-start",
    "C0ASK": "inc-ask",
    "C0PIN": "inc-pin",
    "C0PIN2": "inc-pin-2",
    "C0CMD": "inc-cmd",
    "C0ACK": "inc-ack",
    "C0SCOPE": "inc-scope",
    "G0SCOPE": "inc-scope-private",
    "G0PRIVATE": "inc-private",
    "C0EDIT": "inc-edit",
    "C0PINNED": "inc-pinned",
    "C0NAMES": "inc-names",
}
SAMPLES = Path(__file__).parent / "data" / "signals" / "slack"
RUNBOOK = (
    "# Payment provider timeouts\n\n## Symptoms\n\nCheckout requests to the PSP time out after 10 seconds.\n\n"
    "## Mitigation\n\nFail over to the secondary PSP with `psp-switch --to secondary`.\n"
)
ANSWER_TIMEOUT_S = 180.0  # the first answer loads the embedding model and ingests the knowledge dir


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackBot]:
    root = tmp_path_factory.mktemp("slack-socket-mode")
    knowledge = root / "knowledge"
    (knowledge / "runbooks").mkdir(parents=True)
    (knowledge / "runbooks" / "payments-psp-timeouts.md").write_text(RUNBOOK)
    with FakeSlack() as slack:
        add_workspace(slack, CHANNELS)
        with slack_bot_process(slack, root, knowledge) as running:
            yield running


def test_the_backend_uses_the_configured_api_url_and_socket_mode(bot: SlackBot) -> None:
    assert bot.slack.calls[0] == "auth.test"  # through SLACK_API_URL: the fake is the only Slack there is
    assert "apps.connections.open" in bot.slack.calls
    assert "Using Events API - Socket mode client." in bot.output()


def test_a_command_in_a_channel_is_answered_there_with_chat_post_message(bot: SlackBot) -> None:
    bot.say("C0START", ADMIN, "!incident start Checkout 5xx spike --sev SEV2 --service checkout-api", T0)

    reply = bot.slack.wait_for_post(lambda post: post["channel"] == "C0START")

    assert "INC-1 started: Checkout 5xx spike" in reply["text"]
    assert "thread_ts" not in reply  # a command in the channel is answered in the channel
    assert reply["link_names"] in (False, "0", 0, "false")  # a note's plain "@here" shown again pings no one


def test_every_socket_mode_envelope_is_acknowledged(bot: SlackBot) -> None:
    bot.say("C0START", BOB, "error rate 12% on checkout-api", T0 + timedelta(minutes=1))

    bot.slack.wait_until(lambda: set(bot.slack.pushed) <= set(bot.slack.acks), what="acknowledgements")


def test_a_person_mentioned_in_a_command_is_that_slack_user(bot: SlackBot) -> None:
    bot.say("C0CMD", ADMIN, "!incident start Login errors --sev SEV3", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0CMD")
    bot.say("C0CMD", ADMIN, f"!incident commander <@{BOB}>", T0 + timedelta(minutes=1))
    bot.slack.wait_until(lambda: len(bot.replies("C0CMD")) == 2, what="the commander reply")

    bot.say("C0CMD", BOB, "!incident mitigated", T0 + timedelta(minutes=2))  # only the commander may
    bot.slack.wait_until(lambda: len(bot.replies("C0CMD")) == 3, what="the mitigated reply")

    incident = open_incident(bot, "C0CMD")
    assert incident.commander == BOB
    assert incident.mitigated_at is not None
    assert incident.mitigated_at.replace(microsecond=0) == T0 + timedelta(minutes=2)


def test_a_rate_limited_reply_is_sent_again_after_retry_after(bot: SlackBot) -> None:
    bot.slack.rate_limit_next("chat.postMessage")

    bot.say("C0START", ADMIN, "!echo after the limit", T0 + timedelta(minutes=2))

    reply = bot.slack.wait_for_post(lambda post: post["text"] == "after the limit")
    assert reply["channel"] == "C0START"


def test_a_reply_longer_than_a_slack_message_is_sent_in_parts(bot: SlackBot) -> None:
    lines = [f"line {n:03} of a long reply" + " ." * 40 for n in range(100)]  # 10,600 characters

    bot.say("C0START", ADMIN, "!echo " + "\n".join(lines), T0 + timedelta(minutes=3))

    bot.slack.wait_for_post(lambda post: "line 099" in post["text"])
    parts = [post["text"] for post in bot.replies("C0START") if "of a long reply" in post["text"]]
    assert len(parts) > 1
    assert [line.split()[1] for part in parts for line in part.splitlines()] == [
        f"{n:03}" for n in range(100)
    ]


def test_a_mention_is_answered_in_the_thread_of_the_question(bot: SlackBot) -> None:
    question = bot.say("C0ASK", BOB, f"<@{bot.slack.bot_user}> is there a runbook for payment timeouts?", T0)

    ack = bot.slack.wait_for_post(lambda post: post["channel"] == "C0ASK")
    answer = bot.slack.wait_for_post(
        lambda post: post["channel"] == "C0ASK" and post is not ack, timeout=ANSWER_TIMEOUT_S
    )

    assert ack["text"] == "Looking into it…"
    assert ack["thread_ts"] == question and answer["thread_ts"] == question
    assert "psp-switch --to secondary" in answer["text"]
    assert "payments-psp-timeouts.md" in answer["text"]


def test_a_question_asked_inside_a_thread_is_answered_in_that_thread(bot: SlackBot) -> None:
    root = bot.say("C0ASK", BOB, "checkout is failing for some customers", T0 + timedelta(minutes=5))
    question = bot.say(
        "C0ASK", BOB, f"<@{bot.slack.bot_user}> how do we fail over the PSP?", T0 + timedelta(minutes=6), root
    )
    seen = len(bot.slack.posted)

    answers = bot.slack.wait_until(
        lambda: [post for post in bot.slack.posted[seen:] if post["channel"] == "C0ASK"]
    )

    assert question != root
    assert answers[0]["thread_ts"] == root  # Slack threads under the root message, never under a reply


def test_replies_and_the_directory_name_people_as_slack_shows_them(bot: SlackBot) -> None:
    # Slack's documented users.info answer ("Egon Spengler", display name "spengler"), as published.
    published = json.loads((SAMPLES / "err-backend-slackv3-users.info.json").read_text())
    egon = bot.slack.add_published_user(published)
    bot.say("C0NAMES", ADMIN, "!incident start Ghosts in the DB --sev SEV3", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0NAMES")
    bot.say("C0NAMES", egon, "PKE meter spiking on db-2", T0 + timedelta(minutes=1))
    # Socket Mode hands events to a pool of workers: the next command may run before his message is read. Once
    # the directory holds his name, the bot has read it.
    assert eventually(lambda: _name_in_directory(bot, egon), what="the name in the directory") == "spengler"

    seen = len(bot.slack.posted)
    bot.say("C0NAMES", ADMIN, f"!incident commander <@{egon}>", T0 + timedelta(minutes=2))
    [reply] = bot.slack.wait_until(
        lambda: [post for post in bot.slack.posted[seen:] if post["channel"] == "C0NAMES"] or None,
        what="the commander reply",
    )

    assert str(reply["text"]).startswith("spengler is now the commander of INC-")
    assert open_incident(bot, "C0NAMES").commander == egon  # roles keep the id


def _name_in_directory(bot: SlackBot, person_id: str) -> str | None:
    engine = Engine.from_settings(bot.settings)
    try:
        return engine.people.names().get(person_id)
    finally:
        engine.close()


def test_a_pin_reaction_makes_the_message_a_key_event(bot: SlackBot) -> None:
    bot.say("C0PIN", ADMIN, "!incident start Orders DB slow --sev SEV3", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0PIN")
    said = T0 + timedelta(minutes=2)
    pinned = bot.say("C0PIN", BOB, "pool exhausted: 500/500 connections in use on orders-db", said)
    bot.say("C0PIN", BOB, "still looking at the replicas", T0 + timedelta(minutes=3))
    eventually(
        lambda: timeline_event(bot, "still looking", key_only=False), what="the messages to be captured"
    )

    bot.slack.push(reaction_event("C0PIN", ADMIN, "pushpin", pinned, item_user=BOB))

    event = eventually(lambda: timeline_event(bot, "pool exhausted", key_only=True), what="the pin")
    assert (event.author, event.source) == (BOB, f"slack:C0PIN:{pinned}")
    assert event.at == slack_time(pinned) and event.at - said < timedelta(seconds=1)  # Slack's time, not ours
    assert timeline_event(bot, "still looking", key_only=True) is None


def test_other_reactions_do_not_pin(bot: SlackBot) -> None:
    bot.say("C0PIN2", ADMIN, "!incident start Search latency --sev SEV4", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0PIN2")
    said = bot.say("C0PIN2", BOB, "p99 latency is 4s on search-api", T0 + timedelta(minutes=1))
    eventually(lambda: timeline_event(bot, "p99 latency", key_only=False), what="the message to be captured")

    bot.slack.push(reaction_event("C0PIN2", ADMIN, "eyes", said, item_user=BOB))
    bot.slack.push(reaction_event("C0PIN2", ADMIN, "round_pushpin", said, item_user=BOB))

    eventually(lambda: timeline_event(bot, "p99 latency", key_only=True), what="the round_pushpin pin")


def test_private_channels_work_like_public_ones(bot: SlackBot) -> None:
    bot.say("G0PRIVATE", ADMIN, "!incident start Secret rotation failed --sev SEV3", T0)

    reply = bot.slack.wait_for_post(lambda post: post["channel"] == "G0PRIVATE")

    assert "started: Secret rotation failed" in reply["text"]


def test_the_app_manifest_grants_exactly_the_scopes_the_bot_needs(bot: SlackBot) -> None:
    """One of everything Debrief does in Slack: the fake grants only the manifest's scopes and records each use."""
    bot.say("C0SCOPE", ADMIN, "!incident start Public channel drill", T0)
    reply = bot.slack.wait_for_post(lambda post: post["channel"] == "C0SCOPE")
    said = bot.say("C0SCOPE", BOB, "dashboards are red", T0 + timedelta(minutes=1))
    bot.say("G0SCOPE", ADMIN, "!incident start Private channel drill", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "G0SCOPE")
    eventually(lambda: timeline_event(bot, "dashboards are red", key_only=False), what="the message")
    bot.slack.push(reaction_event("C0SCOPE", ADMIN, "pushpin", said, item_user=BOB))
    eventually(lambda: timeline_event(bot, "dashboards are red", key_only=True), what="the pin")
    bot.slack.push(pin_added("C0SCOPE", said, BOB))

    assert "missing_scope" not in bot.output() and "started" in reply["text"]
    assert bot.slack.used_scopes == bot.slack.scopes


def open_incident(bot: SlackBot, channel: str) -> Incident:
    """The open incident of a Slack channel (its room is `<#CHANNEL>`: the id, which a rename keeps)."""
    engine = Engine.from_settings(bot.settings)
    try:
        [incident] = [i for i in engine.incidents.list_open() if i.room == f"<#{channel}>"]
        return incident
    finally:
        engine.close()


def timeline_event(bot: SlackBot, text: str, key_only: bool) -> TimelineEvent | None:
    """The first event on any open incident's timeline whose text contains `text`."""
    engine = Engine.from_settings(bot.settings)
    try:
        for incident in engine.incidents.list_open():
            for event in engine.timeline.events(incident.id, key_only=key_only):
                if text in event.text:
                    return event
        return None
    finally:
        engine.close()


def test_a_chat_line_is_acknowledged_only_once_it_is_committed(bot: SlackBot) -> None:
    bot.say("C0ACK", ADMIN, "!incident start Ack drill", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0ACK")

    for n in range(5):
        text = f"ack drill line {n}"
        bot.say("C0ACK", BOB, text, T0 + timedelta(minutes=1, seconds=n))
        envelope = bot.slack.pushed[-1]

        def acknowledged(envelope: str = envelope) -> bool:
            return envelope in bot.slack.acks

        bot.slack.wait_until(acknowledged, what="the acknowledgement")

        assert timeline_event(bot, text, key_only=False) is not None  # committed before Slack heard "got it"


def sample(name: str) -> dict[str, Any]:
    """The `event` of one of Slack's published samples (tests/data/signals/slack, PROVENANCE.md)."""
    event: dict[str, Any] = copy.deepcopy(json.loads((SAMPLES / name).read_text())["event"])
    return event


def pin_added(channel: str, ts: str, author: str) -> dict[str, Any]:
    """java-slack-sdk's PinAddedPayload sample, its blank ids filled in for this channel and message."""
    event = sample("java-slack-sdk-PinAddedPayload.json")
    event.update(user=ADMIN, channel_id=channel, item_user=author, event_ts=ts)
    event["item"].update(channel=channel, created_by=ADMIN)
    event["item"]["message"].update(ts=ts, user=author, text="", bot_id=None)
    return event


def test_an_edit_replaces_the_text_and_a_deletion_removes_the_line_originals_kept(bot: SlackBot) -> None:
    bot.say("C0EDIT", ADMIN, "!incident start Edits drill", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0EDIT")
    edited = bot.say("C0EDIT", BOB, "original message", T0 + timedelta(minutes=1))
    deleted = bot.say("C0EDIT", BOB, "Delete this message", T0 + timedelta(minutes=2))
    eventually(lambda: timeline_event(bot, "Delete this message", key_only=False), what="the messages")

    change = sample("bolt-python-message-changed.json")  # bolt-python's message_changed, on our message
    change.update(channel="C0EDIT")
    change["previous_message"]["ts"] = edited
    bot.slack.push(change)
    deletion = sample("bolt-python-message-deleted.json")
    deletion.update(channel="C0EDIT", deleted_ts=deleted)
    deletion["previous_message"]["ts"] = deleted
    bot.slack.push(deletion)
    join = sample("java-slack-sdk-MessageChannelJoinPayload.json")
    join.update(
        channel="C0EDIT", user=BOB, ts=slack_ts_after(deleted), text=f"<@{BOB}> has joined the channel"
    )
    bot.slack.push(join)

    event = eventually(lambda: timeline_event(bot, "updated message", key_only=False), what="the edit")
    eventually(
        lambda: True if timeline_event(bot, "Delete this message", key_only=False) is None else None,
        what="the deletion",
    )
    assert (event.source, event.at) == (f"slack:C0EDIT:{edited}", slack_time(edited))
    assert timeline_event(bot, "original message", key_only=False) is None
    assert timeline_event(bot, "has joined the channel", key_only=False) is None
    engine = Engine.from_settings(bot.settings)
    try:
        incident = open_incident(bot, "C0EDIT")
        details = [e.detail for e in engine.store.audit_trail(incident.id) if e.action.endswith("_message")]
    finally:
        engine.close()
    assert any('"original": "original message"' in d for d in details)
    assert any('"text": "Delete this message"' in d for d in details)
    assert bot.slack.pushed[-1] in bot.slack.acks


def slack_ts_after(ts: str) -> str:
    seconds, _, micros = ts.partition(".")
    return f"{seconds}.{int(micros) + 1:06d}"


def test_pin_to_channel_marks_the_message_key(bot: SlackBot) -> None:
    bot.say("C0PINNED", ADMIN, "!incident start Pinned drill", T0)
    bot.slack.wait_for_post(lambda post: post["channel"] == "C0PINNED")
    said = bot.say("C0PINNED", BOB, "replica lag is 40s on orders-db", T0 + timedelta(minutes=1))
    eventually(lambda: timeline_event(bot, "replica lag", key_only=False), what="the message")

    bot.slack.push(pin_added("C0PINNED", said, BOB))

    event = eventually(lambda: timeline_event(bot, "replica lag", key_only=True), what="the pin")
    assert event.source == f"slack:C0PINNED:{said}"
