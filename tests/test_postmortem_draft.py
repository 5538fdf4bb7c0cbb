"""The deterministic postmortem: facts and durations from the timeline's own times, rendered secret-free."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.models import EventKind, IncidentStatus, PostmortemStatus
from agent.postmortem import Postmortem, build_postmortem, render_json, render_markdown
from agent.postmortem.draft import assemble
from agent.postmortem.facts import gather, times_of
from agent.postmortem.fallback import template_narrative
from agent.postmortem.render import TemplateProblem
from agent.settings import Settings
from debrief.bot.replay import replay
from tests.postmortem_fixtures import assert_secret_free, settings_in, transcript

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    """The transcript replayed once through the real bot; tests only read its incident."""
    settings = settings_in(tmp_path_factory.mktemp("replayed"))
    result = replay(settings, transcript())
    assert result.incident_id == "INC-1"
    yield settings, result.incident_id


@pytest.fixture(scope="module")
def draft(replayed: tuple[Settings, str]) -> Postmortem:
    settings, incident_id = replayed
    engine = Engine.from_settings(settings)
    try:
        return build_postmortem(engine, incident_id)
    finally:
        engine.close()


def test_times_come_from_the_transcript_timestamps(draft: Postmortem) -> None:
    assert draft.started_at == T0
    # Detected when the incident was started: erin's first message, 90 s later, came after the incident was
    # declared (the status card says the same)
    assert draft.detected_at == T0
    assert draft.mitigated_at == T0 + timedelta(minutes=12)
    assert draft.resolved_at == T0 + timedelta(minutes=30)
    assert (draft.time_to_detect_s, draft.time_to_mitigate_s, draft.time_to_resolve_s) == (0, 720, 1800)


def test_facts_from_the_commands(draft: Postmortem) -> None:
    assert (draft.incident_id, draft.title, draft.severity, draft.service) == (
        "INC-1",
        "Orders API timeouts",
        "SEV2",
        "orders-api",
    )
    assert draft.incident_status is IncidentStatus.RESOLVED
    assert draft.commander == "frank"
    assert draft.participants == ["dana", "erin", "frank"]
    assert draft.customer_impact == "30% of order submissions failed for 20 minutes"
    assert draft.recorded_cause is not None and draft.recorded_cause.startswith("orders-api v3.2 doubled")
    assert draft.status is PostmortemStatus.DRAFT


def test_timeline_holds_the_key_events_and_the_chat_lines_that_tell_the_story(draft: Postmortem) -> None:
    chat = [(event.author, event.reasons) for event in draft.timeline if event.kind is EventKind.MESSAGE]
    assert chat == [
        ("erin", ["measurement: p99", "error: too many"]),
        ("erin", ["measurement: doubled"]),
        ("frank", ["decision: rolling back"]),
        ("erin", ["decision: rotating", "recovery: back to normal"]),
    ]  # not the config dump: it says none of those things
    key = [event for event in draft.timeline if event.kind is not EventKind.MESSAGE]
    assert all(event.reasons == [f"key event ({event.kind.value})"] for event in key)
    assert [e.text for e in draft.timeline if e.kind is EventKind.NOTE] == [
        "pgbouncer pool at 100% since the 09:50 deploy of orders-api v3.2"
    ]
    assert [e.text for e in draft.timeline if e.kind is EventKind.STATUS][-1] == (
        "Resolved: rollback complete, pool settings reverted"
    )
    assert all(event.ref == f"E{event.id}" for event in draft.timeline)


def test_action_items_carry_the_gate_verdict(draft: Postmortem) -> None:
    problems = {item.title: item.problems for item in draft.action_items}
    assert problems["Alert when pgbouncer client connections exceed 80% of max_client_conn"] == []
    assert problems["Improve monitoring"][0].startswith("the title is vague ('Improve monitoring')")
    assert "no owner: add @owner" in problems["Improve monitoring"]
    assert problems["Add a CI check that fails when pool size times replicas exceeds max_client_conn"] == [
        "no owner: add @owner"
    ]


def test_without_an_llm_the_narrative_is_the_labelled_template(draft: Postmortem) -> None:
    assert draft.generation.narrative == "template"
    assert draft.generation.llm_calls == 0
    assert draft.summary.text.startswith(
        "INC-1 (SEV2, orders-api): Orders API timeouts. Started 2024-03-05 10:00"
    )
    assert [gap.text for gap in draft.detection_gaps] == [
        "No alert reached the incident: people detected and reported it."
    ]
    [cause] = draft.root_causes
    assert cause.evidence == [next(e.ref for e in draft.timeline if e.text.startswith("Cause:"))]
    markdown = render_markdown(draft)
    assert "Narrative built from the timeline without\n> an LLM" in markdown


def test_markdown_and_json_are_secret_free(replayed: tuple[Settings, str], draft: Postmortem) -> None:
    settings, _ = replayed
    markdown, as_json = render_markdown(draft), render_json(draft)
    assert_secret_free(markdown)
    assert_secret_free(as_json)
    assert "password=[REDACTED:password]" in markdown  # the cause was recorded with a secret in it
    # The secrets never reached the stored timeline either; the audit trail says a redaction happened.
    engine = Engine.from_settings(settings)
    try:
        stored = "\n".join(e.text for e in engine.timeline.events("INC-1", key_only=False))
        redactions = [e for e in engine.store.audit_trail() if e.action == "redact"]
    finally:
        engine.close()
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in stored
    assert "[REDACTED:github-token]" in stored
    assert redactions and "timeline_events.text" in redactions[0].detail


def test_markdown_shows_facts_and_durations(draft: Postmortem) -> None:
    markdown = render_markdown(draft)
    assert markdown.startswith('---\ntitle: "Orders API timeouts"\nid: INC-1\nseverity: SEV2\n')
    assert "# INC-1: Orders API timeouts" in markdown
    assert "| Detected | 2024-03-05 10:00:00 UTC (+0s) |" in markdown
    assert "| Mitigated | 2024-03-05 10:12:00 UTC (+12m 00s) |" in markdown
    assert "| Resolved | 2024-03-05 10:30:00 UTC (+30m 00s) |" in markdown
    assert "  - Needs revision: no owner: add @owner" in markdown
    assert "- 2024-03-05 10:04:00 UTC frank [note] pgbouncer pool at 100% since the 09:50 deploy" in markdown


def test_an_incident_of_several_services_names_them_all(draft: Postmortem) -> None:
    assert draft.services == ["orders-api"]
    assert "| Service | orders-api |" in render_markdown(draft)

    several = draft.model_copy(update={"services": ["orders-api", "pgbouncer"]})

    markdown = render_markdown(several)
    assert "| Services | orders-api, pgbouncer |" in markdown and "| Service |" not in markdown


def test_json_is_the_postmortem_model(draft: Postmortem) -> None:
    data = json.loads(render_json(draft))
    assert data["started_at"] == "2024-03-05T10:00:00Z"
    assert data["time_to_resolve_s"] == 1800
    assert Postmortem.model_validate(data) == draft


def test_an_alert_is_detection_and_an_earlier_one_moves_the_start(tmp_path: Path) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        incident = engine.incidents.start("#inc-x", "Disk full", "alice", T0)
        engine.timeline.record(
            incident.id, T0 - timedelta(minutes=4), "alertmanager", "DiskFull firing", EventKind.ALERT
        )
        engine.timeline.record(incident.id, T0 + timedelta(minutes=1), "bob", "node-3 is at 99%")
        engine.incidents.resolve(incident.id, "alice", T0 + timedelta(minutes=20))
        draft = build_postmortem(engine, incident.id)
    finally:
        engine.close()
    assert draft.started_at == draft.detected_at == T0 - timedelta(minutes=4)
    assert draft.time_to_detect_s == 0
    assert draft.mitigated_at == draft.resolved_at == T0 + timedelta(minutes=20)  # resolved without mitigate
    assert draft.time_to_resolve_s == 24 * 60
    assert draft.detection_gaps == []


def test_a_template_in_the_data_dir_replaces_the_default(tmp_path: Path, draft: Postmortem) -> None:
    (tmp_path / "postmortem.md.j2").write_text(
        "{{ pm.incident_id }} took {{ pm.time_to_resolve_s | duration }}\n"
    )
    assert render_markdown(draft, tmp_path) == "INC-1 took 30m 00s\n"


def test_a_broken_template_is_one_clear_error(tmp_path: Path, draft: Postmortem) -> None:
    (tmp_path / "postmortem.md.j2").write_text("line one\n{{ pm.no_such_field }}\n")
    with pytest.raises(
        TemplateProblem, match=r"postmortem\.md\.j2, line 2 cannot be rendered: .*no_such_field"
    ):
        render_markdown(draft, tmp_path)


def test_the_measured_customer_impact_window_and_its_duration_are_facts() -> None:
    engine = Engine.open("sqlite://")
    try:
        incident = engine.incidents.start("#inc", "Checkout 5xx", "alice", T0)
        engine.incidents.resolve(incident.id, "alice", T0 + timedelta(hours=1))
        unmeasured = gather(engine, incident.id)
        events = engine.timeline.events(incident.id, key_only=False)
    finally:
        engine.close()
    # `!incident set impact-start|impact-end TIME` sets these on the incident.
    window = {"impact_started_at": T0 + timedelta(minutes=5), "impact_ended_at": T0 + timedelta(minutes=42)}
    measured = unmeasured.incident.model_copy(update=window)
    facts = replace(unmeasured, incident=measured, times=times_of(measured, events))

    postmortem = assemble(facts, template_narrative(facts))

    assert (postmortem.impact_started_at, postmortem.impact_ended_at) == tuple(window.values())
    assert postmortem.impact_duration_s == 37 * 60
    assert json.loads(render_json(postmortem))["impact_duration_s"] == 2220
    assert (
        "| Customer impact | 2024-03-05 10:05:00 UTC to 2024-03-05 10:42:00 UTC (37m 00s) |"
        in render_markdown(postmortem)
    )
    plain = assemble(unmeasured, template_narrative(unmeasured))
    assert "| Customer impact | not measured |" in render_markdown(plain)
