"""The incident as responders run it: the room keeps it after resolve, roles as mature tools have them,
milestones corrected after the fact, wrong events struck, key events marked without reactions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from agent.postmortem import build_postmortem, render_markdown
from tests.plugin_fixtures import ADMIN, ROOM, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def start(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout 5xx spike --sev SEV2", at=T0).startswith("INC-1 started")


def audit(chat: Chat) -> list[tuple[str, str, dict[str, object]]]:
    engine = chat.engine()
    try:
        return [(e.actor, e.action, json.loads(e.detail)) for e in engine.store.audit_trail("INC-1")]
    finally:
        engine.close()


# -- the room keeps its incident ------------------------------------------------------------------------------
def test_after_resolve_the_room_still_works_on_its_incident(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve rolled back", at=at(30))

    assert chat.ask("!incident status").startswith("INC-1 Checkout 5xx spike: resolved (SEV2)")
    assert "Resolved: 2024-03-01 10:30:00 UTC (after 30m)" in chat.ask("!incident status")
    assert "Resolved: rolled back" in chat.ask("!timeline")
    assert chat.ask("!note found the config diff", at=at(40)).startswith("Noted on the INC-1 timeline")
    assert chat.ask("!action add Add a canary stage to checkout deploys @bob due:2030-03-15").startswith(
        "Added to INC-1"
    )
    assert "Add a canary stage" in chat.ask("!actions")


def test_a_new_start_takes_the_room_over(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve", at=at(30))

    assert chat.ask("!incident start Search slow", at=at(60)).startswith("INC-2 started")
    assert chat.ask("!incident status").startswith("INC-2 Search slow: investigating")


def test_incidents_lists_open_and_recent_ones_and_private_ones_only_in_their_room(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident start Search slow", room="#inc-search", at=T0)
    chat.ask("!incident private", room="#inc-search")
    chat.ask("!incident resolve", at=at(30))

    here = chat.ask("!incidents", at=at(31))
    there = chat.ask("!incidents", room="#inc-search", at=at(31))
    admin = chat.ask("!incidents", frm=ADMIN, at=at(31))
    long_after = chat.ask("!incidents", at=at(60 * 24 * 60))

    assert here.splitlines()[1].startswith(
        "INC-1 Checkout 5xx spike (SEV2) resolved, no commander, #inc-checkout"
    )
    assert "INC-2" not in here
    assert "INC-2 Search slow investigating" in there and "private" in there
    assert "INC-2" in admin and "INC-1" in admin
    assert "INC-1" not in long_after and "INC-1" in chat.ask("!incidents --all", at=at(60 * 24 * 60))
    assert chat.ask("!incidents everything") == "Use !incidents, or !incidents --all"


# -- roles ------------------------------------------------------------------------------------------------------
def test_after_a_hand_over_anyone_in_the_room_sets_severity_impact_and_cause(chat: Chat) -> None:
    start(chat)
    assert chat.ask("!incident commander @carol", at=at(1)) == "carol is now the commander of INC-1."

    assert chat.ask("!incident sev SEV1 payments failing too", frm="alice") == (
        "INC-1 is now SEV1 (payments failing too)."
    )
    assert chat.ask("!incident impact 12% of checkouts fail", frm="alice").startswith("INC-1 impact")
    assert chat.ask("!incident cause pool size halved", frm="dave").startswith("INC-1 cause")
    assert chat.ask("!incident sev SEV2", frm="dave").startswith("say why: !incident sev SEV2 REASON")
    assert (
        chat.ask("!incident resolve", frm="alice")
        == "only the commander (carol) or an admin can change INC-1"
    )
    assert chat.ask("!incident resolve", frm="carol", at=at(20)).startswith("INC-1 resolved")

    changes = [(actor, action) for actor, action, _ in audit(chat)]
    assert ("alice", "set_severity") in changes and ("dave", "set_cause") in changes


# -- corrections -------------------------------------------------------------------------------------------------
def test_a_back_dated_start_changes_the_durations_the_postmortem_and_the_audit_trail(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve", at=at(30))

    corrected = chat.ask("!incident set started 09:50 the first 5xx page was at 09:50", at=at(40))

    assert corrected.startswith("INC-1 started corrected.")
    assert "Started: 2024-03-01 09:50:00 UTC" in corrected and "(after 40m)" in corrected
    [(actor, _, detail)] = [entry for entry in audit(chat) if entry[1] == "correct"]
    assert (actor, detail["milestone"], detail["reason"]) == (
        "alice",
        "started",
        "the first 5xx page was at 09:50",
    )
    assert str(detail["from"]).startswith("2024-03-01T10:00:00")
    assert str(detail["to"]).startswith("2024-03-01T09:50:00")
    engine = chat.engine()
    try:
        draft = build_postmortem(engine, "INC-1")
    finally:
        engine.close()
    assert draft.time_to_resolve_s == 40 * 60
    assert "Corrected started: 2024-03-01 10:00:00 UTC -> 2024-03-01 09:50:00 UTC" in render_markdown(draft)


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("!incident set started 25:00", "'25:00' is not a time of day"),
        ("!incident set started yesterday", "'yesterday' is not a time"),
        ("!incident set started", "Use !incident set started|detected|"),
        ("!incident set ended 10:00", "unknown milestone 'ended'"),
        ("!incident set detected 09:00", "detected (2024-03-01 09:00:00 UTC) cannot be before started"),
        ("!incident set resolved 10:20", "INC-1 is not resolved yet"),
        ("!incident set started 2099-01-01T00:00Z", "out of range"),
        ("!incident set impact-end 09:00", "the impact cannot end"),
        ("!incident set started 1970-01-01T00:00:00Z epoch", "is more than a year before INC-1 started"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(chat: Chat, command: str, refusal: str) -> None:
    start(chat)
    chat.ask("!incident set impact-start 10:05")
    before = chat.ask("!incident status")

    reply = chat.ask(command, at=at(10))

    assert refusal in reply, reply
    assert chat.ask("!incident status") == before


def test_a_clock_time_after_midnight_is_the_next_day_when_the_day_of_the_start_cannot_be(chat: Chat) -> None:
    late = T0.replace(hour=23, minute=50)
    assert chat.ask("!incident start Checkout 5xx spike", at=late).startswith("INC-1 started")
    chat.ask("!incident mitigated", at=late + timedelta(minutes=20))
    chat.ask("!incident resolve", at=late + timedelta(minutes=30))

    resolved = chat.ask(
        "!incident set resolved 00:15 the error rate was flat by then", at=late + timedelta(minutes=40)
    )
    started = chat.ask("!incident set started 23:40 first page", at=late + timedelta(minutes=41))

    assert "Resolved: 2024-03-02 00:15:00 UTC" in resolved, resolved
    assert "Started: 2024-03-01 23:40:00 UTC" in started, started


def test_an_impact_window_set_by_anyone_is_in_the_status_and_the_facts(chat: Chat) -> None:
    start(chat)

    chat.ask("!incident set impact-start 10:02 first failed checkout", frm="dave", at=at(5))
    chat.ask("!incident set impact-end 10:17", frm="dave", at=at(20))

    assert "Customer impact: 2024-03-01 10:02:00 UTC to 2024-03-01 10:17:00 UTC" in chat.ask(
        "!incident status"
    )


def test_only_the_lead_corrects_status_milestones(chat: Chat) -> None:
    start(chat)
    refused = chat.ask("!incident set detected 10:01", frm="mallory", at=at(5))
    assert refused == "only whoever started it or an admin can change INC-1"


# -- struck and key events ---------------------------------------------------------------------------------------
def event_id(chat: Chat, words: str) -> str:
    """The id (`E7`) of the one event of `!timeline --all` that says `words`."""
    [found] = [line.split()[0] for line in chat.ask("!timeline --all").splitlines() if words in line]
    return found


def test_a_struck_event_leaves_the_timeline_and_the_postmortem_and_stays_in_the_audit(chat: Chat) -> None:
    start(chat)
    chat.say("ignore: wrong channel, pasting prod creds soon", frm="bob", at=at(1))
    chat.say("error rate 12% on checkout-api", frm="bob", at=at(2))
    wrong = event_id(chat, "wrong channel")

    assert chat.ask(f"!timeline strike {wrong} posted in the wrong room") == (
        f"{wrong} struck from the INC-1 timeline: posted in the wrong room"
    )
    assert "wrong channel" not in chat.ask("!timeline --all")
    engine = chat.engine()
    try:
        assert "wrong channel" not in render_markdown(build_postmortem(engine, "INC-1"))
    finally:
        engine.close()
    [(_, _, detail)] = [entry for entry in audit(chat) if entry[1] == "strike_event"]
    assert detail["text"] == "ignore: wrong channel, pasting prod creds soon"
    assert chat.ask(f"!timeline strike {wrong} again") == f"{wrong} is not on INC-1's timeline"
    assert chat.ask("!timeline strike E1").startswith("say why the event is wrong")


def test_only_whoever_leads_strikes_milestones_signals_and_other_peoples_words(chat: Chat) -> None:
    start(chat)
    chat.say("checkout error rate 12% since 09:58", frm="bob", at=at(1))
    chat.ask("!note rolling back deploy 4711", frm="carol", at=at(2))
    bobs, carols = event_id(chat, "error rate"), event_id(chat, "rolling back")

    assert chat.ask("!timeline strike E1 nope", frm="mallory") == (
        "only whoever started it or an admin can change INC-1"
    )
    assert chat.ask(f"!timeline strike {bobs} nope", frm="carol").startswith("only whoever started it")
    assert chat.ask(f"!timeline strike {carols} typo in the deploy id", frm="carol").startswith(
        f"{carols} struck"
    )
    assert chat.ask(f"!timeline strike {bobs} duplicate of the alert", frm="alice").startswith(
        f"{bobs} struck"
    )
    assert "Incident started" in chat.ask("!timeline --all")


def test_key_marks_an_event_for_platforms_without_reactions(chat: Chat) -> None:
    start(chat)
    chat.say("the pool size is 5, should be 50", frm="bob", at=at(3))
    event = event_id(chat, "pool size")

    assert chat.ask(f"!timeline key {event}").endswith(
        "is a key event of INC-1: the pool size is 5, should be 50"
    )
    assert "the pool size is 5" in chat.ask("!timeline")
    assert chat.ask("!timeline key E999") == "E999 is not on INC-1's timeline"
    assert chat.ask("!timeline key banana").startswith("'banana' is not an event id")


def test_another_rooms_event_cannot_be_struck_from_here(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident start Search slow", room="#inc-search", at=T0)
    chat.say("search index at 100%", frm="bob", room="#inc-search", at=at(1))
    chat.ask("!timeline --all", room="#inc-search")  # flushes the capture queue
    engine = chat.engine()
    try:
        [other] = [e for e in engine.timeline.events("INC-2", key_only=False) if "search index" in e.text]
    finally:
        engine.close()

    assert (
        chat.ask(f"!timeline strike E{other.id} not ours", room=ROOM)
        == f"E{other.id} is not on INC-1's timeline"
    )


def test_help_shows_debriefs_commands_first_and_whole(chat: Chat) -> None:
    shown = chat.ask("!help")

    assert shown.index("Incidents") < shown.index("Errbot's own")
    assert (
        "`!incident set` started|detected|mitigated|resolved|impact-start|impact-end TIME [reason]" in shown
    )
