"""Incident lifecycle: ids, one open incident per room, severity, commander, status changes and who may make them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from agent.engine import Engine
from agent.identity import Lead, NotAllowed, Permission, Roles
from agent.incidents import IncidentError, UnknownIncident, parse_severity
from agent.models import EventKind, Incident, IncidentStatus, Severity
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]


def _start(engine: Engine, room: str = "#inc-checkout", by: str = "alice") -> Incident:
    return engine.incidents.start(
        room, "Checkout 5xx spike", by, at(0), severity=Severity.SEV2, service="checkout"
    )


def test_start_opens_an_investigating_incident_bound_to_its_room(engine: Engine) -> None:
    incident = _start(engine)
    assert incident.id == "INC-1"
    assert (incident.room, incident.title, incident.status) == (
        "#inc-checkout",
        "Checkout 5xx spike",
        IncidentStatus.INVESTIGATING,
    )
    assert (incident.severity, incident.service, incident.commander) == (Severity.SEV2, "checkout", None)
    assert incident.started_at == incident.detected_at == at(0)
    assert incident.participants == ["alice"]
    assert engine.incidents.open_in_room("#inc-checkout") == incident


def test_start_is_a_key_status_event_and_an_audit_entry(engine: Engine) -> None:
    incident = _start(engine)
    [event] = engine.timeline.events(incident.id)
    assert (event.kind, event.key, event.at, event.author) == (EventKind.STATUS, True, at(0), "alice")
    assert event.text == "Incident started (SEV2): Checkout 5xx spike"
    [entry] = engine.store.audit_trail(incident.id)
    assert (entry.actor, entry.action) == ("alice", "start")


def test_incident_ids_count_up(engine: Engine) -> None:
    ids = [_start(engine, room=f"#inc-{n}").id for n in range(3)]
    assert ids == ["INC-1", "INC-2", "INC-3"]


def test_a_room_cannot_have_two_open_incidents(engine: Engine) -> None:
    _start(engine)
    with pytest.raises(IncidentError, match=r"^room #inc-checkout already has open incident INC-1$"):
        _start(engine, by="bob")
    assert [i.id for i in engine.incidents.list_open()] == ["INC-1"]


def test_a_room_can_start_again_once_its_incident_is_resolved(engine: Engine) -> None:
    first = _start(engine)
    engine.incidents.resolve(first.id, "alice", at(30))
    second = _start(engine)
    assert second.id == "INC-2"
    assert engine.incidents.open_in_room("#inc-checkout") == second


def test_concurrent_starts_get_distinct_ids_and_one_per_room(engine: Engine) -> None:
    results: list[str] = []
    refused: list[str] = []

    def start(room: str) -> None:
        try:
            results.append(_start(engine, room=room).id)
        except IncidentError as exc:
            refused.append(str(exc))

    rooms = [f"#inc-{n}" for n in range(6)] + ["#inc-same"] * 4
    threads = [threading.Thread(target=start, args=(room,)) for room in rooms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 7 and len(set(results)) == 7
    assert len(refused) == 3 and all("#inc-same already has open incident" in text for text in refused)
    assert len(engine.incidents.list_open()) == 7


@pytest.mark.parametrize(("title", "room"), [("   ", "#inc-a"), ("Disk full", "")])
def test_start_needs_a_title_and_a_room(engine: Engine, title: str, room: str) -> None:
    with pytest.raises(IncidentError, match="cannot be empty"):
        engine.incidents.start(room, title, "alice", at(0))


def test_get_accepts_any_case_and_rejects_unknown_or_malformed_ids(engine: Engine) -> None:
    incident = _start(engine)
    assert engine.incidents.get("inc-1") == incident
    with pytest.raises(UnknownIncident, match=r"^there is no incident INC-99$"):
        engine.incidents.get("INC-99")
    with pytest.raises(UnknownIncident, match="is not an incident id; ids look like INC-3"):
        engine.incidents.get("checkout")
    for other_digits in (
        "INC-\u0661",
        "INC-\uff11",
        "\u0131nc-1",
    ):  # Arabic-Indic one, fullwidth one, dotless i
        with pytest.raises(UnknownIncident, match="is not an incident id"):
            engine.incidents.get(other_digits)


def test_list_open_leaves_out_resolved_incidents(engine: Engine) -> None:
    first, second, third = (_start(engine, room=f"#inc-{n}") for n in range(3))
    engine.incidents.mitigate(second.id, "alice", at(5))
    engine.incidents.resolve(third.id, "alice", at(9))
    assert [i.id for i in engine.incidents.list_open()] == [first.id, second.id]
    assert engine.incidents.open_in_room("#inc-2") is None


def test_an_incident_has_its_services_first_one_first(engine: Engine) -> None:
    incident = engine.incidents.start(
        "#inc-db", "DB slow", "bob", at(1), service="orders-db", services=("orders-api, orders-db", " ")
    )
    assert (incident.service, incident.services) == (
        "orders-db",
        ["orders-db", "orders-api"],
    )

    assert engine.incidents.add_service(incident.id, "payments", "carol", at(2)) == [
        "orders-db",
        "orders-api",
        "payments",
    ]
    with pytest.raises(IncidentError, match="already has the service payments"):
        engine.incidents.add_service(incident.id, "PAYMENTS", "carol", at(3))
    assert engine.incidents.remove_service(incident.id, "orders-db", "carol", at(4)) == [
        "orders-api",
        "payments",
    ]
    assert engine.incidents.get(incident.id).service == "orders-api"
    texts = [e.text for e in engine.timeline.events(incident.id)]
    assert texts[-2:] == ["Service added: payments", "Service removed: orders-db"]


def test_severity_change_keeps_its_reason_and_names_the_old_level(engine: Engine) -> None:
    incident = _start(engine)
    updated = engine.incidents.set_severity(incident.id, Severity.SEV1, "all regions down", "alice", at(3))
    assert (updated.severity, updated.severity_reason) == (Severity.SEV1, "all regions down")
    assert engine.timeline.events(incident.id)[-1].text == "Severity SEV2 -> SEV1: all regions down"
    plain = engine.incidents.start("#inc-b", "Disk", "bob", at(0))
    engine.incidents.set_severity(plain.id, Severity.SEV4, None, "bob", at(1))
    assert engine.timeline.events(plain.id)[-1].text == "Severity set to SEV4"


def test_commander_is_stored_without_the_at_sign_and_joins_the_participants(engine: Engine) -> None:
    incident = _start(engine)
    updated = engine.incidents.set_commander(incident.id, "@carol", "alice", at(2))
    assert updated.commander == "carol"
    assert updated.participants == ["alice", "carol"]
    again = engine.incidents.set_commander(incident.id, "dave", "carol", at(4))
    assert engine.timeline.events(again.id)[-1].text == "Commander: dave (was carol)"
    with pytest.raises(IncidentError, match="the commander cannot be empty"):
        engine.incidents.set_commander(incident.id, "@", "alice", at(5))


def test_impact_and_cause_are_kept_and_must_not_be_empty(engine: Engine) -> None:
    incident = _start(engine)
    engine.incidents.set_impact(incident.id, "12% of checkouts fail", "alice", at(2))
    updated = engine.incidents.set_cause(incident.id, "pool size halved by the 09:55 deploy", "alice", at(8))
    assert (updated.impact, updated.cause) == (
        "12% of checkouts fail",
        "pool size halved by the 09:55 deploy",
    )
    with pytest.raises(IncidentError, match="the impact cannot be empty"):
        engine.incidents.set_impact(incident.id, " ", "alice", at(9))
    with pytest.raises(IncidentError, match="the cause cannot be empty"):
        engine.incidents.set_cause(incident.id, "", "alice", at(9))


def test_mitigate_then_resolve_records_both_times(engine: Engine) -> None:
    incident = _start(engine)
    mitigated = engine.incidents.mitigate(incident.id, "alice", at(20))
    assert (mitigated.status, mitigated.mitigated_at) == (IncidentStatus.MITIGATED, at(20))
    resolved = engine.incidents.resolve(incident.id, "alice", at(45), "pool size restored")
    assert (resolved.status, resolved.mitigated_at, resolved.resolved_at) == (
        IncidentStatus.RESOLVED,
        at(20),
        at(45),
    )
    texts = [event.text for event in engine.timeline.events(incident.id)]
    assert texts[-2:] == ["Mitigated", "Resolved: pool size restored"]


def test_resolving_without_mitigating_counts_as_mitigated_then(engine: Engine) -> None:
    incident = _start(engine)
    resolved = engine.incidents.resolve(incident.id, "alice", at(30))
    assert resolved.mitigated_at == resolved.resolved_at == at(30)


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        (["mitigate"], "mitigate", "INC-1 is already mitigated"),
        (["resolve"], "mitigate", "INC-1 is already resolved"),
        (["resolve"], "resolve", "INC-1 is already resolved"),
    ],
)
def test_status_cannot_go_backwards_or_repeat(
    engine: Engine, steps: list[str], action: str, message: str
) -> None:
    incident = _start(engine)
    moves: dict[str, Callable[[], Incident]] = {
        "mitigate": lambda: engine.incidents.mitigate(incident.id, "alice", at(10)),
        "resolve": lambda: engine.incidents.resolve(incident.id, "alice", at(20)),
    }
    for step in steps:
        moves[step]()
    before = engine.incidents.get(incident.id)
    with pytest.raises(IncidentError, match=f"^{message}$"):
        moves[action]()
    assert engine.incidents.get(incident.id) == before


@pytest.mark.parametrize(
    ("change", "action"),
    [
        (lambda e, i: e.incidents.set_severity(i, Severity.SEV3, "contained", "bob", at(5)), "set_severity"),
        (lambda e, i: e.incidents.set_commander(i, "carol", "bob", at(5)), "set_commander"),
        (lambda e, i: e.incidents.set_impact(i, "slow pages", "bob", at(5)), "set_impact"),
        (lambda e, i: e.incidents.set_cause(i, "bad deploy", "bob", at(5)), "set_cause"),
        (lambda e, i: e.incidents.mitigate(i, "bob", at(5)), "mitigate"),
        (lambda e, i: e.incidents.resolve(i, "bob", at(5)), "resolve"),
    ],
)
def test_every_change_writes_a_key_status_event_and_an_audit_entry(
    engine: Engine, change: Callable[[Engine, str], Incident], action: str
) -> None:
    incident = _start(engine, by="bob")  # the starter may change it until a commander is named
    change(engine, incident.id)
    event = engine.timeline.events(incident.id)[-1]
    assert (event.kind, event.key, event.at, event.author) == (EventKind.STATUS, True, at(5), "bob")
    assert [(e.actor, e.action) for e in engine.store.audit_trail(incident.id)][-1] == ("bob", action)


def test_changes_to_an_unknown_incident_change_nothing(engine: Engine) -> None:
    with pytest.raises(UnknownIncident, match="there is no incident INC-5"):
        engine.incidents.set_severity("INC-5", Severity.SEV1, None, "alice", at(0))
    assert engine.store.audit_trail() == []


def can_change(incident: Incident, user: str, admins: list[str]) -> bool:
    lead = Lead(incident.id, incident.commander, incident.started_by)
    return Roles.of(admins).may(user, Permission.LEAD_INCIDENT, lead)


def test_starter_may_change_status_until_a_commander_is_named(engine: Engine) -> None:
    incident = _start(engine, by="alice")
    assert can_change(incident, "alice", admins=[])
    assert not can_change(incident, "bob", admins=[])
    incident = engine.incidents.set_commander(incident.id, "carol", "alice", at(1))
    assert can_change(incident, "@carol", admins=[])
    assert not can_change(incident, "alice", admins=[])
    assert can_change(incident, "alice", admins=["@alice"])


def test_require_can_change_status_says_who_may(engine: Engine) -> None:
    incident = engine.incidents.set_commander(_start(engine).id, "carol", "alice", at(1))
    with pytest.raises(NotAllowed, match=r"^only the commander \(carol\) or an admin can change INC-1$"):
        engine.incidents.mitigate(incident.id, "mallory", at(2))
    root = Engine(engine.store, Roles.of(["root"]))
    root.incidents.mitigate(incident.id, "root", at(2))


@pytest.mark.parametrize(
    ("text", "severity"), [("SEV1", Severity.SEV1), ("sev3", Severity.SEV3), ("4", Severity.SEV4)]
)
def test_parse_severity_accepts_common_spellings(text: str, severity: Severity) -> None:
    assert parse_severity(text) == severity


@pytest.mark.parametrize("text", ["SEV0", "SEV5", "critical", ""])
def test_parse_severity_rejects_anything_else(text: str) -> None:
    with pytest.raises(IncidentError, match="use SEV1, SEV2, SEV3 or SEV4"):
        parse_severity(text)
