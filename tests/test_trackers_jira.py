"""The Jira adapter, driving the real `jira` client over HTTP against a local fake Jira."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from agent.models import ActionItem
from agent.trackers import JiraTracker, TicketRef, TrackerError
from agent.trackers.tracker import key_label
from tests.fakes.jira_server import JiraServer
from tests.fakes.server import LoseMode

INCIDENT = "Checkout 5xx spike"
KEY = "debrief-INC-7-A1"  # the shape agent.actions.idempotency_key gives


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


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with JiraServer() as server:
        yield server


def tracker_for(server: JiraServer, token: str | None = None, timeout: float = 5.0) -> JiraTracker:
    return JiraTracker(server.url, server.user, token or server.token, server.project, timeout=timeout)


@pytest.fixture
def tracker(jira: JiraServer) -> Iterator[JiraTracker]:
    tracker = tracker_for(jira)
    yield tracker
    tracker.close()


def test_building_a_tracker_does_no_io(jira: JiraServer) -> None:
    tracker_for(jira)
    assert jira.calls() == []


def test_created_ticket_carries_the_key_and_the_details(jira: JiraServer, tracker: JiraTracker) -> None:
    jira.add_user("alice")
    item = action()

    ref = tracker.create(item, INCIDENT)

    assert str(ref) == "jira:OPS-1"
    assert ref.url == f"{jira.url}/browse/OPS-1"
    fields = jira.fields("OPS-1")
    assert fields["summary"] == item.title
    assert fields["labels"] == ["debrief", KEY]
    assert fields["duedate"] == "2024-03-15"
    assert fields["assignee"]["name"] == "alice"
    description = fields["description"]
    assert f"debrief:{KEY}" in description.splitlines()
    for fact in ("INC-7", INCIDENT, "alice", "2024-03-15", "page fires within 2 minutes of p99 > 2s"):
        assert fact in description


def test_find_returns_the_existing_ticket_and_none_for_an_unknown_key(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    assert tracker.find(KEY) is None
    created = tracker.create(action(), INCIDENT)
    tracker.create(action(id=2, idempotency_key="debrief-INC-7-A2"), INCIDENT)

    assert tracker.find(KEY) == created
    assert tracker.find("debrief-INC-9-A1") is None
    searches = [r for r in jira.requests if r.path == "/rest/api/2/search"]
    assert searches[-1].query["jql"] == [
        'project = "OPS" AND labels = "debrief-INC-9-A1" ORDER BY created ASC'
    ]


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_ticket_created_before_a_lost_response_is_found_by_its_key(
    jira: JiraServer, tracker: JiraTracker, mode: LoseMode
) -> None:
    jira.lose_next_create(mode)

    with pytest.raises(TrackerError) as lost:
        tracker.create(action(), INCIDENT)

    assert lost.value.retryable
    found = tracker.find(KEY)
    assert found == TicketRef("jira", "OPS-1")
    assert jira.with_label(KEY) == ["OPS-1"]


def test_outage_is_retryable_and_filing_after_recovery_creates_one_ticket(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    jira.fail_next(2, status=503)

    for _ in range(2):
        with pytest.raises(TrackerError) as outage:
            tracker.create(action(), INCIDENT)
        assert outage.value.retryable
        assert "HTTP 503" in str(outage.value)

    assert tracker.find(KEY) is None
    tracker.create(action(), INCIDENT)
    assert jira.with_label(KEY) == ["OPS-1"]


def test_refused_credentials_are_not_retryable_and_the_message_hides_the_token(jira: JiraServer) -> None:
    wrong = "wrong-token-ATATT3xFfGF0"
    tracker = tracker_for(jira, token=wrong)

    with pytest.raises(TrackerError) as refused:
        tracker.find(KEY)

    assert not refused.value.retryable
    message = str(refused.value)
    assert "HTTP 401" in message and "JIRA_API_TOKEN" in message
    assert wrong not in message and wrong not in repr(refused.value.args)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_a_slow_jira_times_out_as_retryable(jira: JiraServer) -> None:
    tracker = tracker_for(jira, timeout=0.3)
    jira.delay_next(1.0)

    with pytest.raises(TrackerError) as slow:
        tracker.find(KEY)

    assert slow.value.retryable
    assert "did not answer in time" in str(slow.value)


def test_unreachable_jira_is_retryable() -> None:
    with JiraServer() as server:
        url = server.url
    tracker = JiraTracker(url, "bot@example.com", "t", "OPS", timeout=2.0)

    with pytest.raises(TrackerError) as down:
        tracker.find(KEY)

    assert down.value.retryable


def test_rejected_fields_are_a_permanent_error(jira: JiraServer) -> None:
    tracker = JiraTracker(jira.url, jira.user, jira.token, jira.project, issue_type="Epic")

    with pytest.raises(TrackerError) as invalid:
        tracker.create(action(), INCIDENT)

    assert not invalid.value.retryable
    assert "valid issue type is required" in str(invalid.value)
    assert jira.issues == {}


def test_secrets_in_the_item_never_reach_jira(jira: JiraServer, tracker: JiraTracker) -> None:
    leaked = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    item = action(title=f"Rotate {leaked}", success_criteria="old password=hunter2 rejected")

    tracker.create(item, INCIDENT)

    fields = jira.fields("OPS-1")
    text = fields["summary"] + fields["description"]
    assert leaked not in text and "hunter2" not in text
    assert "[REDACTED:github-token]" in fields["summary"]
    assert f"debrief:{KEY}" in fields["description"]


def test_status_follows_the_ticket_in_jira(jira: JiraServer, tracker: JiraTracker) -> None:
    ref = tracker.create(action(), INCIDENT)
    assert tracker.status(ref) == "To Do"

    jira.set_status("OPS-1", "Done")

    assert tracker.status(TicketRef.parse("jira:OPS-1")) == "Done"


def test_owner_without_a_matching_jira_user_is_named_but_not_assigned(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    jira.add_user("alicia")  # a near match is not the owner

    tracker.create(action(owner="alice"), INCIDENT)

    fields = jira.fields("OPS-1")
    assert fields["assignee"] is None
    assert "*Owner:* alice" in fields["description"]


def test_owner_jira_will_not_assign_is_left_unassigned_and_filed_once(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    jira.add_user("alice", assignable=False)

    tracker.create(action(), INCIDENT)

    assert jira.fields("OPS-1")["assignee"] is None
    assert jira.calls().count("POST /rest/api/2/issue") == 2  # refused (nothing created), then filed
    assert list(jira.issues) == ["OPS-1"]


def test_due_date_off_the_create_screen_is_kept_in_the_description(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    jira.off_screen.add("duedate")

    tracker.create(action(), INCIDENT)

    fields = jira.fields("OPS-1")
    assert fields["duedate"] is None
    assert "*Due:* 2024-03-15" in fields["description"]


def test_key_that_is_not_a_valid_label_is_carried_as_a_stable_hash(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    key = "INC-7 / action 1"
    ref = tracker.create(action(idempotency_key=key), INCIDENT)

    label = key_label(key, 255)
    assert label.startswith("debrief-") and " " not in label
    assert jira.fields("OPS-1")["labels"] == ["debrief", label]
    assert f"debrief:{key}" in jira.fields("OPS-1")["description"]
    assert tracker.find(key) == ref


def test_jira_cloud_searches_with_enhanced_jql_and_assigns_by_account_id() -> None:
    with JiraServer(deployment="Cloud") as cloud:
        alice = cloud.add_user("alice", display_name="Alice Liddell")
        tracker = tracker_for(cloud)

        ref = tracker.create(action(owner="Alice Liddell"), INCIDENT)

        assert tracker.find(KEY) == ref
        assert cloud.fields("OPS-1")["assignee"]["accountId"] == alice.account_id
        assert "GET /rest/api/2/search/jql" in cloud.calls()
        tracker.close()
