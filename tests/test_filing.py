"""Filing action items through the outbox with the real `jira` and PyGithub clients against local fakes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from agent.engine import Engine
from agent.filing import Filer, FilingError, FilingOutcome, FilingReport, Outbox, OutboxState, file_on_publish
from agent.models import ActionStatus
from agent.settings import load_settings
from agent.trackers import Tracker
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.fakes.server import LoseMode
from tests.filing_fixtures import (
    FakeClock,
    github,
    github_tracker,
    jira,
    jira_tracker,
    open_incident,
    tickets_per_key,
    tracker_settings,
)
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine", "github", "jira"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_filer(engine: Engine, trackers: list[Tracker], clock: FakeClock) -> Filer:
    return Filer(engine, trackers, clock, clock.sleep)


@pytest.fixture
def filer(engine: Engine, jira: JiraServer, github: GitHubServer, clock: FakeClock) -> Iterator[Filer]:
    filer = make_filer(engine, [jira_tracker(jira), github_tracker(github)], clock)
    yield filer
    filer.close()


def outcomes(report: FilingReport) -> list[tuple[int, str | None, str]]:
    return [(r.action_id, r.tracker, r.outcome.value) for r in report.results]


def creates(jira: JiraServer, github: GitHubServer) -> int:
    return sum(call.startswith("POST ") and call.endswith("/issue") for call in jira.calls()) + sum(
        call.startswith("POST ") and call.endswith("/issues") for call in github.calls()
    )


def test_each_item_is_filed_once_to_each_tracker_and_the_refs_are_recorded(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer
) -> None:
    items = open_incident(engine)

    report = filer.file_pending("INC-1", by="alice")

    assert outcomes(report) == [
        (1, "jira", "filed"),
        (1, "github", "filed"),
        (2, "jira", "filed"),
        (2, "github", "filed"),
    ]
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    stored = engine.actions.list("INC-1")
    assert [item.refs for item in stored] == [
        ["jira:OPS-1", "github:acme/ops#1"],
        ["jira:OPS-2", "github:acme/ops#2"],
    ]
    assert {item.status for item in stored} == {ActionStatus.FILED}
    assert jira.fields("OPS-1")["summary"] == "Add a canary stage to checkout deploys"
    filed = [json.loads(e.detail) for e in engine.store.audit_trail("INC-1") if e.action == "file_action"]
    assert [(d["action"], d["ref"], d["found_existing"]) for d in filed] == [
        (1, "jira:OPS-1", False),
        (1, "github:acme/ops#1", False),
        (2, "jira:OPS-2", False),
        (2, "github:acme/ops#2", False),
    ]
    assert [e.actor for e in engine.store.audit_trail("INC-1") if e.action == "file_actions"] == ["alice"]


def test_repeated_runs_never_duplicate_and_call_no_tracker(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer
) -> None:
    items = open_incident(engine)
    filer.file_pending()
    calls_after_first = len(jira.calls()) + len(github.calls())

    for _ in range(3):
        again = filer.file_pending()
        assert {r.outcome for r in again.results} == {FilingOutcome.ALREADY_FILED}
        assert [r.ref for r in again.results] == [
            "jira:OPS-1",
            "github:acme/ops#1",
            "jira:OPS-2",
            "github:acme/ops#2",
        ]

    assert len(jira.calls()) + len(github.calls()) == calls_after_first
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}


def test_vague_and_ownerless_items_are_never_filed_and_the_report_says_why(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer
) -> None:
    items = open_incident(engine, bad=True)

    report = filer.file_pending()

    stopped = report.of(FilingOutcome.NEEDS_REVISION)
    assert [(r.action_id, r.tracker) for r in stopped] == [(3, None), (4, None)]
    assert "vague" in (stopped[0].reason or "")
    assert "no owner" in (stopped[1].reason or "")
    assert tickets_per_key(jira, github, items[2:]) == {item.idempotency_key: [0, 0] for item in items[2:]}
    assert creates(jira, github) == 4
    stored = {item.id: item for item in engine.actions.list("INC-1")}
    assert stored[3].status is stored[4].status is ActionStatus.NEEDS_REVISION
    assert stored[3].refs == stored[4].refs == []
    assert "A3 Improve monitoring of checkout: needs revision: the title is vague" in report.summary()
    assert "A4 Document the checkout-api rollback procedure: needs revision: no owner" in report.summary()


def test_an_outage_keeps_the_item_pending_with_backoff_and_recovery_files_it_once(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer, clock: FakeClock
) -> None:
    items = open_incident(engine)
    jira.fail_next(3, status=503)

    first = filer.file_pending()

    assert outcomes(first)[:2] == [(1, "jira", "pending"), (1, "github", "filed")]
    assert outcomes(first)[2:] == [(2, "jira", "filed"), (2, "github", "filed")]
    assert clock.sleeps == [1.0, 2.0]
    pending = first.results[0]
    assert "HTTP 503" in (pending.reason or "")
    assert pending.next_attempt_at == clock.now + timedelta(minutes=1)
    [row] = [e for e in Outbox(engine.store).entries("INC-1") if e.state is OutboxState.PENDING]
    assert (row.attempts, row.next_attempt_at, row.claimed_by) == (3, clock.now + timedelta(minutes=1), None)
    assert "HTTP 503" in (row.last_error or "")
    assert "github pending" not in first.summary() and "jira pending (Jira at" in first.summary()
    assert "filing_retry_later" in [e.action for e in engine.store.audit_trail("INC-1")]

    second = filer.file_pending()

    assert outcomes(second)[0] == (1, "jira", "filed")
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    assert engine.actions.get(1).refs == ["github:acme/ops#1", "jira:OPS-2"]


def test_automatic_runs_wait_for_the_next_attempt_time_and_back_off_further(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer, clock: FakeClock
) -> None:
    items = open_incident(engine)
    jira.fail_next(3, status=503)
    filer.file_pending()  # item 1 on jira: 3 failed attempts

    requests_before = len(jira.requests)
    early = filer.retry_due()
    assert outcomes(early)[0] == (1, "jira", "pending")
    assert len(jira.requests) == requests_before  # not due: the tracker is not asked

    clock.advance(timedelta(minutes=1))
    jira.fail_next(3, status=503)
    later = filer.retry_due()
    assert later.results[0].next_attempt_at == clock.now + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    assert outcomes(filer.retry_due())[0] == (1, "jira", "filed")
    assert len(jira.with_label(items[0].idempotency_key)) == 1


def test_automatic_retries_never_file_items_nobody_asked_to_file(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer
) -> None:
    open_incident(engine)

    assert filer.retry_due().results == ()
    assert jira.calls() == github.calls() == []


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_a_ticket_created_before_a_lost_response_is_found_and_recorded_not_duplicated(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer, mode: LoseMode
) -> None:
    items = open_incident(engine)
    jira.lose_next_create(mode)
    github.lose_next_create(mode)

    report = filer.file_pending()

    assert outcomes(report) == [
        (1, "jira", "found"),
        (1, "github", "found"),
        (2, "jira", "filed"),
        (2, "github", "filed"),
    ]
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    assert engine.actions.get(1).refs == ["jira:OPS-1", "github:acme/ops#1"]
    assert "A1 Add a canary stage to checkout deploys: jira:OPS-1 already existed" in report.summary()


def test_refused_credentials_fail_without_retry_and_a_manual_run_files_once_fixed(
    engine: Engine, jira: JiraServer, github: GitHubServer, clock: FakeClock
) -> None:
    items = open_incident(engine)
    wrong = "ATATT3xFfGF0-wrong-token"
    broken = make_filer(engine, [jira_tracker(jira, token=wrong)], clock)

    report = broken.file_pending()

    assert outcomes(report) == [(1, "jira", "failed"), (2, "jira", "failed")]
    assert clock.sleeps == []
    assert "HTTP 401" in (report.results[0].reason or "")
    stored = json.dumps([e.model_dump(mode="json") for e in engine.store.audit_trail()])
    rows = Outbox(engine.store).entries()
    assert all(wrong not in (row.last_error or "") for row in rows)
    assert wrong not in stored and wrong not in report.summary()
    assert "filing_failed" in stored
    requests_before = len(jira.requests)
    assert broken.retry_due().results == ()  # failed rows wait for a person
    assert len(jira.requests) == requests_before

    fixed = make_filer(engine, [jira_tracker(jira)], clock)
    assert outcomes(fixed.file_pending()) == [(1, "jira", "filed"), (2, "jira", "filed")]
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 0] for item in items}


def test_two_filers_at_once_file_each_item_exactly_once_per_tracker(
    engine: Engine, jira: JiraServer, github: GitHubServer
) -> None:
    incident = engine.incidents.start("#inc-checkout", "Checkout 5xx spike", "alice", FakeClock().now)
    items = [
        engine.actions.add(
            incident.id,
            f"Add alert rule number {n} for checkout",
            "bob",
            FakeClock().now.date(),
            "alice",
            FakeClock().now,
        )
        for n in range(4)
    ]
    jira.delay_next(0.05, n=20)  # slow answers widen every window between claim, create and record
    github.delay_next(0.05, n=20)
    barrier = threading.Barrier(2)
    reports: list[FilingReport] = []

    def run() -> None:
        filer = Filer(engine, [jira_tracker(jira), github_tracker(github)], sleep=lambda _: None)
        barrier.wait()
        reports.append(filer.file_pending())
        filer.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 2
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    assert creates(jira, github) == 8
    for item in engine.actions.list(incident.id):
        assert len(item.refs) == 2
    done = [r for report in reports for r in report.results if r.outcome is FilingOutcome.FILED]
    assert sorted((r.action_id, r.tracker or "") for r in done) == sorted(
        (item.id, tracker) for item in items for tracker in ("jira", "github")
    )
    others = {r.outcome for report in reports for r in report.results} - {FilingOutcome.FILED}
    assert others <= {FilingOutcome.BUSY, FilingOutcome.ALREADY_FILED}


def test_tracker_status_is_synced_back_and_done_tickets_close_the_item(
    engine: Engine, filer: Filer, jira: JiraServer, github: GitHubServer, clock: FakeClock
) -> None:
    open_incident(engine)
    filer.file_pending()
    jira.set_status("OPS-1", "Done")
    github.set_state(1, "closed")
    jira.set_status("OPS-2", "In Progress")

    results = filer.sync_status("INC-1")

    assert [(r.ref, r.status, r.changed) for r in results] == [
        ("jira:OPS-1", "Done", True),
        ("github:acme/ops#1", "closed", True),
        ("jira:OPS-2", "In Progress", True),
        ("github:acme/ops#2", "open", True),
    ]
    tickets = Outbox(engine.store).by_action("INC-1")
    assert [(e.ref, e.remote_status, e.status_synced_at) for e in tickets[1]] == [
        ("jira:OPS-1", "Done", clock.now),
        ("github:acme/ops#1", "closed", clock.now),
    ]
    assert [engine.actions.get(n).status for n in (1, 2)] == [ActionStatus.DONE, ActionStatus.FILED]
    assert [r.changed for r in filer.sync_status("INC-1")] == [False] * 4
    changes = [json.loads(e.detail) for e in engine.store.audit_trail("INC-1") if e.action == "ticket_status"]
    assert changes[0] == {"action": 1, "ref": "jira:OPS-1", "from": None, "to": "Done"}
    assert len(changes) == 4

    github.set_state(1, "open")  # reopened
    filer.sync_status("INC-1")
    assert engine.actions.get(1).status is ActionStatus.FILED


def test_status_sync_during_an_outage_keeps_the_last_status_and_asks_the_tracker_once(
    engine: Engine, filer: Filer, jira: JiraServer
) -> None:
    open_incident(engine)
    filer.file_pending()
    filer.sync_status()
    jira.fail_next(10, status=503)
    requests_before = len(jira.requests)

    results = filer.sync_status()

    jira_results = [r for r in results if r.ref.startswith("jira:")]
    assert [(r.status, "HTTP 503" in (r.error or "")) for r in jira_results] == [("To Do", True)] * 2
    assert len(jira.requests) == requests_before + 1


def test_filing_without_a_tracker_says_how_to_configure_one(engine: Engine) -> None:
    open_incident(engine)
    with pytest.raises(FilingError, match="set DEBRIEF_TRACKERS"):
        Filer(engine, []).file_pending()


def test_publishing_files_the_items_only_when_auto_file_is_on(
    engine: Engine, jira: JiraServer, github: GitHubServer
) -> None:
    items = open_incident(engine)
    off = load_settings(**tracker_settings(jira, github))
    assert file_on_publish(engine, off, "INC-1") is None
    assert creates(jira, github) == 0

    on = load_settings(**tracker_settings(jira, github), DEBRIEF_AUTO_FILE="true")
    report = file_on_publish(engine, on, "INC-1")

    assert report is not None and len(report.of(FilingOutcome.FILED)) == 4
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}


def test_the_summary_lists_each_item_with_its_outcome_per_tracker(
    engine: Engine, filer: Filer, jira: JiraServer
) -> None:
    open_incident(engine, bad=True)
    jira.lose_next_create()

    summary = filer.file_pending().summary()

    assert summary.splitlines()[0] == "Filing to jira, github: 3 filed, 1 already existed, 2 needs revision."
    assert summary.splitlines()[1:3] == [
        "A1 Add a canary stage to checkout deploys: jira:OPS-1 already existed, github:acme/ops#1 filed",
        "A2 Alert when payment gateway p99 exceeds 2s: jira:OPS-2 filed, github:acme/ops#2 filed",
    ]
