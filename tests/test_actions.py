"""Action items: the `TEXT [@owner] [due:YYYY-MM-DD]` syntax, storage, idempotency keys and tracker refs."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from agent.actions import ActionParseError, ParsedAction, UnknownAction, parse_action
from agent.engine import Engine
from agent.incidents import UnknownIncident
from agent.models import ActionItem, ActionKind, ActionStatus, EventKind, Incident
from agent.store.tables import ActionRow
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Alert on pool saturation", ParsedAction("Alert on pool saturation")),
        ("Alert on pool saturation @bob", ParsedAction("Alert on pool saturation", "bob")),
        (
            "Alert on pool saturation @bob due:2024-04-01",
            ParsedAction("Alert on pool saturation", "bob", date(2024, 4, 1)),
        ),
        (
            "Alert on pool saturation DUE:2024-04-01 @bob",
            ParsedAction("Alert on pool saturation", "bob", date(2024, 4, 1)),
        ),
        ("  Ask @carol about pool sizing   @bob ", ParsedAction("Ask @carol about pool sizing", "bob")),
        (
            "Fix the due: field parser due:2024-02-29",
            ParsedAction("Fix the due: field parser", None, date(2024, 2, 29)),
        ),
    ],
)
def test_parse_action_reads_owner_and_due_date_from_the_end(text: str, parsed: ParsedAction) -> None:
    assert parse_action(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "action needs a description"),
        ("   ", "action needs a description"),
        ("@bob due:2024-04-01", "action needs a description"),
        ("Add alert due:2024-13-01", "due date 2024-13-01 is not a valid YYYY-MM-DD date"),
        ("Add alert due:2023-02-29", "due date 2023-02-29 is not a valid YYYY-MM-DD date"),
        ("Add alert due:tomorrow", "due date tomorrow is not a valid YYYY-MM-DD date"),
        ("Add alert due:20240401", "due date 20240401 is not a valid YYYY-MM-DD date"),
        ("Add alert due:", "due date is empty; use due:YYYY-MM-DD"),
        ("Add alert @bob @carol", r"give one owner, not two \(@bob and @carol\)"),
        ("Add alert due:2024-04-01 due:2024-04-02", "give one due date, not two"),
        ("Add alert @ due:2024-04-01", "an owner needs a name after the @, like @bob"),
    ],
)
def test_parse_action_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ActionParseError, match=f"^{message}$"):
        parse_action(text)


@pytest.fixture
def incident(engine: Engine) -> Incident:
    return engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", at(0))


def test_added_action_is_stored_with_owner_due_and_a_stable_idempotency_key(
    engine: Engine, incident: Incident
) -> None:
    item = engine.actions.add(
        incident.id,
        "Alert on pool saturation",
        "@bob",
        date(2024, 4, 1),
        "alice",
        at(50),
        kind=ActionKind.DETECT,
        success_criteria="pages before users notice",
    )
    assert (item.id, item.incident_id, item.title, item.owner, item.due) == (
        1,
        incident.id,
        "Alert on pool saturation",
        "bob",
        date(2024, 4, 1),
    )
    assert (item.kind, item.status, item.refs) == (ActionKind.DETECT, ActionStatus.PENDING, [])
    assert item.success_criteria == "pages before users notice"
    assert item.number == 1 and (item.ref, item.qualified_ref) == ("A1", "INC-1/A1")
    assert re.fullmatch(r"debrief-[0-9a-f]{12}-INC-1\.A1", item.idempotency_key)
    assert engine.actions.get(item.id) == item


def test_adding_an_action_is_a_key_timeline_event_and_an_audit_entry(
    engine: Engine, incident: Incident
) -> None:
    engine.actions.add(incident.id, "Alert on pool saturation", "bob", date(2024, 4, 1), "alice", at(50))
    event = engine.timeline.events(incident.id)[-1]
    assert (event.kind, event.key, event.at, event.author) == (EventKind.ACTION, True, at(50), "alice")
    assert event.text == "Action A1: Alert on pool saturation (owner bob, due 2024-04-01)"
    assert engine.store.audit_trail(incident.id)[-1].action == "add_action"


def test_an_action_needs_a_title_and_a_known_incident(engine: Engine, incident: Incident) -> None:
    with pytest.raises(ActionParseError, match="action needs a description"):
        engine.actions.add(incident.id, "  ", None, None, "alice", at(1))
    with pytest.raises(UnknownIncident, match="there is no incident INC-4"):
        engine.actions.add("INC-4", "Fix it", None, None, "alice", at(1))
    assert engine.actions.list() == []


def test_actions_are_listed_per_incident_in_the_order_added(engine: Engine, incident: Incident) -> None:
    other = engine.incidents.start("#inc-db", "DB slow", "bob", at(0))
    engine.actions.add(incident.id, "First", None, None, "alice", at(1))
    engine.actions.add(other.id, "Elsewhere", None, None, "bob", at(2))
    engine.actions.add(incident.id, "Second", "carol", None, "alice", at(3))
    assert [a.title for a in engine.actions.list(incident.id)] == ["First", "Second"]
    keys = [a.idempotency_key.split("-", 2) for a in engine.actions.list()]
    assert [key[2] for key in keys] == ["INC-1.A1", "INC-2.A1", "INC-1.A2"]
    assert [a.qualified_ref for a in engine.actions.list()] == ["INC-1/A1", "INC-2/A1", "INC-1/A2"]
    assert {key[1] for key in keys} == {keys[0][1]}  # one installation
    with pytest.raises(UnknownIncident):
        engine.actions.list("INC-9")


def test_tracker_refs_are_kept_once_each_and_mark_the_item_filed(engine: Engine, incident: Incident) -> None:
    item = engine.actions.add(incident.id, "Alert on pool saturation", None, None, "alice", at(1))
    engine.actions.add_ref(item.id, "jira:OPS-12", "debrief")
    engine.actions.add_ref(item.id, "jira:OPS-12", "debrief")
    filed = engine.actions.add_ref(item.id, "github:acme/ops#7", "debrief")
    assert (filed.refs, filed.status) == (["jira:OPS-12", "github:acme/ops#7"], ActionStatus.FILED)
    assert engine.actions.get(item.id).refs == ["jira:OPS-12", "github:acme/ops#7"]
    with pytest.raises(ActionParseError, match="a tracker ref cannot be empty"):
        engine.actions.add_ref(item.id, " ", "debrief")


def test_status_changes_are_stored_and_audited(engine: Engine, incident: Incident) -> None:
    item = engine.actions.add(
        incident.id, "Alert on pool saturation", "bob", date(2024, 4, 1), "alice", at(1)
    )
    assert engine.actions.set_status(item.id, ActionStatus.DONE, "bob").status == ActionStatus.DONE
    assert (
        engine.store.audit_trail(incident.id)[-1].detail == '{"action": 1, "from": "pending", "to": "done"}'
    )


def test_unknown_action_ids_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownAction, match="there is no action item with database id 5"):
        engine.actions.get(5)
    with pytest.raises(UnknownAction, match="there is no action item with database id 5"):
        engine.actions.add_ref(5, "jira:OPS-1", "debrief")


def test_the_database_refuses_a_second_item_with_the_same_idempotency_key(
    engine: Engine, incident: Incident
) -> None:
    item = engine.actions.add(incident.id, "First", None, None, "alice", at(1))
    with pytest.raises(IntegrityError), engine.store.write() as session:
        session.add(
            ActionRow(
                incident_number=1,
                number=2,
                title="copy",
                kind="prevent",
                status="pending",
                refs=[],
                idempotency_key=item.idempotency_key,
                created_by="mallory",
                created_at=at(2),
            )
        )


def test_the_same_source_message_adds_one_item_however_often_it_arrives(
    engine: Engine, incident: Incident
) -> None:
    first = engine.actions.add(
        incident.id, "Add a canary stage", "bob", None, "alice", at(5), source="C1:1.5"
    )
    events_before = engine.timeline.events(incident.id, key_only=False)
    audit_before = engine.store.audit_trail(incident.id)

    again = engine.actions.add(
        incident.id, "Add a canary stage", "bob", None, "alice", at(5), source="C1:1.5"
    )

    assert again == first
    assert engine.actions.list(incident.id) == [first]
    assert engine.timeline.events(incident.id, key_only=False) == events_before
    assert engine.store.audit_trail(incident.id) == audit_before
    # A redelivery takes no number: the next item is A2, not A3.
    assert engine.actions.add(incident.id, "Next", None, None, "alice", at(6), source="C1:1.6").ref == "A2"


def test_different_source_messages_add_different_items(engine: Engine, incident: Incident) -> None:
    first = engine.actions.add(incident.id, "Add a canary stage", None, None, "alice", at(5), source="C1:1.5")
    second = engine.actions.add(
        incident.id, "Add a canary stage to search", None, None, "alice", at(6), source="C1:1.6"
    )
    unsourced = [
        engine.actions.add(incident.id, f"Write runbook {part}", None, None, "bob", at(7)) for part in "ab"
    ]
    assert [a.id for a in engine.actions.list(incident.id)] == [
        first.id,
        second.id,
        *(a.id for a in unsourced),
    ]
    assert len({first.id, second.id, *(a.id for a in unsourced)}) == 4


def test_a_source_is_per_incident(engine: Engine, incident: Incident) -> None:
    other = engine.incidents.start("#inc-db", "DB slow", "bob", at(0))
    mine = engine.actions.add(incident.id, "Fix it", None, None, "alice", at(5), source="replay:x:3")
    theirs = engine.actions.add(other.id, "Fix it", None, None, "alice", at(5), source="replay:x:3")
    assert (mine.incident_id, theirs.incident_id) == (incident.id, other.id)
    assert mine.id != theirs.id


def test_concurrent_deliveries_of_one_message_add_one_item(engine: Engine, incident: Incident) -> None:
    results: list[ActionItem] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            results.append(
                engine.actions.add(
                    incident.id, "Add a canary stage", "bob", None, "alice", at(5), source="C1:9"
                )
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    [item] = engine.actions.list(incident.id)
    assert results == [item] * 6
    actions_audited = [a for a in engine.store.audit_trail(incident.id) if a.action == "add_action"]
    assert len(actions_audited) == 1
    action_events = [e for e in engine.timeline.events(incident.id) if e.kind is EventKind.ACTION]
    assert len(action_events) == 1
