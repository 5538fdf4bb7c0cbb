"""The GitHub adapter, driving the real PyGithub client over HTTP against a local fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from agent.models import ActionItem
from agent.settings import load_settings
from agent.trackers import GitHubTracker, JiraTracker, TicketRef, TrackerError, make_trackers
from tests.fakes.github_server import MAX_LABEL, GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.fakes.server import LoseMode

INCIDENT = "Checkout 5xx spike"
KEY = "debrief-INC-7-A1"
KEY_LABEL = KEY  # keys already start with "debrief-": the label is the key itself


def action(**overrides: object) -> ActionItem:
    fields: dict[str, object] = {
        "id": 1,
        "incident_id": "INC-7",
        "title": "Alert on payment gateway timeouts",
        "owner": "@alice",
        "due": date(2024, 3, 15),
        "success_criteria": "page fires within 2 minutes of p99 > 2s",
        "idempotency_key": KEY,
    }
    fields.update(overrides)
    return ActionItem.model_validate(fields)


def tracker_for(server: GitHubServer, token: str | None = None, timeout: float = 5.0) -> GitHubTracker:
    return GitHubTracker(token or server.token, server.repository, server.api_url, timeout, throttle=False)


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


@pytest.fixture
def tracker(github: GitHubServer) -> Iterator[GitHubTracker]:
    tracker = tracker_for(github)
    yield tracker
    tracker.close()


def test_created_issue_carries_the_key_and_the_details(github: GitHubServer, tracker: GitHubTracker) -> None:
    github.assignable.add("alice")

    ref = tracker.create(action(), INCIDENT)

    assert str(ref) == "github:acme/ops#1"
    assert ref.url == f"{github.url}/acme/ops/issues/1"
    issue = github.issues[1]
    assert issue["title"] == "Alert on payment gateway timeouts"
    assert [label["name"] for label in issue["labels"]] == ["debrief", KEY_LABEL]
    assert [user["login"] for user in issue["assignees"]] == ["alice"]
    assert f"<!-- debrief:{KEY} -->" in issue["body"]
    for fact in ("INC-7", INCIDENT, "alice", "2024-03-15", "page fires within 2 minutes of p99 > 2s"):
        assert fact in issue["body"]


def test_owner_who_cannot_be_assigned_is_named_in_the_body(
    github: GitHubServer, tracker: GitHubTracker
) -> None:
    tracker.create(action(owner="@bob"), INCIDENT)

    assert github.issues[1]["assignees"] == []
    assert "**Owner:** bob" in github.issues[1]["body"]
    assert "GET /repos/acme/ops/assignees/bob" in github.calls()


def test_find_returns_the_existing_issue_even_when_closed(
    github: GitHubServer, tracker: GitHubTracker
) -> None:
    assert tracker.find(KEY) is None
    created = tracker.create(action(), INCIDENT)
    tracker.create(action(id=2, idempotency_key="debrief-INC-7-A2"), INCIDENT)
    github.set_state(1, "closed")

    assert tracker.find(KEY) == created
    assert tracker.find("debrief-INC-9-A1") is None
    listing = [r for r in github.requests if r.method == "GET" and r.path == "/repos/acme/ops/issues"][-1]
    assert listing.query["labels"] == ["debrief-INC-9-A1"] and listing.query["state"] == ["all"]


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_issue_created_before_a_lost_response_is_found_by_its_key(
    github: GitHubServer, tracker: GitHubTracker, mode: LoseMode
) -> None:
    github.lose_next_create(mode)

    with pytest.raises(TrackerError) as lost:
        tracker.create(action(), INCIDENT)

    assert lost.value.retryable
    assert tracker.find(KEY) == TicketRef("github", "acme/ops#1")
    assert github.with_label(KEY_LABEL) == [1]


def test_outage_is_retryable_and_filing_after_recovery_creates_one_issue(
    github: GitHubServer, tracker: GitHubTracker
) -> None:
    github.fail_next(2, status=503)

    for _ in range(2):
        with pytest.raises(TrackerError) as outage:
            tracker.create(action(), INCIDENT)
        assert outage.value.retryable
        assert "HTTP 503" in str(outage.value)

    assert tracker.find(KEY) is None
    tracker.create(action(), INCIDENT)
    assert github.with_label(KEY_LABEL) == [1]


def test_rate_limit_is_retryable(github: GitHubServer, tracker: GitHubTracker) -> None:
    github.fail_next(1, status=403)

    with pytest.raises(TrackerError) as limited:
        tracker.find(KEY)

    assert limited.value.retryable
    assert "rate limit" in str(limited.value)


def test_refused_token_is_not_retryable_and_the_message_hides_it(github: GitHubServer) -> None:
    wrong = "ghp_wrongTokenAbC123xyz"
    tracker = tracker_for(github, token=wrong)

    with pytest.raises(TrackerError) as refused:
        tracker.create(action(), INCIDENT)

    assert not refused.value.retryable
    message = str(refused.value)
    assert "HTTP 401" in message and "GITHUB_TOKEN" in message
    assert wrong not in message and wrong not in repr(refused.value.args)
    assert github.issues == {}


def test_unknown_repository_is_a_permanent_error(github: GitHubServer) -> None:
    tracker = GitHubTracker(github.token, "acme/nope", github.api_url, throttle=False)

    with pytest.raises(TrackerError) as missing:
        tracker.find(KEY)

    assert not missing.value.retryable
    assert "acme/nope" in str(missing.value)


def test_rejected_issue_is_a_permanent_error(github: GitHubServer, tracker: GitHubTracker) -> None:
    with pytest.raises(TrackerError) as invalid:
        tracker.create(action(title=""), INCIDENT)

    assert not invalid.value.retryable
    assert "HTTP 422" in str(invalid.value) and "title missing_field" in str(invalid.value)


def test_a_slow_github_times_out_as_retryable(github: GitHubServer) -> None:
    tracker = tracker_for(github, timeout=1)  # PyGithub takes whole seconds
    github.delay_next(1.5)

    with pytest.raises(TrackerError) as slow:
        tracker.find(KEY)

    assert slow.value.retryable
    tracker.close()


def test_secrets_in_the_item_never_reach_github(github: GitHubServer, tracker: GitHubTracker) -> None:
    leaked = "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"
    tracker.create(action(success_criteria=f"bot token {leaked} revoked"), INCIDENT)

    assert leaked not in github.issues[1]["body"]
    assert "[REDACTED:" in github.issues[1]["body"]


def test_status_follows_the_issue_on_github(github: GitHubServer, tracker: GitHubTracker) -> None:
    ref = tracker.create(action(), INCIDENT)
    assert tracker.status(ref) == "open"

    github.set_state(1, "closed")

    assert tracker.status(TicketRef.parse("github:acme/ops#1")) == "closed"


def test_long_key_gets_a_label_github_accepts_and_is_still_found(
    github: GitHubServer, tracker: GitHubTracker
) -> None:
    key = "INC-1234-" + "a" * 60
    ref = tracker.create(action(idempotency_key=key), INCIDENT)

    label = github.issues[1]["labels"][1]["name"]
    assert len(label) <= MAX_LABEL and label.startswith("debrief-")
    assert f"<!-- debrief:{key} -->" in github.issues[1]["body"]
    assert tracker.find(key) == ref


def test_enterprise_api_url_with_a_base_path_works() -> None:
    with GitHubServer(prefix="/api/v3") as enterprise:
        tracker = tracker_for(enterprise)

        ref = tracker.create(action(), INCIDENT)
        enterprise.set_state(1, "closed")

        assert tracker.find(KEY) == ref
        assert tracker.status(ref) == "closed"
        assert all(call.split()[1].startswith("/api/v3/repos/acme/ops") for call in enterprise.calls())
        tracker.close()


def test_make_trackers_builds_the_configured_trackers_without_connecting(github: GitHubServer) -> None:
    with JiraServer() as jira:
        settings = load_settings(
            _env_file=None,
            DEBRIEF_TRACKERS="jira,github",
            JIRA_URL=jira.url,
            JIRA_USER=jira.user,
            JIRA_API_TOKEN=jira.token,
            JIRA_PROJECT="OPS",
            GITHUB_TOKEN=github.token,
            GITHUB_REPOSITORY="acme/ops",
            GITHUB_API_URL=github.api_url,
        )

        trackers = make_trackers(settings)

        assert [type(t) for t in trackers] == [JiraTracker, GitHubTracker]
        assert jira.calls() == [] and github.calls() == []
        assert [t.find(KEY) for t in trackers] == [None, None]
        assert github.token not in repr(trackers) and jira.token not in repr(trackers)
        for tracker in trackers:
            tracker.close()


def test_no_trackers_configured_builds_none() -> None:
    assert make_trackers(load_settings(_env_file=None, DEBRIEF_TRACKERS="none")) == []
