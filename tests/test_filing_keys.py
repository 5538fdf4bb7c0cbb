"""Filing keys are unique per installation (DESIGN.md §6): two Debriefs filing to one Jira project and one GitHub
repository never take each other's tickets for their own, and items stored before keys carried the installation
keep their key and still find their tickets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import BindParameter, bindparam, create_engine, text

from agent.engine import Engine
from agent.filing import Filer, FilingOutcome, FilingReport
from agent.models import ActionItem
from agent.store import migrate, normalize_url
from agent.store.types import UTCDateTime
from agent.trackers.tracker import key_label
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import (
    DUE,
    START,
    github,
    github_tracker,
    jira,
    jira_tracker,
    open_incident,
    tickets_per_key,
)
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine", "github", "jira"]

NEW_KEY = re.compile(r"debrief-(?P<installation>[0-9a-f]{12})-INC-(?P<incident>\d+)\.A(?P<action>\d+)")
OLD_KEY = "debrief-INC-1-A1"  # what every installation gave INC-1's first item before keys carried one


@pytest.fixture
def other_installation(tmp_path: Path) -> Iterator[Engine]:
    """A second Debrief with its own, fresh database."""
    other = Engine.open(f"sqlite:///{tmp_path / 'other-installation.db'}")
    yield other
    other.close()


def file_all(engine: Engine, jira: JiraServer, github: GitHubServer) -> FilingReport:
    filer = Filer(engine, [jira_tracker(jira), github_tracker(github)], sleep=lambda _: None)
    try:
        return filer.file_pending()
    finally:
        filer.close()


def outcomes(report: FilingReport) -> list[tuple[int, str | None, FilingOutcome, str | None]]:
    return [(r.action_id, r.tracker, r.outcome, r.ref) for r in report.results]


def test_two_installations_filing_to_one_project_each_get_their_own_tickets(
    engine: Engine, other_installation: Engine, jira: JiraServer, github: GitHubServer
) -> None:
    ours = open_incident(engine)
    theirs = open_incident(other_installation)  # the same INC-1 with the same A1 and A2

    file_all(engine, jira, github)
    report = file_all(other_installation, jira, github)

    assert outcomes(report) == [
        (1, "jira", FilingOutcome.FILED, "jira:OPS-3"),
        (1, "github", FilingOutcome.FILED, "github:acme/ops#3"),
        (2, "jira", FilingOutcome.FILED, "jira:OPS-4"),
        (2, "github", FilingOutcome.FILED, "github:acme/ops#4"),
    ]
    assert {a.idempotency_key for a in ours}.isdisjoint(a.idempotency_key for a in theirs)
    assert tickets_per_key(jira, github, ours + theirs) == {a.idempotency_key: [1, 1] for a in ours + theirs}
    assert [a.refs for a in engine.actions.list()] == [
        ["jira:OPS-1", "github:acme/ops#1"],
        ["jira:OPS-2", "github:acme/ops#2"],
    ]


def test_new_keys_name_the_installation_and_are_valid_jira_and_github_labels_as_they_are(
    engine: Engine, db_url: str, other_installation: Engine
) -> None:
    items = open_incident(engine)
    again = Engine.open(db_url)  # the installation id is made once per database, not per process
    later = again.actions.add("INC-1", "Rotate the payment gateway keys", "bob", DUE, "alice", START)
    again.close()
    elsewhere = open_incident(other_installation)[0]

    keys = [NEW_KEY.fullmatch(item.idempotency_key) for item in [*items, later, elsewhere]]
    assert all(keys), [item.idempotency_key for item in items]
    assert [(k["incident"], k["action"]) for k in keys if k] == [
        ("1", "1"),
        ("1", "2"),
        ("1", "3"),
        ("1", "1"),
    ]
    installations = [k["installation"] for k in keys if k]
    assert len(set(installations[:3])) == 1 and installations[3] != installations[0]
    for item in [*items, later]:
        assert (
            key_label(item.idempotency_key, 50)
            == key_label(item.idempotency_key, 255)
            == item.idempotency_key
        )


def _at(value: datetime) -> BindParameter[datetime]:
    return bindparam("at", value, type_=UTCDateTime)


def version_6_database(url: str) -> None:
    """A database from before filing keys carried the installation: INC-1 with A1, pending on Jira."""
    old = create_engine(normalize_url(url))
    assert migrate(old, target=6) == 6
    with old.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (title, room, status, started_by, started_at) "
                "VALUES ('Checkout 5xx spike', '#inc-checkout', 'resolved', 'alice', :at)"
            ).bindparams(_at(START))
        )
        conn.execute(
            text(
                "INSERT INTO action_items (incident_number, title, owner, due, kind, status, refs, "
                "idempotency_key, created_by, created_at) VALUES (1, 'Add a canary stage to checkout deploys', "
                f"'bob', '2024-03-15', 'prevent', 'pending', '[]', '{OLD_KEY}', 'alice', :at)"
            ).bindparams(_at(START))
        )
        conn.execute(
            text(
                "INSERT INTO filing_outbox (action_id, tracker, state, attempts, last_error, created_at, "
                "updated_at) VALUES (1, 'jira', 'pending', 3, 'HTTP 503', :at, :at)"
            ).bindparams(_at(START))
        )
    old.dispose()


def test_items_stored_before_the_upgrade_keep_their_key_and_find_the_tickets_filed_with_it(
    db_url: str, jira: JiraServer, github: GitHubServer
) -> None:
    version_6_database(db_url)
    # A run before the upgrade created A1's Jira ticket and died before recording it.
    filed_before = ActionItem(id=1, incident_id="INC-1", title="Add a canary stage", idempotency_key=OLD_KEY)
    jira_tracker(jira).create(filed_before, "Checkout 5xx spike")

    engine = Engine.open(db_url)
    try:
        assert engine.actions.get(1).idempotency_key == OLD_KEY
        title = "Alert when payment gateway p99 exceeds 2s"
        added = engine.actions.add("INC-1", title, "alice", DUE, "alice", START)
        assert NEW_KEY.fullmatch(added.idempotency_key)

        report = file_all(engine, jira, github)

        assert outcomes(report) == [
            (1, "jira", FilingOutcome.FOUND, "jira:OPS-1"),
            (1, "github", FilingOutcome.FILED, "github:acme/ops#1"),
            (2, "jira", FilingOutcome.FILED, "jira:OPS-2"),
            (2, "github", FilingOutcome.FILED, "github:acme/ops#2"),
        ]
        assert jira.with_label(OLD_KEY) == ["OPS-1"] and github.with_label(OLD_KEY) == [1]
        assert jira.with_label(added.idempotency_key) == ["OPS-2"]
    finally:
        engine.close()
