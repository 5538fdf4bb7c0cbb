"""Alertmanager and GitHub webhooks over real HTTP against the bot's own webserver."""

from __future__ import annotations

import copy
import json
import socket
import time
from typing import Any

import pytest
import requests

from agent.models import EventKind, TimelineEvent
from tests.plugin_fixtures import ROOM, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]

ALERT: dict[str, Any] = {
    "version": "4",
    "status": "firing",
    "receiver": "debrief",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "service": "checkout-api"},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "checkout-api", "severity": "page"},
            "annotations": {"summary": "5xx above 5% for 5m"},
            "startsAt": "2024-03-01T09:58:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": "c0ffee",
        }
    ],
}

DEPLOYMENT: dict[str, Any] = {
    "action": "created",
    "deployment": {
        "id": 101,
        "sha": "9f2c1e7d5a",
        "ref": "main",
        "environment": "production",
        "description": "checkout v2.3.1",
        "creator": {"login": "dana"},
        "created_at": "2024-03-01T09:55:00Z",
        "payload": {"service": "checkout-api"},
    },
    "repository": {"name": "checkout", "full_name": "acme/checkout"},
    "sender": {"login": "dana"},
}

DEPLOYMENT_STATUS: dict[str, Any] = {
    **DEPLOYMENT,
    "deployment_status": {
        "id": 5001,
        "state": "success",
        "environment": "production",
        "creator": {"login": "deploy-bot"},
        "created_at": "2024-03-01T09:57:30Z",
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def base_url(chat: Chat) -> str:
    """Configure Errbot's Webserver plugin (as an admin would) on a free local port and wait until it listens."""
    port = free_port()
    ssl = {"enabled": False, "host": "127.0.0.1", "port": free_port(), "certificate": "", "key": ""}
    config = {"HOST": "127.0.0.1", "PORT": port, "SSL": ssl}
    chat.testbot.push_message(f"!plugin config Webserver {config!r}")
    assert chat.next_reply() == "Plugin configuration done."
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def post(url: str, body: Any, **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers={"Content-Type": "application/json", **headers}, timeout=5)


def start(chat: Chat, room: str = ROOM, service: str = "checkout-api", title: str = "Checkout 5xx") -> str:
    reply = chat.ask(f"!incident start {title} --service {service}", room=room, at=T0)
    return reply.split()[0]


def key_events(chat: Chat, incident_id: str = "INC-1") -> list[TimelineEvent]:
    engine = chat.engine()
    try:
        return [e for e in engine.timeline.events(incident_id) if e.kind is not EventKind.STATUS]
    finally:
        engine.close()


def test_firing_alert_becomes_a_key_event_at_its_start_time(chat: Chat, base_url: str) -> None:
    start(chat)
    response = post(f"{base_url}/debrief/alertmanager", ALERT)

    assert response.status_code == 200
    [event] = key_events(chat)
    assert response.json() == {
        "recorded": 1,
        "duplicates": 0,
        "unmatched": 0,
        "ignored": 0,
        "incidents": ["INC-1"],
        "signals": [
            {
                "index": 0,
                "source": "alertmanager:c0ffee:2024-03-01T09:58:00+00:00:firing",
                "status": "recorded",
                "incident": "INC-1",
                "event": f"E{event.id}",
                "signal": "S1",
            }
        ],
    }
    assert (event.kind, event.author, event.key) == (EventKind.ALERT, "alertmanager", True)
    assert event.text == "Alert firing: HighErrorRate: 5xx above 5% for 5m"
    assert event.at.isoformat() == "2024-03-01T09:58:00+00:00"


def test_repeated_alert_notification_is_recorded_once_and_resolution_is_new(
    chat: Chat, base_url: str
) -> None:
    start(chat)
    post(f"{base_url}/debrief/alertmanager", ALERT)
    again = post(f"{base_url}/debrief/alertmanager", ALERT)
    assert again.json()["duplicates"] == 1

    resolved = copy.deepcopy(ALERT)
    resolved["alerts"][0].update(status="resolved", endsAt="2024-03-01T10:31:00Z")
    assert post(f"{base_url}/debrief/alertmanager", resolved).json()["recorded"] == 1

    events = key_events(chat)
    assert [e.text for e in events] == [
        "Alert firing: HighErrorRate: 5xx above 5% for 5m",
        f"Alert resolved after 33m 0s: HighErrorRate: 5xx above 5% for 5m (follows E{events[0].id})",
    ]
    assert events[1].at.isoformat() == "2024-03-01T10:31:00+00:00"


def test_alert_goes_to_the_incident_of_its_service(chat: Chat, base_url: str) -> None:
    start(chat, room="#inc-search", service="search", title="Search slow")
    start(chat, room=ROOM, service="checkout-api")

    response = post(f"{base_url}/debrief/alertmanager", ALERT)

    assert response.json()["incidents"] == ["INC-2"]
    assert key_events(chat, "INC-1") == []
    assert len(key_events(chat, "INC-2")) == 1


def test_alert_for_another_service_leaves_the_only_open_incident_untouched(chat: Chat, base_url: str) -> None:
    start(chat, service="payments")

    response = post(f"{base_url}/debrief/alertmanager", ALERT)

    assert response.json()["incidents"] == []
    [signal] = response.json()["signals"]
    assert (signal["status"], signal["signal"]) == ("unmatched", "S1")
    assert signal["reason"] == "no open incident has the service service=checkout-api"
    assert key_events(chat) == []


def test_alert_with_no_matching_incident_is_accepted_but_unmatched(chat: Chat, base_url: str) -> None:
    start(chat, room="#inc-search", service="search")
    start(chat, room="#inc-payments", service="payments")

    response = post(f"{base_url}/debrief/alertmanager", ALERT)

    assert response.status_code == 200
    assert {k: v for k, v in response.json().items() if k != "signals"} == {
        "recorded": 0,
        "duplicates": 0,
        "unmatched": 1,
        "ignored": 0,
        "incidents": [],
    }


def broken(path: str, value: Any) -> dict[str, Any]:
    """ALERT with one field replaced (`alerts.0.startsAt`) or removed (value None)."""
    payload = copy.deepcopy(ALERT)
    *parents, last = path.split(".")
    target: Any = payload
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return payload


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "the request body is not valid JSON"),
        (b"[]", "body: Input should be a valid dictionary"),
        (broken("alerts", None), "alerts: Field required"),
        (broken("alerts", []), "alerts: List should have at least 1 item"),
        (broken("alerts.0.startsAt", "yesterday"), "alerts.0.startsAt: Input should be a valid datetime"),
        (
            broken("alerts.0.startsAt", "2024-03-01T09:58:00"),
            "alerts.0.startsAt: Input should have timezone info",
        ),
        (broken("alerts.0.status", "pending"), "alerts.0.status: Input should be 'firing' or 'resolved'"),
        (broken("alerts.0.labels", None), "alerts.0.labels: Field required"),
    ],
)
def test_malformed_alertmanager_payload_is_refused_with_the_reason(
    chat: Chat, base_url: str, body: Any, reason: str
) -> None:
    start(chat)
    response = post(f"{base_url}/debrief/alertmanager", body)

    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)
    assert key_events(chat) == []


def test_deployment_and_its_status_become_deploy_events(chat: Chat, base_url: str) -> None:
    start(chat)
    created = post(f"{base_url}/debrief/github", DEPLOYMENT, **{"X-GitHub-Event": "deployment"})
    status = post(f"{base_url}/debrief/github", DEPLOYMENT_STATUS, **{"X-GitHub-Event": "deployment_status"})

    assert (created.status_code, status.status_code) == (200, 200)
    events = key_events(chat)
    assert [(e.kind, e.author, e.at.isoformat(), e.text) for e in events] == [
        (
            EventKind.DEPLOY,
            "dana",
            "2024-03-01T09:55:00+00:00",
            "Deploy of acme/checkout main (9f2c1e7) to production started by dana: checkout v2.3.1",
        ),
        (
            EventKind.DEPLOY,
            "deploy-bot",
            "2024-03-01T09:57:30+00:00",
            f"Deploy of acme/checkout main (9f2c1e7) to production: success (follows E{events[0].id})",
        ),
    ]


def test_redelivered_deployment_is_recorded_once(chat: Chat, base_url: str) -> None:
    start(chat)
    post(f"{base_url}/debrief/github", DEPLOYMENT, **{"X-GitHub-Event": "deployment"})
    again = post(f"{base_url}/debrief/github", DEPLOYMENT, **{"X-GitHub-Event": "deployment"})
    assert again.json()["duplicates"] == 1
    assert len(key_events(chat)) == 1


def test_deployment_without_a_service_payload_matches_by_repository_name(chat: Chat, base_url: str) -> None:
    start(chat, room="#inc-search", service="search")
    start(chat, service="checkout")
    deployment = copy.deepcopy(DEPLOYMENT)
    deployment["deployment"]["payload"] = ""

    response = post(f"{base_url}/debrief/github", deployment, **{"X-GitHub-Event": "deployment"})

    assert response.json()["incidents"] == ["INC-2"]


def test_github_ping_and_other_events_record_nothing(chat: Chat, base_url: str) -> None:
    start(chat)
    ping = post(
        f"{base_url}/debrief/github", {"zen": "Keep it logically awesome."}, **{"X-GitHub-Event": "ping"}
    )
    push = post(f"{base_url}/debrief/github", {"ref": "refs/heads/main"}, **{"X-GitHub-Event": "push"})

    assert (ping.status_code, push.status_code) == (200, 202)
    assert push.json()["ignored"] == "push"
    assert key_events(chat) == []


@pytest.mark.parametrize(
    ("event", "body", "reason"),
    [
        ("", DEPLOYMENT, "missing X-GitHub-Event header"),
        ("deployment", b"\xff\xfe", "the request body is not valid JSON"),
        ("deployment", {"deployment": {"id": 1}}, "deployment.sha: Field required"),
        ("deployment_status", DEPLOYMENT, "deployment_status: Field required"),
        (
            "deployment",
            {**DEPLOYMENT, "deployment": {**DEPLOYMENT["deployment"], "created_at": "soon"}},
            "deployment.created_at: Input should be a valid datetime",
        ),
    ],
)
def test_malformed_github_delivery_is_refused_with_the_reason(
    chat: Chat, base_url: str, event: str, body: Any, reason: str
) -> None:
    start(chat)
    headers = {"X-GitHub-Event": event} if event else {}
    response = post(f"{base_url}/debrief/github", body, **headers)

    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)
    assert key_events(chat) == []


def test_webhooks_accept_only_post(chat: Chat, base_url: str) -> None:
    assert requests.get(f"{base_url}/debrief/alertmanager", timeout=5).status_code == 405


def oversized(size: int) -> bytes:
    """An Alertmanager notification padded to `size` bytes with an annotation."""
    body = copy.deepcopy(ALERT)
    body["alerts"][0]["annotations"]["description"] = ""
    bare = len(json.dumps(body).encode())
    body["alerts"][0]["annotations"]["description"] = "x" * (size - bare)
    return json.dumps(body).encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(chat: Chat, base_url: str, chunked: bool) -> None:
    start(chat)
    body = oversized(chat.settings.max_body_bytes + 1)
    data: Any = iter([body[: len(body) // 2], body[len(body) // 2 :]]) if chunked else body

    response = requests.post(
        f"{base_url}/debrief/alertmanager",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413
    assert response.json()["error"] == f"the request body is larger than {chat.settings.max_body_bytes} bytes"
    assert key_events(chat) == []
    assert (
        post(f"{base_url}/debrief/alertmanager", oversized(chat.settings.max_body_bytes)).status_code == 200
    )
