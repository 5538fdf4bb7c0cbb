"""The GitHub adapter's own behaviour (rate limits, repositories, label length, Enterprise, building trackers
from settings), with the real PyGithub client against a local fake GitHub. The shared contract is in
tests/test_tracker_contract.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from agent.settings import load_settings
from agent.trackers import Closing, GitHubTracker, JiraTracker, TrackerError, make_trackers
from tests.fakes.github_server import MAX_LABEL, GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import github
from tests.tracker_fixtures import INCIDENT, KEY, GitHubVendor, action

__all__ = ["github"]


@pytest.fixture
def tracker(github: GitHubServer) -> Iterator[GitHubTracker]:
    with closing(GitHubVendor(github).tracker()) as tracker:
        yield tracker


def test_rate_limit_is_retryable(github: GitHubServer, tracker: GitHubTracker) -> None:
    github.fail_next(1, status=403)

    with pytest.raises(TrackerError) as limited:
        tracker.find(KEY)

    assert limited.value.retryable
    assert "rate limit" in str(limited.value)


def test_a_done_item_closes_its_issue_as_completed_in_one_patch(
    github: GitHubServer, tracker: GitHubTracker
) -> None:
    ref = tracker.create(action(), INCIDENT)

    assert tracker.close_ticket(ref, Closing.DONE) == "closed"

    [patch] = [r for r in github.requests if r.method == "PATCH"]
    assert patch.body == {"state": "closed", "state_reason": "completed"}
    assert github.issues[1]["state_reason"] == "completed"


def test_an_issue_closed_in_github_is_left_as_it_is(github: GitHubServer, tracker: GitHubTracker) -> None:
    ref = tracker.create(action(), INCIDENT)
    github.set_state(1, "closed")

    assert tracker.close_ticket(ref, Closing.DROPPED) == "closed"

    assert [r for r in github.requests if r.method == "PATCH"] == []


def test_unknown_repository_is_a_permanent_error(github: GitHubServer) -> None:
    tracker = GitHubTracker(github.token, "acme/nope", github.api_url, throttle=False)

    with pytest.raises(TrackerError) as missing:
        tracker.find(KEY)

    assert not missing.value.retryable
    assert "acme/nope" in str(missing.value)


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
        tracker = GitHubVendor(enterprise).tracker()

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
