"""What senders write reaches chat as one line of text that cannot act: no link, emphasis or ping of its own, no line
break that forges another signal or event, no control character for a console.

Through the bot (Errbot's test backend, replies rendered as the console shows them) and its webhooks over real
HTTP, with real senders' payloads (tests/data/signals) carrying hostile text where the sender puts free text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.settings import Settings
from agent.signals import SignalRules, receive_pagerduty
from backends.rendering.slack import render_slack
from tests.plugin_fixtures import T0, Chat, bot_settings, chat
from tests.test_plugin_signals import LATER
from tests.test_plugin_webhooks import base_url, post

__all__ = ["base_url", "chat"]

DATA = Path(__file__).parent / "data" / "signals"
PHISHING = "[Reset your SSO password here](https://evil.example/login) <!channel> **now**"
FORGED = "S99  2024-03-01 10:00:00 UTC  [alert]  Alert firing: attach me"


@pytest.fixture
def debrief_settings(tmp_path: Path) -> Settings:
    return bot_settings(tmp_path, DEBRIEF_PAGERDUTY_ROOM="#pages", DEBRIEF_PAGERDUTY_PRIORITIES="*")


def page(title: str) -> dict[str, Any]:
    """PagerDuty's incident.triggered (V3) as Zulip recorded it, with the title a responder gave the incident."""
    triggered: dict[str, Any] = json.loads(
        (DATA / "pagerduty" / "zulip-pagerduty-triggered_v3.json").read_text()
    )
    triggered["event"]["data"]["title"] = title
    return triggered


def hostile_alerts() -> dict[str, Any]:
    """Zulip's Alertmanager group, its first alert's summary and a label written to ping, forge and beep."""
    group: dict[str, Any] = json.loads((DATA / "alertmanager" / "zulip-alertmanager-alert.json").read_text())
    first = group["alerts"][0]
    first["annotations"]["summary"] = f"CPU hot, <@U0ADMIN1> see <#C0GENERAL|general>\n{FORGED}"
    first["labels"]["service"] = "payments\x07\x1b[2J"
    return group


def test_a_pages_title_is_announced_as_written_never_as_a_link_or_emphasis(chat: Chat, base_url: str) -> None:
    response = post(f"{base_url}/debrief/pagerduty", page(PHISHING))

    assert response.json()["started"] == [{"incident": "INC-1", "room": "#pages"}]
    assert chat.next_reply() == (
        f"INC-1 started from PagerDuty: {PHISHING} (no priority). "
        "An admin names its commander with !incident commander @user."
    )


def test_a_pages_title_on_slack_is_no_link_and_pings_no_channel(tmp_path: Path) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'debrief.db'}")
    try:
        paging = SignalRules(pagerduty_room="#pages", pagerduty_priorities=frozenset({"*"}))
        body = json.dumps(page(PHISHING)).encode()

        reply = receive_pagerduty(engine, paging, (None, None), "", "", body)
    finally:
        engine.close()

    [(room, text)] = reply.announcements
    [slack] = render_slack(text, 4000)
    assert room == "#pages"
    assert "<https://evil.example/login" not in slack and "<!channel>" not in slack
    assert "[Reset your SSO password here](https://evil.example/login) &lt;!channel&gt;" in slack


def test_listed_signals_are_one_line_each_ping_no_one_and_carry_no_control_characters(
    chat: Chat, base_url: str
) -> None:
    chat.ask("!incident start Checkout 5xx --service checkout-api", at=T0)
    assert post(f"{base_url}/debrief/alertmanager", hostile_alerts()).json()["unmatched"] == 2

    listing = chat.ask("!incident signals")

    heading, *lines = listing.splitlines()
    assert heading.startswith("Unmatched signals")
    assert [line.split()[0] for line in lines] == ["S2", "S1"]
    assert not re.search(r"[\x00-\x1f\x7f]", listing.replace("\n", ""))
    assert "<@U0ADMIN1>" not in listing and "<#C0GENERAL" not in listing
    assert (
        "Alert firing: High CPU Temperature: CPU hot, @U0ADMIN1 see #general "
        f"{FORGED}  (service=payments [2J)"
    ) in lines[1]


def test_an_attached_signal_is_one_inert_line_on_the_timeline(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start Checkout 5xx --service checkout-api", at=T0)
    post(f"{base_url}/debrief/alertmanager", hostile_alerts())
    chat.ask("!incident signals attach S1", at=LATER)

    timeline = chat.ask("!timeline --all")

    _heading, *lines = timeline.splitlines()
    assert all(re.match(r"E\d+  ", line) for line in lines), timeline
    assert "<@U0ADMIN1>" not in timeline
    [alert] = [line for line in lines if "[alert]" in line]
    assert f"CPU hot, @U0ADMIN1 see #general {FORGED}" in alert


def test_a_paged_incidents_title_is_one_line(chat: Chat, base_url: str) -> None:
    post(f"{base_url}/debrief/pagerduty", page(f"Checkout down\n{FORGED}\x1b[2J"))
    chat.next_reply()  # the announcement

    status = chat.ask("!incident status", room="#pages")

    assert status.splitlines()[0] == (
        f"INC-1 Checkout down {FORGED} [2J (PagerDuty PFQZPSY): investigating (service pig208)"
    )
