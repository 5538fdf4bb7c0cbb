"""Nudges: the poller posts each due reminder to the incident room once, never a flood."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.plugin_fixtures import Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]


def configure(chat: Chat, config: str) -> str:
    chat.testbot.push_message(f"!plugin config DebriefNudges {config}")
    return chat.next_reply()


def test_stale_incident_gets_each_reminder_once(chat: Chat) -> None:
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    chat.ask("!incident start Checkout 5xx spike", at=two_hours_ago)

    replies = [configure(chat, "{'INTERVAL_SECONDS': 0.1}")] + [chat.next_reply() for _ in range(3)]

    assert "Plugin configuration done." in replies
    nudges = sorted(reply for reply in replies if reply.startswith("INC-1"))
    assert len(nudges) == 3
    assert "INC-1 has had no commander for 120 minutes." in nudges[0]
    assert "INC-1 has no severity yet." in nudges[1]
    assert "INC-1: nothing key recorded for 120 minutes." in nudges[2]
    chat.assert_silent(timeout=1.0)  # ten more polls, no repeats


def test_fresh_and_complete_incidents_are_left_alone(chat: Chat) -> None:
    chat.ask("!incident start Checkout 5xx spike --sev SEV2")
    chat.ask("!incident commander @carol")

    assert configure(chat, "{'INTERVAL_SECONDS': 0.1}") == "Plugin configuration done."
    chat.assert_silent(timeout=0.6)


def test_thresholds_come_from_the_plugin_config(chat: Chat) -> None:
    three_minutes_ago = datetime.now(UTC) - timedelta(minutes=3)
    chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=three_minutes_ago)
    chat.ask("!incident commander @carol", at=three_minutes_ago)

    config = "{'INTERVAL_SECONDS': 0.1, 'QUIET_AFTER_MINUTES': 2}"
    replies = [configure(chat, config), chat.next_reply()]

    assert any(reply.startswith("INC-1: nothing key recorded for") for reply in replies)


def test_an_overdue_action_item_is_reminded_then_escalated_once_each(chat: Chat) -> None:
    long_ago = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=long_ago)
    chat.ask("!incident commander @carol", at=long_ago)
    chat.ask("!action add Add a canary stage to checkout deploys @bob due:2024-03-15", at=long_ago)
    chat.ask("!incident resolve", frm="carol", at=long_ago + timedelta(minutes=30))

    # Escalate a second after the reminder (the default is two days).
    replies = [configure(chat, "{'INTERVAL_SECONDS': 0.1, 'OVERDUE_ESCALATE_AFTER_DAYS': 0.00001}")]
    replies += [chat.next_reply(timeout=10) for _ in range(2)]

    assert "Plugin configuration done." in replies
    [reminder] = [reply for reply in replies if reply.startswith("Action items past their due date")]
    [escalation] = [reply for reply in replies if reply.startswith("@carol: as commander")]
    assert "INC-1/A1 Add a canary stage to checkout deploys (due 2024-03-15; @bob)" in reminder
    assert "INC-1/A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15, " in escalation
    chat.assert_silent(timeout=1.0)  # ten more polls, no repeats


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("{'INTERVAL_SECONDS': 0}", "INTERVAL_SECONDS must be a positive number, got 0"),
        ("{'INTERVAL_SECONDS': 'often'}", "INTERVAL_SECONDS must be a positive number, got 'often'"),
        ("{'EVERY': 5}", "unknown key EVERY"),
        (
            "{'OVERDUE_ESCALATE_AFTER_DAYS': -1}",
            "OVERDUE_ESCALATE_AFTER_DAYS must be a positive number, got -1",
        ),
    ],
)
def test_bad_nudge_config_is_refused(chat: Chat, config: str, expected: str) -> None:
    reply = configure(chat, config)
    assert reply.startswith("Incorrect plugin configuration:")
    assert expected in reply
