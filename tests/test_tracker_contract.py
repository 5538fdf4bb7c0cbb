"""What every tracker adapter promises, checked for each one: the real client over HTTP against its local fake.

Filing is exactly-once only if every adapter keeps this contract: the ticket carries the item's key and is
found by it (also after a lost answer), outages are retryable and bad configuration is not, and no secret
reaches the tracker. A failed create says whether it certainly changed nothing (a refusal) or may have made
a ticket (a lost answer, a 5xx), and `find` may lag a create. After filing, `update` and `close_ticket` make
the ticket follow its item, idempotently: a retry after a lost answer changes nothing more. What only one vendor does is tested in
tests/test_trackers_<vendor>.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from typing import Any

import pytest

from agent.trackers import Closing, TicketRef, TrackerError
from agent.trackers.tracker import Tracker
from tests.fakes.server import LoseMode
from tests.tracker_fixtures import INCIDENT, KEY, GitHubVendor, JiraVendor, TrackerVendor, action

Vendor = TrackerVendor[Any]


@pytest.fixture(params=[JiraVendor, GitHubVendor], ids=["jira", "github"])
def vendor(request: pytest.FixtureRequest) -> Iterator[Vendor]:
    with request.param.serving() as serving:
        yield serving


@pytest.fixture
def tracker(vendor: Vendor) -> Iterator[Tracker]:
    with closing(vendor.tracker()) as tracker:
        yield tracker


def test_building_a_tracker_does_no_io(vendor: Vendor) -> None:
    vendor.tracker()
    assert vendor.server.calls() == []


def test_created_ticket_carries_the_key_and_the_details(vendor: Vendor, tracker: Tracker) -> None:
    vendor.make_assignable("alice")
    item = action()

    ref = tracker.create(item, INCIDENT)

    assert str(ref) == f"{vendor.name}:{vendor.ticket_key(1)}"
    assert ref.url == vendor.ticket_url(1)
    stored = vendor.stored(1)
    assert stored.title == item.title
    assert stored.labels == ["debrief", KEY]
    assert stored.assignees == ["alice"]
    assert stored.due == ("2024-03-15" if vendor.has_due_date else None)
    assert vendor.marker(KEY) in stored.body.splitlines()
    for fact in ("INC-7", INCIDENT, "alice", "2024-03-15", "page fires within 2 minutes of p99 > 2s"):
        assert fact in stored.body


def test_find_returns_the_existing_ticket_even_when_closed_and_none_for_an_unknown_key(
    vendor: Vendor, tracker: Tracker
) -> None:
    assert tracker.find(KEY) is None
    created = tracker.create(action(), INCIDENT)
    tracker.create(action(id=2, idempotency_key="debrief-INC-7-A2"), INCIDENT)
    vendor.close_ticket(1)

    assert tracker.find(KEY) == created
    assert tracker.find("debrief-INC-9-A1") is None
    assert vendor.last_search() == vendor.search_for("debrief-INC-9-A1")


def test_find_may_lag_a_create_while_the_ticket_itself_is_there_at_once(
    vendor: Vendor, tracker: Tracker
) -> None:
    """No tracker promises read-after-write for `find`: callers must not take "not found" for "not created"."""
    vendor.lag_lookups(3600)
    ref = tracker.create(action(), INCIDENT)

    assert tracker.find(KEY) is None
    assert tracker.status(ref) == vendor.statuses[0]

    vendor.lag_lookups(0)  # the index caught up
    assert tracker.find(KEY) == ref


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_ticket_created_before_a_lost_response_is_found_by_its_key(
    vendor: Vendor, tracker: Tracker, mode: LoseMode
) -> None:
    vendor.server.lose_next_create(mode)

    with pytest.raises(TrackerError) as lost:
        tracker.create(action(), INCIDENT)

    assert lost.value.retryable
    assert (
        not lost.value.changed_nothing
    )  # the caller cannot tell that the create happened, nor that it did not
    assert tracker.find(KEY) == vendor.ref(1)
    assert vendor.labelled(KEY) == [vendor.ticket_key(1)]


def test_outage_is_retryable_and_filing_after_recovery_creates_one_ticket(
    vendor: Vendor, tracker: Tracker
) -> None:
    vendor.server.fail_next(2, status=503)

    for _ in range(2):
        with pytest.raises(TrackerError) as outage:
            tracker.create(action(), INCIDENT)
        assert outage.value.retryable
        assert not outage.value.changed_nothing  # a 5xx may follow a write
        assert "HTTP 503" in str(outage.value)

    assert tracker.find(KEY) is None
    tracker.create(action(), INCIDENT)
    assert vendor.labelled(KEY) == [vendor.ticket_key(1)]


ATTEMPTS: dict[str, Callable[[Tracker, Vendor], object]] = {
    "find": lambda tracker, _: tracker.find(KEY),
    "create": lambda tracker, _: tracker.create(action(), INCIDENT),
    "update": lambda tracker, vendor: tracker.update(vendor.ref(1), action(), INCIDENT),
    "close": lambda tracker, vendor: tracker.close_ticket(vendor.ref(1), Closing.DONE),
}


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_refused_credentials_are_not_retryable_and_the_message_hides_the_token(
    vendor: Vendor, attempt: Callable[[Tracker, Vendor], object]
) -> None:
    tracker = vendor.tracker(token=vendor.wrong_token)

    with pytest.raises(TrackerError) as refused:
        attempt(tracker, vendor)

    assert not refused.value.retryable
    assert refused.value.changed_nothing
    message = str(refused.value)
    assert "HTTP 401" in message and vendor.token_setting in message
    assert vendor.wrong_token not in message and vendor.wrong_token not in repr(refused.value.args)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert vendor.tickets() == []


def test_a_slow_tracker_times_out_as_retryable(vendor: Vendor) -> None:
    timeout, delay = vendor.slow
    tracker = vendor.tracker(timeout=timeout)
    vendor.server.delay_next(delay)

    with pytest.raises(TrackerError) as slow:
        tracker.find(KEY)

    assert slow.value.retryable
    assert "did not answer in time" in str(slow.value)
    tracker.close()


def test_an_unreachable_tracker_is_retryable(vendor: Vendor) -> None:
    tracker = vendor.tracker(url=vendor.dead_url(), timeout=2.0)

    with pytest.raises(TrackerError) as down:
        tracker.find(KEY)

    assert down.value.retryable


def test_a_ticket_the_tracker_rejects_is_a_permanent_error(vendor: Vendor, tracker: Tracker) -> None:
    with pytest.raises(TrackerError) as invalid:
        tracker.create(action(title=""), INCIDENT)

    assert not invalid.value.retryable
    assert invalid.value.changed_nothing
    assert all(words in str(invalid.value) for words in vendor.empty_title_refusal), str(invalid.value)
    assert vendor.tickets() == []


def test_secrets_in_the_item_never_reach_the_tracker(vendor: Vendor, tracker: Tracker) -> None:
    github_token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    slack_token = "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"
    item = action(
        title=f"Rotate {github_token}",
        success_criteria=f"old password=hunter2 rejected; bot token {slack_token} revoked",
    )

    tracker.create(item, INCIDENT)

    stored = vendor.stored(1)
    text = stored.title + stored.body
    assert github_token not in text and slack_token not in text and "hunter2" not in text
    assert "[REDACTED:github-token]" in stored.title
    assert "[REDACTED:" in stored.body
    assert vendor.marker(KEY) in stored.body


def test_status_follows_the_ticket(vendor: Vendor, tracker: Tracker) -> None:
    new, closed = vendor.statuses
    ref = tracker.create(action(), INCIDENT)
    assert tracker.status(ref) == new

    vendor.close_ticket(1)

    assert tracker.status(TicketRef.parse(f"{vendor.name}:{vendor.ticket_key(1)}")) == closed


def test_owner_who_cannot_be_assigned_is_named_but_not_assigned(vendor: Vendor, tracker: Tracker) -> None:
    vendor.make_assignable("alicia")  # a near match is not the owner

    tracker.create(action(owner="@alice"), INCIDENT)

    stored = vendor.stored(1)
    assert stored.assignees == []
    assert vendor.owner_line("alice") in stored.body
    assert vendor.owner_lookup("alice") in vendor.server.calls()


# -- after filing: a ticket follows its item ----------------------------------------------------------------
EDITED = {
    "title": "Alert when payment gateway p99 exceeds 2s for 5 minutes",
    "owner": "bob",
    "due": date(2024, 4, 1),
}


def test_update_makes_the_ticket_state_the_item_and_keeps_its_key(vendor: Vendor, tracker: Tracker) -> None:
    vendor.make_assignable("alice")
    vendor.make_assignable("bob")
    ref = tracker.create(action(), INCIDENT)

    tracker.update(ref, action(**EDITED), INCIDENT)

    stored = vendor.stored(1)
    assert stored.title == EDITED["title"]
    assert stored.assignees == ["bob"]
    assert stored.due == ("2024-04-01" if vendor.has_due_date else None)
    assert stored.labels == ["debrief", KEY]
    assert vendor.marker(KEY) in stored.body.splitlines()
    assert vendor.owner_line("bob") in stored.body and "2024-04-01" in stored.body
    assert vendor.tickets() == [vendor.ticket_key(1)]
    assert tracker.find(KEY) == ref
    assert tracker.status(ref) == vendor.statuses[0]  # an update neither closes nor reopens


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_an_update_whose_answer_was_lost_is_retried_harmlessly(
    vendor: Vendor, tracker: Tracker, mode: LoseMode
) -> None:
    ref = tracker.create(action(), INCIDENT)
    vendor.server.lose_next_update(mode)

    with pytest.raises(TrackerError) as lost:
        tracker.update(ref, action(**EDITED), INCIDENT)

    assert lost.value.retryable and not lost.value.changed_nothing
    applied = vendor.stored(1)
    assert applied.title == EDITED["title"]  # it happened; the caller cannot know
    tracker.update(ref, action(**EDITED), INCIDENT)
    tracker.update(ref, action(**EDITED), INCIDENT)
    assert vendor.stored(1) == applied
    assert vendor.tickets() == [vendor.ticket_key(1)]


def test_an_owner_who_cannot_be_assigned_leaves_the_ticket_unassigned(
    vendor: Vendor, tracker: Tracker
) -> None:
    vendor.make_assignable("alice")
    ref = tracker.create(action(), INCIDENT)
    assert vendor.stored(1).assignees == ["alice"]

    tracker.update(ref, action(owner="carol"), INCIDENT)

    stored = vendor.stored(1)
    assert stored.assignees == []
    assert vendor.owner_line("carol") in stored.body


def test_an_update_during_an_outage_is_retryable_and_changes_nothing(
    vendor: Vendor, tracker: Tracker
) -> None:
    ref = tracker.create(action(), INCIDENT)
    vendor.server.fail_next(1, status=503)

    with pytest.raises(TrackerError) as outage:
        tracker.update(ref, action(**EDITED), INCIDENT)

    assert outage.value.retryable
    assert vendor.stored(1).title == action().title


def test_updating_or_closing_a_ticket_that_is_not_there_is_a_permanent_error(
    vendor: Vendor, tracker: Tracker
) -> None:
    tracker.create(action(), INCIDENT)

    for attempt in (
        lambda: tracker.update(vendor.ref(9), action(), INCIDENT),
        lambda: tracker.close_ticket(vendor.ref(9), Closing.DONE),
    ):
        with pytest.raises(TrackerError) as gone:
            attempt()
        assert not gone.value.retryable and "HTTP 404" in str(gone.value)
    assert vendor.tickets() == [vendor.ticket_key(1)]


def test_an_edited_title_with_a_secret_never_reaches_the_tracker(vendor: Vendor, tracker: Tracker) -> None:
    github_token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    ref = tracker.create(action(), INCIDENT)

    tracker.update(ref, action(title=f"Rotate {github_token} everywhere"), INCIDENT)

    stored = vendor.stored(1)
    assert github_token not in stored.title + stored.body
    assert "[REDACTED:github-token]" in stored.title


def test_closing_a_done_item_closes_its_ticket_once(vendor: Vendor, tracker: Tracker) -> None:
    ref = tracker.create(action(), INCIDENT)

    assert tracker.close_ticket(ref, Closing.DONE) == vendor.statuses[1]
    assert tracker.close_ticket(ref, Closing.DONE) == vendor.statuses[1]  # already closed: left as it is

    assert tracker.status(ref) == vendor.statuses[1]
    assert len(vendor.transitions()) == 1
    assert vendor.tickets() == [vendor.ticket_key(1)]


def test_closing_a_dropped_item_says_it_was_not_done(vendor: Vendor, tracker: Tracker) -> None:
    ref = tracker.create(action(), INCIDENT)

    assert tracker.close_ticket(ref, Closing.DROPPED) == vendor.dropped[0]

    assert vendor.closed_as(1) == vendor.dropped[1]


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_a_close_whose_answer_was_lost_is_retried_harmlessly(
    vendor: Vendor, tracker: Tracker, mode: LoseMode
) -> None:
    ref = tracker.create(action(), INCIDENT)
    vendor.server.lose_next_update(mode)

    with pytest.raises(TrackerError) as lost:
        tracker.close_ticket(ref, Closing.DONE)

    assert lost.value.retryable and not lost.value.changed_nothing
    assert tracker.close_ticket(ref, Closing.DONE) == vendor.statuses[1]
    assert len(vendor.transitions()) == 1  # the retry saw it closed
