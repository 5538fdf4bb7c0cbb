"""`!incident ...` through the real bot: lifecycle, roles, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.models import EventKind, IncidentStatus, Severity
from tests.plugin_fixtures import ADMIN, ROOM, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]


def start(
    chat: Chat, text: str = "Checkout 5xx spike --sev SEV2 --service checkout-api", frm: str = "alice"
) -> str:
    return chat.ask(f"!incident start {text}", frm=frm, at=T0)


def test_start_opens_an_incident_bound_to_the_room_at_the_message_time(chat: Chat) -> None:
    reply = start(chat)

    assert reply.startswith("INC-1 started: Checkout 5xx spike (SEV2, service checkout-api).")
    engine = chat.engine()
    try:
        incident = engine.incidents.open_in_room(ROOM)
        assert incident is not None
        assert (incident.id, incident.severity, incident.service) == ("INC-1", Severity.SEV2, "checkout-api")
        assert incident.started_at == T0
    finally:
        engine.close()


def test_start_accepts_options_before_the_title_and_lowercase_severity(chat: Chat) -> None:
    assert chat.ask("!incident start --sev=sev3 Search is slow", at=T0).startswith(
        "INC-1 started: Search is slow (SEV3)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "Give the incident a title"),
        ("--sev SEV2", "Give the incident a title"),
        ("Checkout down --sev", "--sev needs a value"),
        ("Checkout down --sev SEV9", "unknown severity 'SEV9'"),
        ("Checkout down --service", "--service needs a value"),
        ("Checkout down --team payments", "Unknown option --team"),
        ("x" * 201, "the incident title has 201 characters, at most 200 fit: say the rest in a note"),
    ],
)
def test_start_with_bad_arguments_explains_and_opens_nothing(chat: Chat, args: str, expected: str) -> None:
    assert expected in chat.ask(f"!incident start {args}".strip())
    assert "This room has no incident yet" in chat.ask("!incident status")


def test_second_start_in_the_same_room_is_refused(chat: Chat) -> None:
    start(chat)
    assert "already has open incident INC-1" in chat.ask("!incident start Another one", frm="bob")


def test_rooms_have_separate_incidents(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident start Search slow", room="#inc-search").startswith("INC-2 started")


def test_status_shows_the_rooms_incident(chat: Chat) -> None:
    start(chat)
    status = chat.ask("!incident status", frm="bob")
    assert "INC-1 Checkout 5xx spike: investigating (SEV2, service checkout-api)" in status
    assert "Commander: not named yet" in status
    assert "Started: 2024-03-01 10:00:00 UTC" in status


def test_status_without_an_incident_says_how_to_start_one(chat: Chat) -> None:
    assert chat.ask("!incident status") == (
        "This room has no incident yet; start one with !incident start TITLE"
    )


def test_status_takes_no_arguments(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident status INC-1") == "!incident status takes no arguments"


def test_starter_sets_severity_with_a_reason(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident sev SEV1 payments failing", at=T0 + timedelta(minutes=3)) == (
        "INC-1 is now SEV1 (payments failing)."
    )
    assert "(SEV1, service checkout-api)" in chat.ask("!incident status")


@pytest.mark.parametrize(
    ("args", "expected"), [("", "Give a severity"), ("SEV0 everything", "unknown severity")]
)
def test_bad_severity_changes_nothing(chat: Chat, args: str, expected: str) -> None:
    start(chat)
    assert expected in chat.ask(f"!incident sev {args}".strip())
    assert "(SEV2," in chat.ask("!incident status")


def test_only_the_commander_or_an_admin_changes_the_incidents_status(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident commander @carol") == "carol is now the commander of INC-1."

    refused = chat.ask("!incident mitigated", frm="alice")
    assert refused == "only the commander (carol) or an admin can change INC-1"
    assert chat.ask("!incident sev SEV1", frm="carol") == "INC-1 is now SEV1."
    assert chat.ask("!incident sev SEV3 downgraded", frm=ADMIN) == "INC-1 is now SEV3 (downgraded)."


def test_before_a_commander_is_named_others_cannot_change_status(chat: Chat) -> None:
    start(chat)
    assert "only whoever started it or an admin" in chat.ask("!incident mitigated", frm="mallory")
    assert "investigating" in chat.ask("!incident status")


@pytest.mark.parametrize("args", ["", "@bob @carol"])
def test_commander_needs_exactly_one_person(chat: Chat, args: str) -> None:
    start(chat)
    assert chat.ask(f"!incident commander {args}".strip()) == "Name one person: !incident commander @user"
    assert "Commander: not named yet" in chat.ask("!incident status")


def test_impact_and_cause_are_recorded(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident impact 30% of checkouts fail") == "INC-1 impact: 30% of checkouts fail"
    assert (
        chat.ask("!incident cause bad connection pool setting") == "INC-1 cause: bad connection pool setting"
    )
    status = chat.ask("!incident status")
    assert "Impact: 30% of checkouts fail" in status
    assert "Cause: bad connection pool setting" in status


@pytest.mark.parametrize("command", ["impact", "cause"])
def test_empty_impact_or_cause_is_refused(chat: Chat, command: str) -> None:
    start(chat)
    assert chat.ask(f"!incident {command}") == f"Say what the {command} is: !incident {command} TEXT"


def test_mitigate_then_resolve_closes_the_incident_at_message_times(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident mitigated", at=T0 + timedelta(minutes=40)).startswith(
        "INC-1 mitigated at 2024-03-01 10:40:00 UTC."
    )
    assert "already mitigated" in chat.ask("!incident mitigated")
    resolved = chat.ask("!incident resolve rolled back", at=T0 + timedelta(minutes=72))
    assert resolved == "INC-1 resolved at 2024-03-01 11:12:00 UTC after 1h 12m. Its timeline is kept."

    assert chat.ask("!incident status").startswith("INC-1 Checkout 5xx spike: resolved")  # the room keeps it
    engine = chat.engine()
    try:
        incident = engine.incidents.get("INC-1")
        assert incident.status is IncidentStatus.RESOLVED
        assert incident.resolved_at == T0 + timedelta(minutes=72)
        statuses = [e.text for e in engine.timeline.events("INC-1") if e.kind is EventKind.STATUS]
        assert statuses[-2:] == ["Mitigated", "Resolved: rolled back"]
    finally:
        engine.close()


def test_mitigated_takes_no_arguments(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident mitigated now") == "!incident mitigated takes no arguments"


def test_a_new_incident_can_start_after_resolve(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve")
    assert chat.ask("!incident start Checkout again", at=T0 + timedelta(hours=2)).startswith("INC-2 started")


def test_every_incident_command_has_help(chat: Chat) -> None:
    help_text = chat.ask("!help DebriefIncidents")
    for command in ("start", "status", "sev", "commander", "impact", "cause", "mitigated", "resolve"):
        assert f"incident {command}" in help_text


def test_a_secret_typed_into_a_command_is_not_echoed_back(chat: Chat) -> None:
    chat.ask("!incident start Checkout 5xx")
    token = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    reply = chat.ask(f"!incident cause leaked GITHUB_TOKEN={token} in the deploy job")
    assert token not in reply
    assert "[REDACTED:github-token]" in reply
