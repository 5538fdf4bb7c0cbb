"""Exactly once against trackers whose lookup lags their writes (Jira Cloud's JQL search is eventually
consistent): after a create whose answer was lost, runs only look the ticket up until the reconcile window has
passed, and create again only if it still is not there. Real clients against the fakes, on both trackers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from agent.engine import Engine
from agent.filing import Filer, FilingOutcome, FilingReport, Outbox, OutboxState, ticket_note
from agent.filing.filer import RECONCILE_WINDOW
from agent.models import ActionItem
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import (
    FakeClock,
    github,
    github_tracker,
    jira,
    jira_tracker,
    open_incident,
    tickets_per_key,
)
from tests.store_fixtures import backend, db_url, engine
from tests.tracker_fixtures import GitHubVendor, JiraVendor, TrackerVendor

__all__ = ["backend", "db_url", "engine", "github", "jira"]

Vendor = TrackerVendor[Any]
NEVER = 3600.0  # a lookup lag no test outlives: the index catches up only when a test says so


@pytest.fixture(params=[JiraVendor, GitHubVendor], ids=["jira", "github"])
def vendor(request: pytest.FixtureRequest) -> Iterator[Vendor]:
    with request.param.serving() as serving:
        yield serving


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def filer_for(engine: Engine, vendor: Vendor, clock: FakeClock, **options: Any) -> Filer:
    return Filer(engine, [vendor.tracker()], clock, clock.sleep, **options)


def creates(vendor: Vendor) -> int:
    return sum(
        call.startswith("POST ") and call.endswith(("/issue", "/issues")) for call in vendor.server.calls()
    )


def first(report: FilingReport) -> tuple[FilingOutcome, str | None]:
    return report.results[0].outcome, report.results[0].ref


def tickets(vendor: Vendor, items: list[ActionItem]) -> list[int]:
    """How many tickets carry each item's key, in the tracker itself (not through its lagging lookup)."""
    return [len(vendor.labelled(item.idempotency_key)) for item in items]


def test_a_lost_create_answer_is_only_looked_up_inside_the_window_then_found_once_the_index_catches_up(
    engine: Engine, vendor: Vendor, clock: FakeClock
) -> None:
    items = open_incident(engine)
    vendor.lag_lookups(NEVER)
    vendor.server.lose_next_create("drop")  # the ticket is made, its answer never arrives
    filer = filer_for(engine, vendor, clock)

    report = filer.file_pending()

    until = clock.now + RECONCILE_WINDOW
    waiting = f"{vendor.name}: waiting to confirm an earlier create (until 2024-03-01 10:05 UTC)"
    assert [(r.action_id, r.outcome) for r in report.results] == [
        (1, FilingOutcome.CONFIRMING),
        (2, FilingOutcome.FILED),
    ]
    assert report.results[0].next_attempt_at == until
    assert f"A1 Add a canary stage to checkout deploys: {waiting}" in report.summary().splitlines()
    [row, _] = Outbox(engine.store).entries()
    assert (row.state, row.create_attempted_at, row.confirm_until) == (OutboxState.PENDING, clock.now, until)
    assert ticket_note(row) == waiting
    assert (creates(vendor), tickets(vendor, items)) == (2, [1, 1])

    clock.advance(timedelta(minutes=2))
    requests_before = len(vendor.server.requests)
    assert first(filer.retry_due()) == (FilingOutcome.CONFIRMING, None)  # not due: the tracker is not asked
    assert len(vendor.server.requests) == requests_before
    assert first(filer.file_pending()) == (FilingOutcome.CONFIRMING, None)  # a person asks: it only looks
    assert (creates(vendor), tickets(vendor, items)) == (2, [1, 1])

    vendor.lag_lookups(0)  # the index caught up inside the window
    assert first(filer.file_pending()) == (FilingOutcome.FOUND, str(vendor.ref(1)))
    assert (creates(vendor), tickets(vendor, items)) == (2, [1, 1])
    assert Outbox(engine.store).entries()[0].confirm_until is None
    filer.close()


def test_a_create_that_never_happened_is_made_once_the_window_has_passed_and_the_lookup_still_finds_nothing(
    engine: Engine, vendor: Vendor, clock: FakeClock
) -> None:
    items = open_incident(engine)
    vendor.server.fail_next_create(502)  # a gateway error: nothing was made, but nobody can tell
    filer = filer_for(engine, vendor, clock)

    assert first(filer.file_pending()) == (FilingOutcome.CONFIRMING, None)
    assert (creates(vendor), tickets(vendor, items)) == (2, [0, 1])

    clock.advance(RECONCILE_WINDOW)
    retried = filer.retry_due()

    assert first(retried) == (FilingOutcome.FILED, str(vendor.ref(2)))
    assert (creates(vendor), tickets(vendor, items)) == (3, [1, 1])
    audit = [e.action for e in engine.store.audit_trail("INC-1")]
    assert audit.count("filing_retry_later") == 1 and audit.count("file_action") == 2
    filer.close()


def test_a_create_the_tracker_refused_changed_nothing_and_is_retried_at_once(
    engine: Engine, vendor: Vendor, clock: FakeClock
) -> None:
    items = open_incident(engine)
    vendor.server.fail_next_create(429)  # throttled: refused before anything was made

    filer = filer_for(engine, vendor, clock)
    report = filer.file_pending()
    filer.close()

    assert first(report) == (FilingOutcome.FILED, str(vendor.ref(1)))
    assert (creates(vendor), tickets(vendor, items)) == (3, [1, 1])
    assert Outbox(engine.store).entries()[0].create_attempted_at is None


def test_without_a_reconcile_window_the_lagging_lookup_duplicates_which_is_why_there_is_one(
    engine: Engine, vendor: Vendor, clock: FakeClock
) -> None:
    """The control: the fakes' lag is the real hazard, and "look up, else create" alone falls into it."""
    items = open_incident(engine)
    vendor.lag_lookups(NEVER)
    vendor.server.lose_next_create("drop")

    filer = filer_for(engine, vendor, clock, reconcile_window=timedelta(0))
    filer.file_pending()
    filer.close()

    assert tickets(vendor, items) == [2, 1]


def test_two_filers_at_once_against_lagging_trackers_with_lost_answers_file_each_item_exactly_once(
    engine: Engine, jira: JiraServer, github: GitHubServer
) -> None:
    items = [
        *open_incident(engine),
        *open_incident(engine, room="#inc-db"),
        *open_incident(engine, room="#inc-dns"),
    ]
    jira.search_lag = github.listing_lag = 1.0  # every lookup is a second behind the writes
    for mode in ("drop", "500", "drop"):
        jira.lose_next_create(mode)
        github.lose_next_create(mode)
    jira.delay_next(0.05, n=20)  # slow answers widen every window between claim, create and record
    github.delay_next(0.05, n=20)
    barrier = threading.Barrier(2)
    deadline = time.monotonic() + 60
    outcomes: list[FilingOutcome] = []

    def run() -> None:
        filer = Filer(
            engine,
            [jira_tracker(jira), github_tracker(github)],
            backoff_s=0.2,
            reconcile_window=timedelta(seconds=3),
        )
        barrier.wait()
        while time.monotonic() < deadline:
            report = filer.file_pending()
            outcomes.extend(result.outcome for result in report.results)
            if not Outbox(engine.store).entries(state=OutboxState.PENDING):
                break
            time.sleep(0.3)
        filer.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    lost = [e for e in Outbox(engine.store).entries() if e.state is not OutboxState.FILED]
    assert lost == []
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    assert len(jira.issues) == len(github.issues) == len(items)
    for item in engine.actions.list():
        assert len(item.refs) == 2
    assert FilingOutcome.CONFIRMING in outcomes  # the lag did bite: some run had to wait for the index
