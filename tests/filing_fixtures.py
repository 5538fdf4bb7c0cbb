"""Fixtures for the filing tests: the fake Jira and GitHub servers, real clients for them, an incident with items.

Import what a module uses (`from tests.filing_fixtures import github, jira, ...`) and list it in `__all__`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from agent.engine import Engine
from agent.models import ActionItem
from agent.trackers import GitHubTracker, JiraTracker
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer

START = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
DUE = date(2024, 3, 15)
# Items that pass the postmortem gate (specific title, owner, due date) and two it stops.
GOOD = (
    ("Add a canary stage to checkout deploys", "bob"),
    ("Alert when payment gateway p99 exceeds 2s", "alice"),
)
VAGUE = ("Improve monitoring of checkout", "carol", DUE)
OWNERLESS = ("Document the checkout-api rollback procedure", None, DUE)


@dataclass
class FakeClock:
    """A settable clock; `sleeps` records what the code under test asked to sleep (it returns at once)."""

    now: datetime = START
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with JiraServer() as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


def jira_tracker(server: JiraServer, token: str | None = None) -> JiraTracker:
    return JiraTracker(server.url, server.user, token or server.token, server.project, timeout=5.0)


def github_tracker(server: GitHubServer) -> GitHubTracker:
    return GitHubTracker(server.token, server.repository, server.api_url, 5.0, throttle=False)


def tracker_settings(jira: JiraServer, github: GitHubServer) -> dict[str, object]:
    """Settings (environment names) that point Debrief's trackers at the fake servers."""
    return {
        "DEBRIEF_TRACKERS": "jira,github",
        "JIRA_URL": jira.url,
        "JIRA_USER": jira.user,
        "JIRA_API_TOKEN": jira.token,
        "JIRA_PROJECT": jira.project,
        "GITHUB_TOKEN": github.token,
        "GITHUB_REPOSITORY": github.repository,
        "GITHUB_API_URL": github.api_url,
    }


def add_items(engine: Engine, incident_id: str, *, bad: bool = False) -> list[ActionItem]:
    """The GOOD items (and, with `bad`, the VAGUE and OWNERLESS ones) on the incident, in that order."""
    items = [engine.actions.add(incident_id, title, owner, DUE, "alice", START) for title, owner in GOOD]
    if bad:
        items += [
            engine.actions.add(incident_id, title, owner, due, "alice", START)
            for title, owner, due in (VAGUE, OWNERLESS)
        ]
    return items


def open_incident(engine: Engine, *, bad: bool = False, room: str = "#inc-checkout") -> list[ActionItem]:
    incident = engine.incidents.start(room, "Checkout 5xx spike", "alice", START)
    return add_items(engine, incident.id, bad=bad)


def tickets_per_key(jira: JiraServer, github: GitHubServer, items: list[ActionItem]) -> dict[str, list[int]]:
    """For each item's idempotency key: how many Jira issues and GitHub issues carry it."""
    return {
        item.idempotency_key: [
            len(jira.with_label(item.idempotency_key)),
            len(github.with_label(item.idempotency_key)),
        ]
        for item in items
    }
