"""Services, unmatched signals and the new webhooks in chat and over HTTP; `debrief timeline --json`.

The chat commands run through Errbot's test backend; the webhooks over real HTTP against the bot's own
webserver, with real senders' payloads (tests/data/signals).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from click.testing import CliRunner

from agent.chat_edits import ChatChange, apply_change
from backends.chat_changes import dispatch_chat_change
from debrief.cli import main
from tests.plugin_fixtures import T0, Chat, chat, debrief_settings
from tests.test_plugin_webhooks import base_url, key_events, post

__all__ = ["base_url", "chat", "debrief_settings"]

DATA = Path(__file__).parent / "data" / "signals"
GROUP = (DATA / "alertmanager" / "calert-13-alerts-no-fingerprints.json").read_bytes()
LATER = datetime(2024, 3, 1, 10, 5, tzinfo=UTC)


def test_an_incident_started_with_two_services_takes_the_alerts_of_both(chat: Chat, base_url: str) -> None:
    reply = chat.ask(
        "!incident start Nodes down --service node,prometheus", at=datetime(2018, 12, 26, 9, 40, tzinfo=UTC)
    )
    assert reply.startswith("INC-1 started: Nodes down (services node, prometheus).")
    assert chat.ask("!incident services") == (
        "INC-1 services: node, prometheus. Alerts and deploys naming them go on its timeline."
    )

    response = post(f"{base_url}/debrief/alertmanager", GROUP)

    assert (response.json()["recorded"], response.json()["incidents"]) == (13, ["INC-1"])
    assert len(key_events(chat)) == 13


def test_status_and_the_incident_list_name_every_service(chat: Chat) -> None:
    chat.ask("!incident start Nodes down --sev SEV2 --service node,prometheus", at=T0)
    added = chat.ask("!incident service add alertmanager")

    status = chat.ask("!incident status").splitlines()[0]
    listed = chat.ask("!incidents").splitlines()[-1]

    assert added.startswith("INC-1 services: node, alertmanager, prometheus.")  # the first, then by name
    assert status == "INC-1 Nodes down: investigating (SEV2, services node, alertmanager, prometheus)"
    assert listed.startswith("INC-1 Nodes down (SEV2, services node, alertmanager, prometheus) investigating")


def test_unmatched_alerts_are_listed_and_a_responder_attaches_one(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start Checkout 5xx --service checkout-api", at=T0)
    response = post(f"{base_url}/debrief/alertmanager", GROUP)
    assert (response.json()["unmatched"], key_events(chat)) == (13, [])

    listing = chat.ask("!incident signals")
    lines = listing.splitlines()
    assert lines[0] == "Unmatched signals (newest first; !incident signals attach S3 to add one here):"
    assert len(lines) == 14
    assert lines[1].startswith(
        "S13  2018-12-26 09:46:59 UTC  [alert]  Alert firing: Instance Down: Server is down  (job="
    )

    attached = chat.ask("!incident signals attach S1", at=LATER)

    [event] = key_events(chat)
    assert attached == f"S1 is on the INC-1 timeline as context from before the incident (E{event.id})."
    assert event.context and event.at == datetime(2018, 12, 26, 9, 46, 59, 225360, tzinfo=UTC)
    assert chat.ask("!incident signals attach S1") == "S1 is already on INC-1's timeline"
    assert chat.ask("!incident signals attach S99") == "there is no signal S99; see !incident signals"
    assert chat.ask("!incident signals attach alert") == (
        "'alert' is not a signal id; ids look like S3 (see !incident signals)"
    )
    assert chat.ask("!incident signals attach S99999999999999999999") == (  # past SQLite's integers
        "'S99999999999999999999' is not a signal id; ids look like S3 (see !incident signals)"
    )


def test_a_service_added_later_routes_the_next_alerts_and_can_be_removed(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start Nodes down", at=datetime(2018, 12, 26, 9, 40, tzinfo=UTC))
    assert (
        chat.ask("!incident services")
        == "INC-1 has no services yet: add one with !incident service add NAME."
    )

    assert chat.ask("!incident service add node", frm="bob") == (
        "INC-1 services: node. Alerts and deploys naming them go on its timeline."
    )
    assert post(f"{base_url}/debrief/alertmanager", GROUP).json()["recorded"] == 12
    assert chat.ask("!incident service add NODE") == "INC-1 already has the service node"
    assert chat.ask("!incident service remove node") == (
        "INC-1 has no services yet: add one with !incident service add NAME."
    )
    assert chat.ask("!incident service add") == "Name the service: !incident service add NAME"


def test_pagerduty_and_generic_events_over_http(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start PIG down --service pig208", at=datetime(2021, 6, 4, 13, 0, tzinfo=UTC))
    triggered = (DATA / "pagerduty" / "zulip-pagerduty-triggered_v3.json").read_bytes()
    event = {
        "service": "pig208",
        "text": "Feature flag pig-v2 turned off",
        "source": "flags:pig-v2:7",
        "key": True,
    }

    paged = post(f"{base_url}/debrief/pagerduty", triggered)
    generic = post(f"{base_url}/debrief/events", event)

    assert (paged.status_code, paged.json()["incidents"]) == (200, ["INC-1"])
    assert (generic.status_code, generic.json()["signals"][0]["status"]) == (200, "recorded")
    assert [e.text for e in key_events(chat)][-2:] == [
        "PagerDuty incident #9 triggered: Test Incident 3 (pig208, high urgency)",
        "Feature flag pig-v2 turned off",
    ]


def test_githubs_default_form_encoded_delivery_is_accepted(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start Hello down --service hello-world", at=datetime(2019, 5, 15, 15, 0, tzinfo=UTC))
    form = urlencode({"payload": (DATA / "github" / "octokit-deployment-payload.json").read_text()})

    response = requests.post(
        f"{base_url}/debrief/github",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "deployment"},
        timeout=5,
    )

    assert (response.status_code, response.json()["recorded"]) == (200, 1)


def test_debrief_timeline_json_prints_the_events_a_signal_produced(chat: Chat, base_url: str) -> None:
    chat.ask("!incident start Nodes down --service node", at=datetime(2018, 12, 27, 9, 40, tzinfo=UTC))
    post(f"{base_url}/debrief/alertmanager", GROUP)
    runner = CliRunner(env={"DEBRIEF_DATA_DIR": str(chat.settings.data_dir)})

    result = runner.invoke(main, ["timeline", "--json"])
    everything = runner.invoke(main, ["timeline", "inc-1", "--all", "--json"])
    unknown = runner.invoke(main, ["timeline", "INC-9"])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["incident_id"] == "INC-1"
    assert [e["kind"] for e in shown["events"]] == ["alert"] * 12 + [
        "status"
    ]  # the alerts kept their own time
    assert set(shown["events"][0]) == {"id", "at", "author", "kind", "key", "text"}
    assert shown["events"][0]["at"] == "2018-12-26T09:46:59.225360+00:00"
    assert json.loads(everything.stdout)["events"] == shown["events"]
    assert (unknown.exit_code, unknown.stderr.strip()) == (1, "debrief: error: there is no incident INC-9")


def test_an_edited_chat_line_shows_its_new_text_and_a_deleted_one_leaves_the_timeline(chat: Chat) -> None:
    chat.ask("!incident start Checkout 5xx --service checkout-api", at=T0)
    chat.say("error rate 21% on checkout-api", frm="bob", at=LATER, extras={"source": "slack:C1:1.1"})
    chat.say("probably DNS", frm="bob", at=LATER + timedelta(seconds=1), extras={"source": "slack:C1:1.2"})
    chat.ask("!note rolled back", frm="bob", at=LATER + timedelta(seconds=2), source="slack:C1:1.3")
    assert "probably DNS" in chat.ask("!timeline --all")  # captured (reading commands flush the capture)
    engine = chat.engine()
    try:
        changes = [
            ChatChange("edit", "slack:C1:1.1", "bob", LATER, "error rate 12% on checkout-api"),
            ChatChange("delete", "slack:C1:1.2", "slack", LATER),
            ChatChange("edit", "slack:C1:1.3", "bob", LATER, "rolled back the 09:55 deploy"),
        ]
        for change in changes:
            apply_change(engine, change)
        events = engine.timeline.events("INC-1", key_only=False)
        audit = [(e.action, e.detail) for e in engine.store.audit_trail("INC-1") if "message" in e.action]
    finally:
        engine.close()

    texts = [e.text for e in events if e.kind.value in ("message", "note")]
    assert texts == ["error rate 12% on checkout-api", "rolled back the 09:55 deploy"]
    assert [action for action, _ in audit] == ["edit_message", "delete_message", "edit_message"]
    assert '"original": "error rate 21% on checkout-api"' in audit[0][1]
    assert '"text": "probably DNS"' in audit[1][1]
    assert "probably DNS" not in chat.ask("!timeline --all")


def test_an_edited_note_command_edits_the_note_and_an_edit_into_a_command_is_not_run(chat: Chat) -> None:
    chat.ask("!incident start Checkout 5xx --service checkout-api", at=T0)
    chat.ask("!note rolled back", frm="bob", at=LATER, source="slack:C1:2.1")
    chat.say("looking at dashboards", frm="bob", at=LATER, extras={"source": "slack:C1:2.2"})
    assert "looking at dashboards" in chat.ask("!timeline --all")

    bot = chat.testbot.bot
    dispatch_chat_change(
        bot, ChatChange("edit", "slack:C1:2.1", "bob", LATER, "!note rolled back the deploy")
    )
    dispatch_chat_change(bot, ChatChange("edit", "slack:C1:2.2", "bob", LATER, "!incident resolve"))

    deadline = time.monotonic() + 10
    while "rolled back the deploy" not in (shown := chat.ask("!timeline --all")):
        assert time.monotonic() < deadline, shown
        time.sleep(0.05)
    assert "looking at dashboards" in shown
    assert "investigating" in chat.ask("!incident status")  # the edit into a command ran nothing


def test_alerts_that_fired_before_the_incident_had_their_service_join_it(chat: Chat, base_url: str) -> None:
    """The alert that woke someone up went nowhere (no incident had its service yet); the incident started for
    it, or given the service later, takes it, from its pre-incident window on."""
    assert post(f"{base_url}/debrief/alertmanager", GROUP).json()["unmatched"] == 13

    started = chat.ask(
        "!incident start Nodes down --service node", at=datetime(2018, 12, 26, 9, 50, tzinfo=UTC)
    )

    assert "Earlier unmatched signals for its services are on its timeline now: S" in started
    events = key_events(chat)
    assert len(events) == 12 and not any(event.context for event in events)
    assert all(event.at < datetime(2018, 12, 26, 9, 50, tzinfo=UTC) for event in events)
    left = chat.ask("!incident signals").splitlines()[1:]  # listed no more: they are on the incident
    assert len(left) == 1 and left[0].endswith("(job=prometheus)")
    assert chat.ask("!incident service add prometheus").startswith("INC-1 services: node, prometheus.")
    assert len(key_events(chat)) == 13


def test_an_alert_from_before_the_pre_incident_window_is_not_taken(chat: Chat, base_url: str) -> None:
    post(f"{base_url}/debrief/alertmanager", GROUP)

    started = chat.ask(
        "!incident start Nodes down --service node", at=datetime(2018, 12, 26, 11, 0, tzinfo=UTC)
    )

    assert "Earlier unmatched" not in started
    assert key_events(chat) == []
