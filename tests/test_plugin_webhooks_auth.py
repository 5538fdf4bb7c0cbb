"""DEBRIEF_WEBHOOK_SECRET: only Alertmanager with the bearer token and GitHub with a valid signature get in."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from agent.settings import Settings, load_settings
from tests.plugin_fixtures import ADMIN, Chat, chat
from tests.test_plugin_webhooks import ALERT, DEPLOYMENT, base_url, key_events, post, start

__all__ = ["base_url", "chat"]

SECRET = "w3bh00k-shared-secret"


@pytest.fixture
def debrief_settings(tmp_path: Path) -> Settings:
    return load_settings(
        DEBRIEF_DATA_DIR=tmp_path / "data",
        DEBRIEF_KNOWLEDGE_DIR=tmp_path / "knowledge",
        DEBRIEF_BACKEND="Test",
        DEBRIEF_ADMINS=ADMIN,
        DEBRIEF_TRACKERS="none",
        DEBRIEF_WEBHOOK_SECRET=SECRET,
    )


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {SECRET}", SECRET])
def test_alert_without_the_bearer_token_is_refused_and_records_nothing(
    chat: Chat, base_url: str, authorization: str | None
) -> None:
    start(chat)
    headers = {"Authorization": authorization} if authorization else {}
    response = post(f"{base_url}/debrief/alertmanager", ALERT, **headers)
    assert response.status_code == 401
    assert "DEBRIEF_WEBHOOK_SECRET" in response.json()["error"]
    assert key_events(chat) == []


def test_alert_with_the_bearer_token_is_recorded(chat: Chat, base_url: str) -> None:
    start(chat)
    response = post(f"{base_url}/debrief/alertmanager", ALERT, Authorization=f"Bearer {SECRET}")
    assert response.status_code == 200
    assert [event.kind.value for event in key_events(chat)] == ["alert"]


@pytest.mark.parametrize("good", [True, False])
def test_github_deployment_needs_a_signature_made_with_the_secret(
    chat: Chat, base_url: str, good: bool
) -> None:
    start(chat)
    body = json.dumps(DEPLOYMENT).encode()
    sent = signature(body) if good else signature(body, secret="guessed")
    headers = {"X-GitHub-Event": "deployment", "X-Hub-Signature-256": sent}
    response = post(f"{base_url}/debrief/github", body, **headers)
    assert response.status_code == (200 if good else 401)
    assert len(key_events(chat)) == (1 if good else 0)
