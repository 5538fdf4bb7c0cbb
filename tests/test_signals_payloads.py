"""Real senders' payloads (tests/data/signals, see its PROVENANCE.md) through the webhooks' engine calls.

Each test reads a payload a real sender or receiver published and asserts the events it produces: how many, at
what time, with what text, on which incident, and what a redelivery adds (nothing).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from agent.engine import Engine
from agent.models import EventKind, TimelineEvent
from agent.postmortem.facts import times_of
from agent.settings import load_settings
from agent.signals import (
    SignalRules,
    attach_signal,
    receive_alertmanager,
    receive_events,
    receive_github,
    receive_pagerduty,
    unmatched_signals,
)
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

DATA = Path(__file__).parent / "data" / "signals"
SECRET = "pd-signing-secret"


def payload(name: str) -> bytes:
    return (DATA / name).read_bytes()


def as_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload(name))
    return data


def rules(**settings: str) -> SignalRules:
    return SignalRules.from_settings(load_settings(**settings))


def start(engine: Engine, services: str, room: str = "#inc", at: datetime | None = None) -> str:
    started = engine.incidents.start(
        room, "Incident", "alice", at or datetime(2018, 12, 26, 9, 40, tzinfo=UTC), services=(services,)
    )
    return started.id


def signal_events(engine: Engine, incident_id: str, key_only: bool = False) -> list[TimelineEvent]:
    return [
        e for e in engine.timeline.events(incident_id, key_only=key_only) if e.kind is not EventKind.STATUS
    ]


def alerts(engine: Engine, body: bytes, signal_rules: SignalRules | None = None) -> dict[str, Any]:
    reply = receive_alertmanager(engine, signal_rules or SignalRules(), None, "", body)
    assert reply.status == 200, reply.body
    return reply.body


# -- Alertmanager and Grafana --------------------------------------------------------------------------------------


def test_a_13_alert_group_without_fingerprints_gives_13_events_and_a_redelivery_none(engine: Engine) -> None:
    incident_id = start(engine, "node")  # calert's sample: job=node for 12 alerts, job=prometheus for one
    engine.incidents.add_service(
        incident_id, "prometheus", "alice", datetime(2018, 12, 26, 9, 41, tzinfo=UTC)
    )
    body = payload("alertmanager/calert-13-alerts-no-fingerprints.json")

    first = alerts(engine, body)
    again = alerts(engine, body)

    assert (first["recorded"], first["duplicates"], first["incidents"]) == (13, 0, [incident_id])
    assert (again["recorded"], again["duplicates"]) == (0, 13)
    events = signal_events(engine, incident_id)
    assert len(events) == 13 and all(e.key and e.kind is EventKind.ALERT for e in events)
    assert {e.text for e in events} == {"Alert firing: Instance Down: Server is down"}
    assert {e.at for e in events} == {datetime(2018, 12, 26, 9, 46, 59, 225360, tzinfo=UTC)}
    assert len({e.source for e in events}) == 13  # each known by the hash of its own labels


def thread(event: TimelineEvent) -> str:
    return str(event.source).rsplit(":", 1)[0]


def test_an_alertmonitor_group_of_3_gives_3_events_and_its_clear_resolves_each(engine: Engine) -> None:
    incident_id = start(engine, "blackbox-icmp", at=datetime(2019, 9, 27, 16, 30, tzinfo=UTC))

    fired = alerts(engine, payload("alertmanager/alertmonitor-3-alerts-firing.json"))
    cleared = alerts(engine, payload("alertmanager/alertmonitor-3-alerts-resolved.json"))

    assert (fired["recorded"], cleared["recorded"]) == (3, 3)
    events = signal_events(engine, incident_id)
    firing = {thread(e): e for e in events if e.text.startswith("Alert firing")}
    resolved = [e for e in events if e.text.startswith("Alert resolved")]
    assert len(firing) == 3 and len(resolved) == 3
    for event in resolved:  # Alertmonitor's clear carries no end time: said so, and linked to its firing
        first = firing[thread(event)]
        assert event.text.endswith(f"does not reply to ICMP pings (follows E{first.id})")
        assert "(its end time was not sent)" in event.text


def test_a_resolved_grafana_alert_says_how_long_it_fired_once_attached(engine: Engine) -> None:
    incident_id = start(engine, "checkout", at=datetime(2022, 6, 17, 0, 45, tzinfo=UTC))

    body = alerts(engine, payload("grafana/zulip-grafana-alert-9-resolved.json"))

    [signal] = body["signals"]
    assert (signal["status"], signal["signal"]) == ("unmatched", "S1")
    assert signal["reason"].startswith("names no service (routing labels: service, app")
    assert signal_events(engine, incident_id) == []  # the only open incident is not assumed
    attached = attach_signal(engine, SignalRules(), "S1", incident_id, "carol")
    [event] = signal_events(engine, incident_id)
    assert (event.id, event.author, event.at) == (
        attached.event_id,
        "grafana",
        datetime(2022, 6, 17, 0, 51, 24, 67337, tzinfo=UTC),
    )
    assert (
        event.text
        == "Alert resolved after 10m 23s: Test alert: This is a summary field, failure on <no value>"
    )
    assert unmatched_signals(engine, now=datetime.now(UTC)) == []


def test_grafanas_documented_webhook_gives_one_event_per_alert_by_fingerprint(engine: Engine) -> None:
    incident_id = start(engine, "blue", at=datetime(2021, 10, 12, 7, 50, tzinfo=UTC))
    team_rules = rules(DEBRIEF_ROUTING_LABELS="service,team")

    body = alerts(engine, payload("grafana/zulip-grafana-alert_multiple_v8.json"), team_rules)

    assert body["recorded"] == 2
    events = signal_events(engine, incident_id)
    assert [(e.author, e.text, e.at) for e in events] == [
        (
            "grafana",
            "Alert firing: High memory usage: This alert was triggered for zone us-1",
            datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC),
        ),
        (
            "grafana",
            "Alert firing: High CPU usage: This alert was triggered for zone eu-1",
            datetime(2021, 10, 12, 7, 56, 3, 157076, tzinfo=UTC),
        ),
    ]
    assert [e.source for e in events] == [  # sent as 09:51:03+02:00: known by the instant, in UTC
        "grafana:c6eadffa33fcdf37:2021-10-12T07:51:03.157076+00:00:firing",
        "grafana:bc97ff14869b13e3:2021-10-12T07:56:03.157076+00:00:firing",
    ]


def test_truncated_alerts_are_recorded_as_alerts_that_were_not_sent(engine: Engine) -> None:
    incident_id = start(engine, "h", at=datetime(2020, 1, 1, 12, 30, tzinfo=UTC))

    body = alerts(
        engine,
        payload("alertmanager/alertmanager-to-github-truncated.json"),
        rules(DEBRIEF_ROUTING_LABELS="g"),
    )

    assert body["recorded"] == 2
    events = signal_events(engine, incident_id)
    assert [e.text for e in events] == [
        "Alert firing: alert: g=h",
        "2 more alerts were not sent (a=b; Alertmanager's max_alerts)",
    ]
    assert events[1].at == events[0].at == datetime(2020, 1, 1, 12, 34, 56, tzinfo=UTC)
    assert (
        alerts(
            engine,
            payload("alertmanager/alertmanager-to-github-truncated.json"),
            rules(DEBRIEF_ROUTING_LABELS="g"),
        )["duplicates"]
        == 2
    )


def test_an_alert_without_its_own_status_has_its_notifications(engine: Engine) -> None:
    incident_id = start(engine, "docker_nodes", at=datetime(2018, 3, 7, 11, 30, tzinfo=UTC))

    alerts(engine, payload("alertmanager/prometheus-msteams-no-alert-status.json"))

    [event] = signal_events(engine, incident_id)
    assert event.text == "Alert firing: high_memory_load: Server High Memory usage"


@pytest.mark.parametrize(
    ("ignore", "ignored"),
    [
        ("Watchdog,DeadMansSwitch,InfoInhibitor", 0),
        ("Watchdog,severity=deadman", 2),
        ("alertname=~DeadMan.*", 2),
    ],
)
def test_heartbeat_alerts_are_ignored_by_the_configured_matchers(
    engine: Engine, ignore: str, ignored: int
) -> None:
    body = alerts(
        engine, payload("alertmanager/calert-deadmansswitch.json"), rules(DEBRIEF_IGNORE_ALERTS=ignore)
    )

    assert (body["ignored"], body["unmatched"]) == (ignored, 2 - ignored)
    assert all(
        s["status"] == "ignored" and "DEBRIEF_IGNORE_ALERTS" in s["reason"]
        for s in body["signals"][2 - ignored :]
    )


def test_an_alert_for_another_service_leaves_the_open_incident_untouched_and_shows_as_unmatched(
    engine: Engine,
) -> None:
    incident_id = start(engine, "checkout-api", at=datetime(2020, 2, 6, 0, 20, tzinfo=UTC))
    zulip = as_json("alertmanager/zulip-alertmanager-alert.json")
    for alert in zulip["alerts"]:
        alert["labels"]["service"] = "payments"  # Zulip's alert, as a payments service would label it

    body = alerts(engine, json.dumps(zulip).encode())

    assert (body["recorded"], body["unmatched"], body["incidents"]) == (0, 2, [])
    assert signal_events(engine, incident_id) == []
    waiting = unmatched_signals(engine, now=datetime.now(UTC))
    assert [(s.id, s.routing) for s in waiting] == [
        ("S2", {"service": "payments"}),
        ("S1", {"service": "payments"}),
    ]
    assert waiting[0].text == "Alert firing: High CPU Temperature: High CPU core temperature"


def test_an_alert_that_started_days_before_the_incident_is_context_not_detection(engine: Engine) -> None:
    incident_id = start(engine, "node", at=datetime(2018, 12, 28, 12, 0, tzinfo=UTC))

    alerts(engine, payload("alertmanager/calert-13-alerts-no-fingerprints.json"))

    events = signal_events(engine, incident_id)
    assert len(events) == 12 and all(e.context for e in events)
    assert events[0].at == datetime(2018, 12, 26, 9, 46, 59, 225360, tzinfo=UTC)  # its own time, kept
    assert events[0].text.endswith("(context: started 2018-12-26 09:46 UTC, before the incident)")
    times = times_of(engine.incidents.get(incident_id), engine.timeline.events(incident_id, key_only=False))
    assert times.started_at == datetime(2018, 12, 28, 12, 0, tzinfo=UTC)
    assert times.detected_by is None or times.detected_by.kind is not EventKind.ALERT


def test_a_service_alias_routes_an_alert_to_the_incident_of_its_service(engine: Engine) -> None:
    incident_id = start(engine, "node-fleet")

    body = alerts(
        engine,
        payload("alertmanager/calert-13-alerts-no-fingerprints.json"),
        rules(DEBRIEF_SERVICE_ALIASES="node-fleet=node|prometheus"),
    )

    assert (body["recorded"], body["incidents"]) == (13, [incident_id])


# -- GitHub deployments ------------------------------------------------------------------------------------------


def github(
    engine: Engine, event: str, body: bytes, signal_rules: SignalRules | None = None, **kw: Any
) -> dict[str, Any]:
    reply = receive_github(
        engine,
        signal_rules or SignalRules(),
        kw.get("secret"),
        event,
        kw.get("signature", ""),
        body,
        kw.get("content_type", "application/json"),
    )
    assert reply.status == 200, reply.body
    return reply.body


def test_octokits_deployment_and_its_success_are_key_events_matched_by_repository(engine: Engine) -> None:
    incident_id = start(engine, "hello-world", at=datetime(2019, 5, 15, 15, 0, tzinfo=UTC))

    github(engine, "deployment", payload("github/octokit-deployment-payload.json"))
    github(engine, "deployment_status", payload("github/octokit-deployment_status-payload.json"))

    events = signal_events(engine, incident_id, key_only=True)
    assert [(e.kind, e.author, e.at, e.text) for e in events] == [
        (
            EventKind.DEPLOY,
            "Codertocat",
            datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC),
            "Deploy of Codertocat/Hello-World master (f95f852) to production started by Codertocat",
        ),
        (
            EventKind.DEPLOY,
            "Codertocat",
            datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC),
            f"Deploy of Codertocat/Hello-World master (f95f852) to production: success (follows E{events[0].id})",
        ),
    ]


def test_an_in_progress_deployment_is_an_ordinary_event_or_dropped(engine: Engine) -> None:
    incident_id = start(engine, "Codertocat/Hello-World", at=datetime(2022, 1, 3, 1, 0, tzinfo=UTC))
    gh_pages = payload("github/octokit-deployment_status-gh-pages.payload.json")

    dropped = github(engine, "deployment_status", gh_pages, rules(DEBRIEF_DEPLOY_PROGRESS="drop"))
    kept = github(engine, "deployment_status", gh_pages)

    assert (dropped["ignored"], dropped["recorded"], kept["recorded"]) == (1, 0, 1)
    [event] = signal_events(engine, incident_id)
    assert (event.key, event.author, event.text) == (
        False,
        "github-pages[bot]",
        "Deploy of Codertocat/Hello-World master (f95f852) to github-pages: in_progress",
    )


def test_a_form_encoded_delivery_is_read_after_its_signature_is_checked_over_the_raw_body(
    engine: Engine,
) -> None:
    incident_id = start(engine, "Hello-World", at=datetime(2019, 5, 15, 15, 0, tzinfo=UTC))
    form = urlencode({"payload": payload("github/octokit-deployment-payload.json").decode()}).encode()
    good = "sha256=" + hmac.new(b"s3cret", form, hashlib.sha256).hexdigest()
    form_type = "application/x-www-form-urlencoded"

    refused = receive_github(engine, SignalRules(), "s3cret", "deployment", "sha256=00", form, form_type)
    body = github(engine, "deployment", form, secret="s3cret", signature=good, content_type=form_type)

    assert refused.status == 401
    assert body["recorded"] == 1
    assert [e.author for e in signal_events(engine, incident_id)] == ["Codertocat"]


# -- PagerDuty ---------------------------------------------------------------------------------------------------


def pagerduty(engine: Engine, name: str, signal_rules: SignalRules | None = None) -> Any:
    body = payload(f"pagerduty/zulip-pagerduty-{name}_v3.json")
    signature = "v1=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return receive_pagerduty(
        engine, signal_rules or SignalRules(), (None, SECRET), "", f"v1=stale,{signature}", body
    )


def test_pagerduty_v3_triggered_acknowledged_and_resolved_are_key_events_of_the_service(
    engine: Engine,
) -> None:
    incident_id = start(engine, "pig208", at=datetime(2021, 6, 4, 13, 0, tzinfo=UTC))

    replies = [pagerduty(engine, name) for name in ("resolved", "triggered", "acknowledged")]

    assert [r.body["recorded"] for r in replies] == [1, 1, 1]
    events = signal_events(engine, incident_id, key_only=True)
    assert [(e.at, e.author, e.text) for e in events] == [
        (
            datetime(2021, 6, 4, 13, 16, 53, 816000, tzinfo=UTC),
            "PIG 208",
            "PagerDuty incident #6 resolved: Test Incident (pig208, high urgency)",
        ),
        (
            datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC),
            "PIG 208",
            "PagerDuty incident #9 triggered: Test Incident 3 (pig208, high urgency)",
        ),
        (
            datetime(2021, 6, 4, 13, 55, 30, 394000, tzinfo=UTC),
            "PIG 208",
            "PagerDuty incident #10 acknowledged by PIG 208: Test Incident (pig208, high urgency)",
        ),
    ]
    assert pagerduty(engine, "triggered").body["duplicates"] == 1


def test_a_pagerduty_note_follows_its_escalated_incident(engine: Engine) -> None:
    incident_id = start(engine, "checkout", at=datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    aliased = rules(DEBRIEF_SERVICE_ALIASES="checkout=Default Service")

    escalated = pagerduty(engine, "escalate", aliased)
    note = pagerduty(engine, "annotated", aliased)

    assert (escalated.body["incidents"], note.body["incidents"]) == ([incident_id], [incident_id])
    events = signal_events(engine, incident_id)
    assert [e.text for e in events] == [
        "PagerDuty incident #5 escalated to Harsh Santwani: Critical: Checkout API High Latency "
        "(Default Service, P1, high urgency)",
        "PagerDuty note on Critical: Checkout API High Latency: Running KILL on long-running queries from the "
        f"reporting-service. (follows E{events[0].id})",
    ]


def test_a_pagerduty_trigger_of_a_configured_priority_starts_an_incident_in_its_room(engine: Engine) -> None:
    paging = rules(DEBRIEF_PAGERDUTY_ROOM="#pages", DEBRIEF_PAGERDUTY_PRIORITIES="*")

    first = pagerduty(engine, "triggered", paging)
    again = pagerduty(engine, "triggered", paging)

    assert first.body["started"] == [{"incident": "INC-1", "room": "#pages"}]
    assert first.announcements == (("#pages", first.announcements[0][1]),)
    assert "INC-1 started from PagerDuty: Test Incident 3" in first.announcements[0][1]
    assert (again.body["duplicates"], "started" in again.body) == (1, False)
    incident = engine.incidents.get("INC-1")
    assert (incident.room, incident.title, incident.started_at, incident.started_by) == (
        "#pages",
        "Test Incident 3 (PagerDuty PFQZPSY)",
        datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC),
        "pagerduty",
    )
    assert incident.services == ["pig208"]
    acknowledged_elsewhere = pagerduty(engine, "acknowledged", paging)  # same service: routed there
    assert acknowledged_elsewhere.body["incidents"] == ["INC-1"]


def test_a_pagerduty_trigger_of_another_priority_starts_nothing(engine: Engine) -> None:
    reply = pagerduty(
        engine, "triggered", rules(DEBRIEF_PAGERDUTY_ROOM="#pages", DEBRIEF_PAGERDUTY_PRIORITIES="P1")
    )

    assert (reply.body["unmatched"], "started" in reply.body) == (1, False)
    assert engine.incidents.list_open() == []


def priority_set(engine: Engine, priority: str, at: str, signal_rules: SignalRules) -> Any:
    """The published trigger (priority null) as PagerDuty sends it once someone sets a priority: the same
    incident in an `incident.priority_updated` event (PagerDuty's webhooks V3 reference: its data is the incident)."""
    body = json.loads(payload("pagerduty/zulip-pagerduty-triggered_v3.json"))
    body["event"].update(id=f"01BZYIL05THJDFF2Y08X9SV{priority}", event_type="incident.priority_updated")
    body["event"]["occurred_at"] = at
    body["event"]["data"]["priority"] = {"id": "PSO75BM", "type": "priority_reference", "summary": priority}
    raw = json.dumps(body).encode()
    signature = "v1=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return receive_pagerduty(engine, signal_rules, (None, SECRET), "", signature, raw)


def test_a_priority_set_after_the_trigger_starts_the_incident_and_brings_the_trigger(engine: Engine) -> None:
    paging = rules(DEBRIEF_PAGERDUTY_ROOM="#pages", DEBRIEF_PAGERDUTY_PRIORITIES="P1,P2")
    assert "started" not in pagerduty(engine, "triggered", paging).body  # no priority yet

    lower = priority_set(engine, "P4", "2021-06-04T13:40:00Z", paging)
    raised = priority_set(engine, "P1", "2021-06-04T13:42:00Z", paging)

    assert "started" not in lower.body
    assert raised.body["started"] == [{"incident": "INC-1", "room": "#pages"}]
    texts = [e.text for e in engine.timeline.events("INC-1", key_only=False) if e.kind is EventKind.ALERT]
    assert texts[0] == "PagerDuty incident #9 triggered: Test Incident 3 (pig208, high urgency)"
    assert [text.split(":")[0] for text in texts[1:]] == [
        "PagerDuty incident #9 priority set to P4",  # unmatched until the incident started, then with it
        "PagerDuty incident #9 priority set to P1",
    ]


def test_a_page_for_a_busy_room_is_said_there_with_how_to_attach_it(engine: Engine) -> None:
    engine.incidents.start("#pages", "Database failover", "alice", datetime(2021, 6, 4, 13, 0, tzinfo=UTC))

    reply = pagerduty(
        engine, "triggered", rules(DEBRIEF_PAGERDUTY_ROOM="#pages", DEBRIEF_PAGERDUTY_PRIORITIES="*")
    )

    [(room, text)] = reply.announcements
    signal = reply.body["signals"][0]["signal"]
    assert (room, reply.body["unmatched"]) == ("#pages", 1)
    assert text == (
        "PagerDuty page Test Incident 3 (no priority) came in while INC-1 is open here, so no incident was "
        f"started for it. It is kept as {signal}: !incident signals attach {signal} puts it on INC-1."
    )


@pytest.mark.parametrize(
    ("signature", "authorization", "status"),
    [("v1=forged", "", 401), ("", "Bearer hook-secret", 200), ("", "", 401)],
)
def test_pagerduty_needs_its_signature_or_the_bearer_token(
    engine: Engine, signature: str, authorization: str, status: int
) -> None:
    body = payload("pagerduty/zulip-pagerduty-triggered_v3.json")

    reply = receive_pagerduty(engine, SignalRules(), ("hook-secret", SECRET), authorization, signature, body)

    assert reply.status == status


# -- Generic events ----------------------------------------------------------------------------------------------


def events_reply(engine: Engine, body: Any) -> Any:
    return receive_events(engine, SignalRules(), None, "", json.dumps(body).encode())


def test_generic_events_go_to_the_named_incident_or_service_once_per_source(engine: Engine) -> None:
    incident_id = start(engine, "checkout", at=datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
    ci = {
        "service": "checkout",
        "text": "Pipeline 4711 deployed checkout v2.3.1",
        "at": "2024-03-01T09:55:00Z",
    }
    flag = {
        "incident": incident_id.lower(),
        "text": "Flag new-checkout off",
        "key": True,
        "source": "launchdarkly:flag:42",
    }

    first = events_reply(engine, [{**ci, "source": "gitlab:pipeline:4711"}, flag])
    again = events_reply(engine, [{**ci, "source": "gitlab:pipeline:4711"}, flag])

    assert (first.status, first.body["recorded"], again.body["duplicates"]) == (200, 2, 2)
    events = signal_events(engine, incident_id)
    assert [(e.author, e.key, e.text) for e in events] == [
        ("gitlab", False, "Pipeline 4711 deployed checkout v2.3.1"),
        ("launchdarkly", True, "Flag new-checkout off"),
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"text": "no target"}, 'name the incident ("incident": "INC-3") or the service'),
        ({"service": "x"}, "text: Field required"),
        ({"incident": "INC-99", "text": "gone"}, "there is no incident INC-99"),
    ],
)
def test_a_generic_event_without_a_target_or_text_is_refused(engine: Engine, body: Any, error: str) -> None:
    reply = events_reply(engine, body)

    assert reply.status == 400
    assert error in reply.body["error"]


def test_unmatched_signals_listed_are_the_recent_ones(engine: Engine) -> None:
    alerts(engine, copy.deepcopy(payload("alertmanager/calert-13-alerts-no-fingerprints.json")))

    now = datetime.now(UTC)
    assert len(unmatched_signals(engine, now=now)) == 13
    assert unmatched_signals(engine, now=now + timedelta(days=2)) == []
