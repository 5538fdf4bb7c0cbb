"""The action-item quality gate: specific title, owner, due date; failing items kept but never fileable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from agent.actions import apply_gate, check
from agent.engine import Engine
from agent.models import ActionItem, ActionStatus

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def item(
    title: str,
    owner: str | None = "erin",
    due: date | None = date(2024, 3, 20),
    success_criteria: str | None = None,
) -> ActionItem:
    return ActionItem(
        id=1,
        incident_id="INC-1",
        title=title,
        owner=owner,
        due=due,
        success_criteria=success_criteria,
        idempotency_key="k",
    )


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine.open("sqlite://")
    yield engine
    engine.close()


@pytest.mark.parametrize(
    "title",
    [
        "Alert when pgbouncer client connections exceed 80% of max_client_conn",
        "Add a canary stage to checkout deploys",
        "Cap the DB pool at 20 connections per pod in orders-api",
        "Investigate why orders-api retries ignore the 2s timeout",  # concrete: numbers
        "Review pgbouncer.ini limits with the DBA team",  # concrete: a file name
    ],
)
def test_specific_owned_dated_item_passes(title: str) -> None:
    assert check(item(title)) == []


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("Improve monitoring", "the title is vague ('Improve monitoring')"),
        ("Look into the database", "the title is vague ('Look into the database')"),
        ("Be more careful with deploys", "the title is vague ('be more careful')"),
        ("Make sure this never happens again", "the title is vague ('never happens again')"),
        ("Investigate the outage", "the title is vague ('Investigate the outage')"),
        ("Add alert", "the title is too short ('Add alert')"),
        ("Fix", "the title is vague ('Fix')"),
    ],
)
def test_vague_or_short_title_fails_with_the_reason(title: str, reason: str) -> None:
    [problem] = check(item(title))
    assert problem.startswith(reason)


def test_missing_owner_and_due_date_are_named() -> None:
    assert check(item("Add a canary stage to checkout deploys", owner=None, due=None)) == [
        "no owner: add @owner",
        "no due date: add due:YYYY-MM-DD",
    ]


def test_due_date_in_the_past_fails_only_when_today_is_given() -> None:
    late = item("Add a canary stage to checkout deploys", due=date(2024, 3, 1))
    assert check(late) == []
    assert check(late, today=date(2024, 3, 5)) == ["due date 2024-03-01 is in the past"]


def test_success_criteria_when_given_must_be_specific() -> None:
    good = item(
        "Add a canary stage to checkout deploys", success_criteria="a bad deploy stops at 5% of traffic"
    )
    vague = item("Add a canary stage to checkout deploys", success_criteria="better")
    assert check(good) == []
    [problem] = check(vague)
    assert problem.startswith("success criteria: the text is vague ('better')")


def test_failing_items_are_kept_but_marked_needs_revision_with_reasons(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Orders API timeouts", "dana", T0)
    good = engine.actions.add(
        incident.id, "Add a canary stage to checkout deploys", "erin", date(2024, 3, 20), "dana", T0
    )
    vague = engine.actions.add(incident.id, "Improve monitoring", None, None, "dana", T0)

    results = apply_gate(engine.actions, engine.store, incident.id, "dana")

    assert [(r.item.id, r.passed) for r in results] == [(good.id, True), (vague.id, False)]
    stored = {a.id: a.status for a in engine.actions.list(incident.id)}
    assert stored == {good.id: ActionStatus.PENDING, vague.id: ActionStatus.NEEDS_REVISION}
    # The gate ran when the item was added: its verdict is in that audit entry.
    [audit] = [e for e in engine.store.audit_trail(incident.id) if e.action == "add_action"][1:]
    assert json.loads(audit.detail)["problems"] == results[1].problems


def test_gate_leaves_filed_items_alone_and_is_idempotent(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Orders API timeouts", "dana", T0)
    filed = engine.actions.add(incident.id, "Improve monitoring", None, None, "dana", T0)
    engine.actions.add_ref(filed.id, "jira:OPS-1", "dana")

    apply_gate(engine.actions, engine.store, incident.id, "dana")
    apply_gate(engine.actions, engine.store, incident.id, "dana")

    assert engine.actions.get(filed.id).status is ActionStatus.FILED
    assert [e for e in engine.store.audit_trail(incident.id) if e.action == "gate_action"] == []


def test_a_corrected_item_goes_back_to_pending(engine: Engine) -> None:
    incident = engine.incidents.start("#inc-a", "Orders API timeouts", "dana", T0)
    added = engine.actions.add(incident.id, "Add a canary stage to checkout deploys", None, None, "dana", T0)
    apply_gate(engine.actions, engine.store, incident.id, "dana")
    assert engine.actions.get(added.id).status is ActionStatus.NEEDS_REVISION

    edit = engine.actions.edit(incident.id, 1, owner="erin", due=date(2024, 3, 20), by="dana", at=T0)

    assert edit.problems == [] and edit.item.status is ActionStatus.PENDING
    [result] = apply_gate(engine.actions, engine.store, incident.id, "dana")
    assert result.passed
    assert engine.actions.get(added.id).status is ActionStatus.PENDING
