"""Filed tickets follow their items through the outbox: an edit updates each ticket, done and drop close it,
exactly once in effect and never a second ticket, across outages, lost answers and crashes. The real `jira` and
PyGithub clients against the local fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from agent.engine import Engine
from agent.filing import Filer, FilingOutcome, FilingResult, Outbox, ticket_note
from agent.filing.filer import LEASE
from agent.models import ActionItem, ActionStatus
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.fakes.server import LoseMode
from tests.filing_fixtures import (
    START,
    FakeClock,
    github,
    github_tracker,
    jira,
    jira_tracker,
    open_incident,
    tickets_per_key,
)
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine", "github", "jira"]

GOOD_TITLE = "Add a canary stage to checkout deploys"  # A1 as filed
NEW_TITLE = "Add a canary stage with automatic rollback to checkout deploys"
NEW_DUE = date(2024, 4, 2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def filer(engine: Engine, jira: JiraServer, github: GitHubServer, clock: FakeClock) -> Iterator[Filer]:
    filer = Filer(engine, [jira_tracker(jira), github_tracker(github)], clock, clock.sleep)
    yield filer
    filer.close()


@pytest.fixture
def filed(engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer) -> list[ActionItem]:
    """INC-1 with A1 (bob) and A2 (alice) filed to both trackers; carol can be assigned in both."""
    for login in ("bob", "alice", "carol"):
        jira.add_user(login)
        github.assignable.add(login)
    items = open_incident(engine)
    assert {r.outcome for r in filer.file_pending().results} == {FilingOutcome.FILED}
    return items


def edit_a1(engine: Engine) -> None:
    engine.actions.edit("INC-1", 1, title=NEW_TITLE, owner="carol", due=NEW_DUE, by="dana", at=START)


def outcomes(results: list[FilingResult]) -> list[tuple[str | None, str]]:
    return [(r.ref, r.outcome.value) for r in results]


def creates(jira: JiraServer, github: GitHubServer) -> int:
    return jira.calls().count("POST /rest/api/2/issue") + github.calls().count("POST /repos/acme/ops/issues")


def edits(jira: JiraServer, github: GitHubServer) -> int:
    return sum(c.startswith("PUT ") for c in jira.calls()) + sum(
        c.startswith("PATCH ") for c in github.calls()
    )


def test_an_edit_of_a_filed_item_updates_each_ticket_once_and_files_nothing_new(
    engine: Engine, filer: Filer, filed: list[ActionItem], jira: JiraServer, github: GitHubServer
) -> None:
    edit_a1(engine)

    results = filer.update_tickets(1, by="dana")

    assert outcomes(results) == [("jira:OPS-1", "updated"), ("github:acme/ops#1", "updated")]
    fields = jira.fields("OPS-1")
    assert (fields["summary"], fields["duedate"], fields["assignee"]["name"]) == (
        NEW_TITLE,
        "2024-04-02",
        "carol",
    )
    issue = github.issues[1]
    assert (issue["title"], [a["login"] for a in issue["assignees"]]) == (NEW_TITLE, ["carol"])
    assert "**Due:** 2024-04-02" in issue["body"]
    assert tickets_per_key(jira, github, filed) == {item.idempotency_key: [1, 1] for item in filed}
    assert creates(jira, github) == 4
    # Up to date: nothing more to send, by this run or any later one.
    assert filer.update_tickets(1, by="dana") == []
    again = filer.file_pending()
    assert {r.outcome for r in again.results} == {FilingOutcome.ALREADY_FILED}
    assert edits(jira, github) == 2
    updates = [json.loads(e.detail) for e in engine.store.audit_trail("INC-1") if e.action == "update_ticket"]
    assert [(u["ref"], u["revision"]) for u in updates] == [("jira:OPS-1", 1), ("github:acme/ops#1", 1)]


def test_done_and_drop_close_the_tickets_and_the_trackers_status_keeps_them_so(
    engine: Engine, filer: Filer, filed: list[ActionItem], jira: JiraServer, github: GitHubServer
) -> None:
    engine.actions.done("INC-1", 1, by="bob")
    engine.actions.drop("INC-1", 2, "the gateway is being replaced", by="alice")

    report = filer.file_pending()  # a manual run files nothing new and brings every ticket up to date

    assert report.counts() == {"already_filed": 4, "updated": 4}
    assert [(r.ref, r.outcome.value, r.reason) for r in report.of(FilingOutcome.UPDATED)] == [
        ("jira:OPS-1", "updated", "closed: Done"),
        ("github:acme/ops#1", "updated", "closed"),
        ("jira:OPS-2", "updated", "closed: Won't Do"),
        ("github:acme/ops#2", "updated", "closed"),
    ]
    assert [jira.status_of(key) for key in ("OPS-1", "OPS-2")] == ["Done", "Won't Do"]
    assert [github.issues[n]["state_reason"] for n in (1, 2)] == ["completed", "not_planned"]
    filer.sync_status("INC-1")
    assert [item.status for item in engine.actions.list("INC-1")] == [ActionStatus.DONE, ActionStatus.DROPPED]
    assert creates(jira, github) == 4


def test_an_update_during_an_outage_is_retried_by_the_poller_and_lands_once(
    engine: Engine,
    filer: Filer,
    filed: list[ActionItem],
    jira: JiraServer,
    github: GitHubServer,
    clock: FakeClock,
) -> None:
    edit_a1(engine)
    jira.fail_next(1, status=503)

    first = filer.update_tickets(1, by="dana")

    assert outcomes(first) == [("jira:OPS-1", "update_pending"), ("github:acme/ops#1", "updated")]
    assert first[0].next_attempt_at == clock.now + timedelta(minutes=1)
    [row] = Outbox(engine.store).stale("INC-1")
    assert ticket_note(row, 1).startswith("jira:OPS-1 (update pending: Jira at")
    assert filer.retry_due().results == ()  # not due yet: the tracker is not asked
    assert jira.fields("OPS-1")["summary"] == GOOD_TITLE

    clock.advance(timedelta(minutes=1))
    later = filer.retry_due()

    assert outcomes(list(later.results)) == [("jira:OPS-1", "updated")]
    assert jira.fields("OPS-1")["summary"] == NEW_TITLE
    assert Outbox(engine.store).stale() == []
    assert tickets_per_key(jira, github, filed) == {item.idempotency_key: [1, 1] for item in filed}
    assert creates(jira, github) == 4


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_an_update_whose_answer_was_lost_is_sent_again_harmlessly(
    engine: Engine,
    filer: Filer,
    filed: list[ActionItem],
    jira: JiraServer,
    github: GitHubServer,
    clock: FakeClock,
    mode: LoseMode,
) -> None:
    engine.actions.done("INC-1", 1, by="bob")
    github.lose_next_update(mode)

    assert outcomes(filer.update_tickets(1, by="bob"))[1] == ("github:acme/ops#1", "update_pending")
    clock.advance(timedelta(minutes=1))
    assert outcomes(list(filer.retry_due().results)) == [("github:acme/ops#1", "updated")]

    assert github.issues[1]["state"] == "closed"
    assert tickets_per_key(jira, github, filed) == {item.idempotency_key: [1, 1] for item in filed}


def test_a_run_that_died_while_updating_is_taken_over_once_its_lease_ends(
    engine: Engine,
    filer: Filer,
    filed: list[ActionItem],
    jira: JiraServer,
    github: GitHubServer,
    clock: FakeClock,
) -> None:
    edit_a1(engine)
    outbox = Outbox(engine.store)
    # A run claimed Jira's row, may or may not have sent the update, and died before recording it.
    [jira_row, _] = outbox.stale(action_id=1)
    assert outbox.claim_update(jira_row.id, "dead-worker", clock.now, LEASE) is not None

    busy = filer.retry_due()
    assert outcomes(list(busy.results)) == [("jira:OPS-1", "busy"), ("github:acme/ops#1", "updated")]

    clock.advance(LEASE + timedelta(seconds=1))
    assert outcomes(list(filer.retry_due().results)) == [("jira:OPS-1", "updated")]
    assert jira.fields("OPS-1")["summary"] == NEW_TITLE
    assert creates(jira, github) == 4


def test_an_item_edited_before_its_ticket_exists_is_filed_as_it_is_with_no_update(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer, clock: FakeClock
) -> None:
    open_incident(engine)
    jira.fail_next(3, status=503)
    filer.file_pending()  # A1 stays pending on Jira; A2 is OPS-1 there
    edit_a1(engine)

    clock.advance(timedelta(minutes=1))
    report = filer.retry_due()

    # Jira's ticket is created from the edited item; GitHub's, filed before the edit, is updated.
    assert outcomes(list(report.results)) == [("jira:OPS-2", "filed"), ("github:acme/ops#1", "updated")]
    assert jira.fields("OPS-2")["summary"] == github.issues[1]["title"] == NEW_TITLE
    assert [call for call in jira.calls() if call.startswith("PUT ")] == []
    assert Outbox(engine.store).stale() == []


def test_an_item_done_or_dropped_before_anyone_filed_it_is_never_filed(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer
) -> None:
    open_incident(engine)
    engine.actions.done("INC-1", 1, by="bob")
    engine.actions.drop("INC-1", 2, "not needed after all", by="bob")

    assert filer.file_pending().results == ()
    assert jira.calls() == github.calls() == []


def test_a_done_item_stays_done_while_its_ticket_waits_to_be_closed(
    engine: Engine, filer: Filer, filed: list[ActionItem], jira: JiraServer
) -> None:
    engine.actions.done("INC-1", 1, by="bob")
    jira.fail_next(1, status=503)
    filer.update_tickets(1, by="bob")  # Jira's close is pending; GitHub's ticket is closed

    filer.sync_status("INC-1")  # Jira's ticket still reads "To Do"

    assert engine.actions.get(1).status is ActionStatus.DONE


def test_a_ticket_that_is_gone_fails_for_good_and_waits_for_a_person(
    engine: Engine, filer: Filer, filed: list[ActionItem], jira: JiraServer, clock: FakeClock
) -> None:
    with jira.lock:
        del jira.issues["OPS-1"]  # deleted in Jira
    edit_a1(engine)

    [gone, _] = filer.update_tickets(1, by="dana")

    assert gone.outcome is FilingOutcome.UPDATE_FAILED and "HTTP 404" in (gone.reason or "")
    clock.advance(timedelta(hours=2))
    assert filer.retry_due().results == ()  # automatic runs leave it alone
    assert [
        r.outcome for r in filer.file_pending().results if r.outcome is not FilingOutcome.ALREADY_FILED
    ] == [FilingOutcome.UPDATE_FAILED]  # a person's run tries again
