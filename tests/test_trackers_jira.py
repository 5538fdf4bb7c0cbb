"""The Jira adapter's own behaviour (issue types, create and edit screens, label rules, workflows, Cloud), with
the real `jira` client against a local fake Jira. What every tracker does is in tests/test_tracker_contract.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date

import pytest

from agent.trackers import Closing, JiraTracker, TrackerError
from agent.trackers.tracker import key_label
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import jira
from tests.tracker_fixtures import INCIDENT, KEY, JiraVendor, action

__all__ = ["jira"]


@pytest.fixture
def tracker(jira: JiraServer) -> Iterator[JiraTracker]:
    with closing(JiraVendor(jira).tracker()) as tracker:
        yield tracker


def test_an_issue_type_the_project_lacks_is_a_permanent_error(jira: JiraServer) -> None:
    tracker = JiraTracker(jira.url, jira.user, jira.token, jira.project, issue_type="Epic")

    with pytest.raises(TrackerError) as invalid:
        tracker.create(action(), INCIDENT)

    assert not invalid.value.retryable
    assert "valid issue type is required" in str(invalid.value)
    assert jira.issues == {}


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


def test_fields_off_the_edit_screen_are_left_out_of_an_update(jira: JiraServer, tracker: JiraTracker) -> None:
    ref = tracker.create(action(), INCIDENT)
    jira.off_screen.add("duedate")

    tracker.update(ref, action(title="Alert when gateway p99 exceeds 2s", due=date(2024, 4, 1)), INCIDENT)

    fields = jira.fields("OPS-1")
    assert fields["summary"] == "Alert when gateway p99 exceeds 2s"
    assert fields["duedate"] == "2024-03-15" and "*Due:* 2024-04-01" in fields["description"]
    assert [call for call in jira.calls() if call.startswith("PUT")] == ["PUT /rest/api/2/issue/10001"] * 2


def test_a_ticket_in_progress_is_closed_by_the_transition_to_done(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    ref = tracker.create(action(), INCIDENT)
    jira.set_status("OPS-1", "In Progress")

    assert tracker.close_ticket(ref, Closing.DONE) == "Done"

    [posted] = [r for r in jira.requests if r.method == "POST" and r.path.endswith("/transitions")]
    assert posted.body == {"transition": {"id": 31}, "fields": {}}


def test_a_workflow_without_a_way_to_done_is_a_permanent_error_naming_what_it_offers(
    jira: JiraServer, tracker: JiraTracker
) -> None:
    ref = tracker.create(action(), INCIDENT)
    jira.workflow["To Do"] = [("11", "Start Progress", "In Progress")]

    with pytest.raises(TrackerError) as stuck:
        tracker.close_ticket(ref, Closing.DROPPED)

    assert not stuck.value.retryable and stuck.value.changed_nothing
    assert "from To Do its workflow offers no transition to a done status (offered: Start Progress)" in str(
        stuck.value
    )
    assert jira.status_of("OPS-1") == "To Do"


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
        tracker = JiraVendor(cloud).tracker()

        ref = tracker.create(action(owner="Alice Liddell"), INCIDENT)

        assert tracker.find(KEY) == ref
        assert cloud.fields("OPS-1")["assignee"]["accountId"] == alice.account_id
        assert "GET /rest/api/2/search/jql" in cloud.calls()
        tracker.close()
