"""A filing process killed (SIGKILL) between "the tracker created the ticket" and "we recorded it", also
against a Jira whose search lags its writes (as Jira Cloud's does): no ticket lost, none duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.filing import Filer, FilingOutcome, Outbox, OutboxState
from agent.filing.filer import LEASE
from agent.models import ActionItem
from agent.trackers import Tracker
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import (
    github,
    github_tracker,
    jira_tracker,
    open_incident,
    tickets_per_key,
    tracker_settings,
)
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine", "github"]

CHILD = Path(__file__).with_name("filing_crash_child.py")
ROOT = CHILD.parent.parent


class KillingJira(JiraServer):
    """Stores the ticket, then SIGKILLs `victim` before answering: the creator never learns the key."""

    victim: subprocess.Popen[str] | None = None

    def created(self) -> None:
        victim, self.victim = self.victim, None
        if victim is not None:
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        super().created()


@pytest.fixture
def jira() -> Iterator[KillingJira]:
    with KillingJira() as server:
        yield server


def run_child(
    db_url: str, jira: KillingJira, github: GitHubServer, tmp_path: Path, *timings: float
) -> subprocess.CompletedProcess[str]:
    """Run a filer in a child process, which `jira` kills if it creates an issue; `timings`: lease, window."""
    settings = {name: str(value) for name, value in tracker_settings(jira, github).items()}
    env = {**os.environ, **settings, "DEBRIEF_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), db_url, *map(str, timings)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    jira.victim = child
    stdout, stderr = child.communicate(timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def test_a_run_killed_right_after_create_is_finished_by_the_next_run_without_duplicates(
    engine: Engine, db_url: str, jira: KillingJira, github: GitHubServer, tmp_path: Path
) -> None:
    items = open_incident(engine)

    crashed = run_child(db_url, jira, github, tmp_path)

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert tickets_per_key(jira, github, items) == {
        items[0].idempotency_key: [1, 0],
        items[1].idempotency_key: [0, 0],
    }
    assert engine.actions.get(1).refs == []
    [row] = [e for e in Outbox(engine.store).entries() if (e.action_id, e.tracker) == (1, "jira")]
    assert row.state is OutboxState.PENDING and row.claimed_by is not None

    trackers: list[Tracker] = [jira_tracker(jira), github_tracker(github)]
    now = datetime.now(UTC)
    meanwhile = Filer(engine, trackers, lambda: now).file_pending()
    assert [(r.action_id, r.tracker, r.outcome) for r in meanwhile.results][:2] == [
        (1, "jira", FilingOutcome.BUSY),  # the dead run's lease still holds
        (1, "github", FilingOutcome.FILED),
    ]

    later = now + LEASE + timedelta(seconds=1)
    recovered = Filer(engine, trackers, lambda: later).file_pending()

    assert [(r.action_id, r.tracker, r.outcome, r.ref) for r in recovered.results] == [
        (1, "jira", FilingOutcome.FOUND, "jira:OPS-1"),
        (1, "github", FilingOutcome.ALREADY_FILED, "github:acme/ops#1"),
        (2, "jira", FilingOutcome.ALREADY_FILED, "jira:OPS-2"),
        (2, "github", FilingOutcome.ALREADY_FILED, "github:acme/ops#2"),
    ]
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}
    assert engine.actions.get(1).refs == ["github:acme/ops#1", "jira:OPS-1"]
    again = Filer(engine, trackers, lambda: later).file_pending()
    assert {r.outcome for r in again.results} == {FilingOutcome.ALREADY_FILED}
    assert tickets_per_key(jira, github, items) == {item.idempotency_key: [1, 1] for item in items}


def lost_and_duplicated(jira: JiraServer, github: GitHubServer, items: list[ActionItem]) -> tuple[int, int]:
    """Tickets missing (an item without one in a tracker) and tickets too many, counted in the trackers."""
    counts = [n for per_tracker in tickets_per_key(jira, github, items).values() for n in per_tracker]
    return sum(n == 0 for n in counts), sum(max(0, n - 1) for n in counts)


@pytest.mark.parametrize(
    ("lag", "window"),
    [
        pytest.param(3600.0, 300.0, id="index-catches-up-when-told"),
        pytest.param(2.0, 5.0, id="index-2s-behind"),
    ],
)
def test_kill_9_after_every_jira_create_against_a_lagging_jira_loses_0_and_duplicates_0_tickets(
    engine: Engine,
    db_url: str,
    jira: KillingJira,
    github: GitHubServer,
    tmp_path: Path,
    lag: float,
    window: float,
) -> None:
    """Each run is killed right after its Jira create; the next run, its lease expired at once, finds no
    ticket (the search lags) and must not create another. Then the index catches up and the tickets are found.
    """
    items = open_incident(engine) + open_incident(engine, room="#inc-db")
    jira.search_lag = github.listing_lag = lag
    timings = (0.5, window, 0.1)  # lease shorter than a child's start-up: each run may take over the rows

    runs = [run_child(db_url, jira, github, tmp_path, *timings) for _ in range(len(items))]
    finished = run_child(db_url, jira, github, tmp_path, *timings)

    assert [run.returncode for run in runs] == [-signal.SIGKILL] * len(items), [r.stderr for r in runs]
    assert finished.returncode == 0, finished.stderr
    assert len(jira.issues) == len(items) and jira.stale_searches > 0  # the lag bit: lookups missed tickets

    jira.search_lag = github.listing_lag = min(lag, 2.0)  # the index catches up (at once, or 2 s on)
    trackers: list[Tracker] = [jira_tracker(jira), github_tracker(github)]
    filer = Filer(engine, trackers, reconcile_window=timedelta(seconds=window), sleep=lambda _: None)
    deadline = time.monotonic() + 30
    while Outbox(engine.store).entries(state=OutboxState.PENDING) and time.monotonic() < deadline:
        filer.file_pending()
        time.sleep(0.2)
    filer.close()

    assert lost_and_duplicated(jira, github, items) == (0, 0)
    assert {e.state for e in Outbox(engine.store).entries()} == {OutboxState.FILED}
    assert all(len(item.refs) == 2 for item in engine.actions.list())
    assert len(jira.issues) == len(github.issues) == len(items)
