"""Action items after they are added: ids per incident, edits, done and drop, the gate at once, overdue items.

Through the engine, on SQLite and PostgreSQL; the chat commands are in tests/test_plugin_action_changes.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from agent.actions import (
    ActionError,
    ActionParseError,
    ActionRef,
    ParsedEdit,
    UnknownAction,
    parse_drop,
    parse_edit,
    parse_ref,
)
from agent.engine import Engine
from agent.identity import OPERATOR, NotVisible, Roles
from agent.incidents import Asked, InRoom
from agent.models import ActionStatus, Incident
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

DUE = date(2024, 3, 15)
CANARY = "Add a canary stage to checkout deploys"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("A2", ActionRef(2)),
        ("a12", ActionRef(12)),
        ("INC-3/A2", ActionRef(2, "INC-3")),
        (" inc-3/a2 ", ActionRef(2, "INC-3")),
    ],
)
def test_action_ids_are_read_per_incident(text: str, ref: ActionRef) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text", ["2", "B2", "A0", "INC-3", "INC-3/", "INC-3/B2", "A2x", "#A2", "INC-3-A2"])
def test_other_ids_are_refused_with_what_ids_look_like(text: str) -> None:
    with pytest.raises(
        ActionParseError, match=rf"^{text} is not an action item id; ids look like A2, or INC-3/A2"
    ):
        parse_ref(text)


def test_edit_and_drop_read_their_arguments() -> None:
    assert parse_edit("A2 Alert at 80% of max_client_conn @erin due:2024-04-01") == ParsedEdit(
        ActionRef(2), "Alert at 80% of max_client_conn", "erin", date(2024, 4, 1)
    )
    assert parse_edit("INC-3/A2 @erin") == ParsedEdit(ActionRef(2, "INC-3"), None, "erin", None)
    assert parse_drop("A2 superseded by A3") == (ActionRef(2), "superseded by A3")
    with pytest.raises(ActionParseError, match=r"^nothing to change in A2: give a new text"):
        parse_edit("A2")
    with pytest.raises(ActionParseError, match=r"^say why A2 is dropped$"):
        parse_drop("A2")
    with pytest.raises(ActionParseError, match=r"^due date 2024-02-30 is not a valid"):
        parse_edit("A2 due:2024-02-30")


@pytest.fixture
def incident(engine: Engine) -> Incident:
    return engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", at(0))


def test_items_are_numbered_per_incident(engine: Engine, incident: Incident) -> None:
    other = engine.incidents.start("#inc-db", "DB slow", "bob", at(0))
    first = engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(1))
    elsewhere = engine.actions.add(other.id, "Raise the pgbouncer pool to 200", "bob", DUE, "bob", at(2))
    second = engine.actions.add(
        incident.id, "Write the checkout rollback runbook", "carol", DUE, "alice", at(3)
    )

    assert [(a.id, a.qualified_ref) for a in (first, elsewhere, second)] == [
        (1, "INC-1/A1"),
        (2, "INC-2/A1"),
        (3, "INC-1/A2"),
    ]
    assert engine.actions.find(incident.id, 2) == second
    assert engine.actions.find(InRoom("#inc-db"), 1) == elsewhere
    with pytest.raises(UnknownAction, match=r"^INC-1 has no action item A3$"):
        engine.actions.find(incident.id, 3)


def test_the_gate_runs_when_an_item_is_added_and_keeps_it_as_needs_revision(
    engine: Engine, incident: Incident
) -> None:
    vague = engine.actions.add(incident.id, "Improve monitoring", None, None, "alice", at(1))
    late = engine.actions.add(incident.id, CANARY, "bob", date(2024, 2, 29), "alice", at(1))
    good = engine.actions.add(  # due today
        incident.id, "Add a canary stage to search", "bob", date(2024, 3, 1), "alice", at(1)
    )

    assert [a.status for a in (vague, late, good)] == [
        ActionStatus.NEEDS_REVISION,
        ActionStatus.NEEDS_REVISION,
        ActionStatus.PENDING,
    ]
    added = [json.loads(e.detail) for e in engine.store.audit_trail(incident.id) if e.action == "add_action"]
    assert added[0]["problems"][1:] == ["no owner: add @owner", "no due date: add due:YYYY-MM-DD"]
    assert added[1]["problems"] == ["due date 2024-02-29 is in the past"]
    assert "problems" not in added[2]


def test_an_edit_changes_what_is_given_runs_the_gate_and_is_audited(
    engine: Engine, incident: Incident
) -> None:
    engine.actions.add(incident.id, "Improve monitoring", None, None, "alice", at(1))

    owned = engine.actions.edit(incident.id, 1, owner="@erin", by="bob", at=at(5))
    assert owned.changes == {"owner": (None, "erin")}
    assert owned.item.status is ActionStatus.NEEDS_REVISION and len(owned.problems) == 2

    fixed = engine.actions.edit(
        incident.id, 1, title="Alert at 80% of max_client_conn", due=DUE, by="carol", at=at(6)
    )

    assert fixed.changes == {
        "title": ("Improve monitoring", "Alert at 80% of max_client_conn"),
        "due": (None, "2024-03-15"),
    }
    assert fixed.problems == [] and fixed.item.status is ActionStatus.PENDING
    assert (fixed.item.owner, fixed.item.revision) == ("erin", 2)
    edits = [
        (e.actor, json.loads(e.detail))
        for e in engine.store.audit_trail(incident.id)
        if e.action == "edit_action"
    ]
    assert [(actor, detail["ref"], sorted(detail["changes"])) for actor, detail in edits] == [
        ("bob", "A1", ["owner"]),
        ("carol", "A1", ["due", "title"]),
    ]


def test_an_edit_that_changes_nothing_is_not_a_change(engine: Engine, incident: Incident) -> None:
    added = engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(1))

    same = engine.actions.edit(incident.id, 1, title=f" {CANARY} ", owner="bob", due=DUE, by="bob", at=at(2))

    assert not same.changed and same.item == added
    assert [e.action for e in engine.store.audit_trail(incident.id)][-1] == "add_action"


def test_a_filed_item_stays_filed_when_edited_and_the_gate_still_speaks(
    engine: Engine, incident: Incident
) -> None:
    engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(1))
    engine.actions.add_ref(1, "jira:OPS-1", "debrief")

    edit = engine.actions.edit(incident.id, 1, title="Fix it", by="bob", at=at(2))

    assert edit.item.status is ActionStatus.FILED
    assert edit.problems and "vague" in edit.problems[0]


def test_done_and_drop_close_an_item_once_with_who_and_why(engine: Engine, incident: Incident) -> None:
    for title in (CANARY, "Write the checkout rollback runbook"):
        engine.actions.add(incident.id, title, "bob", DUE, "alice", at(1))

    done = engine.actions.done(incident.id, 1, by="bob")
    dropped = engine.actions.drop(incident.id, 2, "  covered by A1  ", by="carol")

    assert (done.item.status, done.changes) == (ActionStatus.DONE, {"status": ("pending", "done")})
    assert (dropped.item.status, dropped.item.drop_reason) == (ActionStatus.DROPPED, "covered by A1")
    audit = [(e.actor, e.action, json.loads(e.detail)) for e in engine.store.audit_trail(incident.id)][-2:]
    assert audit == [
        ("bob", "complete_action", {"action": 1, "ref": "A1", "from": "pending", "to": "done"}),
        (
            "carol",
            "drop_action",
            {"action": 2, "ref": "A2", "from": "pending", "to": "dropped", "reason": "covered by A1"},
        ),
    ]
    with pytest.raises(ActionError, match=r"^INC-1/A1 is already done, so it cannot be edited$"):
        engine.actions.edit(incident.id, 1, owner="carol", by="bob", at=at(3))
    with pytest.raises(ActionError, match=r"^INC-1/A1 is already done, so it cannot be dropped$"):
        engine.actions.drop(incident.id, 1, "nah", by="bob")
    with pytest.raises(
        ActionError, match=r"^INC-1/A2 was dropped \(covered by A1\), so it cannot be marked done$"
    ):
        engine.actions.done(incident.id, 2, by="bob")
    with pytest.raises(ActionParseError, match="say why"):
        engine.actions.drop(incident.id, 1, " ", by="bob")


def test_items_are_changed_after_the_incident_is_resolved(engine: Engine, incident: Incident) -> None:
    engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(1))
    engine.incidents.resolve(incident.id, "alice", at(30))

    room = InRoom("#inc-checkout")
    added = engine.actions.add(room, "Alert when checkout 5xx exceed 1%", "carol", DUE, "dana", at(60))
    engine.actions.edit(room, 1, owner="erin", by="dana", at=at(61))
    engine.actions.done(room, 2, by="carol")

    assert [(a.ref, a.owner, a.status) for a in engine.actions.list(incident.id)] == [
        ("A1", "erin", ActionStatus.PENDING),
        (added.ref, "carol", ActionStatus.DONE),
    ]


def test_another_rooms_incident_is_changed_only_by_admins(engine: Engine, incident: Incident) -> None:
    admin = Engine(engine.store, Roles.of(["root"]))
    engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(1))

    with pytest.raises(NotVisible, match="INC-1 is not visible here"):
        admin.actions.done(Asked("INC-1", "#random", "mallory"), 1, by="mallory")
    assert (
        admin.actions.done(Asked("INC-1", "#random", "root"), 1, by="root").item.status is ActionStatus.DONE
    )


def test_overdue_items_are_the_open_ones_due_before_today_seen_from_their_room(
    engine: Engine, incident: Incident
) -> None:
    admin = Engine(engine.store, Roles.of(["root"]))
    other = engine.incidents.start("#inc-db", "DB slow", "bob", at(0))
    engine.actions.add(incident.id, CANARY, "bob", date(2024, 3, 10), "alice", at(1))
    engine.actions.add(
        incident.id, "Write the checkout rollback runbook", "bob", date(2024, 3, 20), "alice", at(1)
    )
    engine.actions.add(
        incident.id, "Alert when checkout 5xx exceed 1%", "bob", date(2024, 3, 5), "alice", at(1)
    )
    engine.actions.add(other.id, "Raise the pgbouncer pool to 200", "bob", date(2024, 3, 8), "bob", at(1))
    engine.actions.add(other.id, "Undated but open", None, None, "bob", at(1))
    engine.actions.done(incident.id, 3, by="bob")

    def overdue(user: str, room: str | None) -> list[str]:
        return [a.qualified_ref for a in admin.actions.overdue(date(2024, 3, 15), asker=user, room=room)]

    assert overdue("bob", "#inc-checkout") == ["INC-1/A1"]
    assert overdue("bob", "#random") == []
    assert overdue("root", "#random") == overdue(OPERATOR, None) == ["INC-2/A1", "INC-1/A1"]
