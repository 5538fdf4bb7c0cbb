"""The assistant's tools over a real knowledge base and a real SQLite engine: cited, bounded, read-only but one note."""

from __future__ import annotations

from datetime import timedelta

from agent.citations import CitationRegistry
from agent.engine import Engine
from agent.knowledge import KnowledgeBase
from agent.models import ActionStatus, EventKind, Severity
from agent.timeline import NewEvent
from agent.tools import MAX_EVENTS, MAX_TOOL_CHARS, NOTE_AUTHOR, Toolbox, ToolDeps, make_tools
from tests.assistant_fixtures import T0, engine, kb, knowledge_dir, settings, start_incident

__all__ = ["engine", "kb", "knowledge_dir", "settings"]


def toolbox(kb: KnowledgeBase, engine: Engine | None = None, incident_id: str | None = None) -> Toolbox:
    return Toolbox(ToolDeps(kb, CitationRegistry(), engine, incident_id))


def test_only_read_tools_and_one_note_tool_are_offered(kb: KnowledgeBase) -> None:
    tools = make_tools(ToolDeps(kb, CitationRegistry()))

    assert [tool.name for tool in tools] == [
        "search_runbooks",
        "find_similar_incidents",
        "read_timeline",
        "add_timeline_note",
    ]
    assert all(tool.description for tool in tools)


def test_runbook_search_returns_the_mitigation_steps_with_registered_citation_tags(kb: KnowledgeBase) -> None:
    box = toolbox(kb)

    result = box.search_runbooks("pods keep restarting after the deploy")

    assert result.startswith("[runbook:runbooks/crashloop.md#")
    assert "[runbook:runbooks/crashloop.md#Mitigation]" in result
    assert "kubectl rollout undo" in result
    citation = box.deps.registry.get("[runbook:runbooks/crashloop.md#Mitigation]")
    assert citation is not None and (citation.source, citation.heading) == (
        "runbooks/crashloop.md",
        "Mitigation",
    )


def test_similar_incident_shows_whether_its_action_items_are_open_or_done(
    kb: KnowledgeBase, engine: Engine
) -> None:
    engine.incidents.start("#inc-old", "Orders database outage", "alice", T0)  # INC-1
    past = engine.incidents.start("#inc-orders", "Orders database outage", "alice", T0)  # INC-2
    done = engine.actions.add(past.id, "Cap the pool size per pod", "bob", None, "alice", T0)
    engine.actions.add(past.id, "Alert on pool saturation", None, None, "alice", T0)
    engine.actions.set_status(done.id, ActionStatus.DONE, "bob")
    box = toolbox(kb, engine)

    result = box.find_similar_incidents("database ran out of connections")

    assert result.startswith("[incident:INC-2]")
    assert f"A{done.id} Cap the pool size per pod (done, owner bob)" in result
    assert "Alert on pool saturation (open)" in result


def test_past_incident_without_a_debrief_id_cites_its_file_and_quotes_its_action_items(
    kb: KnowledgeBase,
) -> None:
    result = toolbox(kb).find_similar_incidents("checkout pods crash looping after a config change")

    assert "[incident:incidents/2023-11-02-crashloop.md]" in result
    assert "Alert on restart rate | Open" in result


def test_timeline_read_is_bounded_however_long_the_incident(kb: KnowledgeBase, engine: Engine) -> None:
    incident_id = start_incident(engine)
    noisy = [
        NewEvent(
            incident_id, T0 + timedelta(seconds=i), "bot", f"log line {i} " + "x" * 2000, key=i % 10 == 0
        )
        for i in range(3000)
    ]
    engine.timeline.record_many(noisy)
    box = toolbox(kb, engine, incident_id)

    result = box.read_timeline(limit=10_000)

    assert len(result) <= MAX_TOOL_CHARS
    assert result.count("[event:") <= MAX_EVENTS
    assert "log line 2999" in result  # the latest events are the ones shown
    assert "earlier ones left out to keep this short" in result


def test_timeline_of_the_current_incident_starts_with_its_status(kb: KnowledgeBase, engine: Engine) -> None:
    incident_id = start_incident(engine)
    engine.incidents.set_severity(incident_id, Severity.SEV2, "checkout down", "alice", T0)

    result = toolbox(kb, engine, incident_id).read_timeline()

    assert (
        f"[incident:{incident_id}] {incident_id} Checkout pods restarting: investigating; severity SEV2"
        in result
    )
    assert "bob (message): checkout pods restarting since the 09:55 deploy" in result


def test_the_incidents_status_names_every_service(kb: KnowledgeBase, engine: Engine) -> None:
    incident_id = start_incident(engine)
    engine.incidents.add_service(incident_id, "checkout-api", "alice", T0)
    engine.incidents.add_service(incident_id, "payments", "alice", T0)

    result = toolbox(kb, engine, incident_id).read_timeline()

    assert (
        "Checkout pods restarting: investigating; severity not set; services checkout-api, payments;"
        in result
    )


def test_tool_errors_come_back_as_text_the_model_can_act_on(kb: KnowledgeBase, engine: Engine) -> None:
    assert toolbox(kb, engine).read_timeline("INC-99").startswith("read_timeline failed: no incident is open")
    assert "no incident is open" in toolbox(kb, engine).read_timeline()
    assert "not available here" in toolbox(kb).add_timeline_note("x")


def test_note_tool_adds_at_most_one_redacted_note_per_question(kb: KnowledgeBase, engine: Engine) -> None:
    incident_id = start_incident(engine)
    box = toolbox(kb, engine, incident_id)

    first = box.add_timeline_note("Runbook says roll back; db password=hunter2secret was in the logs")
    second = box.add_timeline_note("another note")

    assert first.startswith(f"Noted on the {incident_id} timeline [event:")
    assert second.startswith("Not added: only one note per question")
    notes = [e for e in engine.timeline.events(incident_id, key_only=False) if e.author == NOTE_AUTHOR]
    assert len(notes) == 1
    assert notes[0].kind is EventKind.NOTE and notes[0].key
    assert "hunter2secret" not in notes[0].text


def test_secrets_said_in_the_incident_room_are_redacted_in_tool_output(
    kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    engine.timeline.record(incident_id, T0 + timedelta(minutes=5), "bob", f"try with GITHUB_TOKEN={token}")

    result = toolbox(kb, engine, incident_id).read_timeline()

    assert token not in result
    assert "[REDACTED:github-token]" in result
