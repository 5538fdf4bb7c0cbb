"""The assistant with a scripted chat model: the real graph and tool runner, only the model is fake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.assistant import UNVERIFIED, Assistant, AssistantError
from agent.engine import Engine
from agent.incidents import UnknownIncident
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.settings import Settings
from tests.assistant_fixtures import (
    KNOWLEDGE,
    T0,
    engine,
    kb,
    knowledge_dir,
    make_settings,
    settings,
    start_incident,
)
from tests.fakes.chat_model import scripted, tool_call
from tests.knowledge_fixtures import write_files

__all__ = ["engine", "kb", "knowledge_dir", "settings"]

QUESTION = "pods keep restarting after the deploy, what do we do?"
MITIGATION = "[runbook:runbooks/crashloop.md#Mitigation]"


def test_tool_call_then_answer_is_an_llm_answer_citing_what_the_tool_returned(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    model = scripted(
        tool_call("search_runbooks", query="pods restarting after deploy"),
        AIMessage(
            f"Roll back the deploy {MITIGATION}. Hypothesis (confidence: medium): the deploy broke it."
        ),
    )

    answer = Assistant(settings, kb, engine, model=model).ask(QUESTION)

    assert answer.mode == "llm"
    assert answer.answer.startswith(f"Roll back the deploy {MITIGATION}.")
    assert answer.answer.endswith("Sources:\n- runbooks/crashloop.md: Mitigation")
    assert [(c.source, c.heading) for c in answer.citations] == [("runbooks/crashloop.md", "Mitigation")]
    tool_result = model.prompts[1][-1]
    assert isinstance(tool_result, ToolMessage) and MITIGATION in str(tool_result.content)


def test_invented_citation_is_removed_from_the_answer_and_never_listed(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    model = scripted(
        tool_call("search_runbooks", query="pods restarting"),
        AIMessage(
            f"Roll back {MITIGATION} as in [incident:INC-404] and [runbook:runbooks/made-up.md#Fix].\n"
            "Sources: [runbook:runbooks/made-up.md#Fix]"
        ),
    )

    answer = Assistant(settings, kb, engine, model=model).ask(QUESTION)

    assert "INC-404" not in answer.answer and "made-up" not in answer.answer
    assert answer.answer.startswith(f"Roll back {MITIGATION} as in and.")
    assert [c.source for c in answer.citations] == ["runbooks/crashloop.md"]


def test_answer_without_any_valid_citation_is_flagged_unverified(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    model = scripted(AIMessage("Probably DNS [runbook:runbooks/dns.md#Fix]."))

    answer = Assistant(settings, kb, engine, model=model).ask(QUESTION)

    assert answer.citations == []
    assert answer.answer == f"Probably DNS.\n\n{UNVERIFIED}"


def test_without_an_llm_the_answer_comes_from_retrieval_and_says_so(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)

    answer = Assistant(settings, kb, engine).ask(QUESTION, incident_id=incident_id)

    assert answer.mode == "retrieval"
    lead, steps, so_far, sources = answer.answer.split("\n\n")
    assert lead == "Retrieval-only answer (no LLM is configured): check these steps against what you see."
    assert steps == (  # the closest runbook's steps first, whole, commands as code
        "**Pods crash looping: Mitigation**\n"
        "1. Roll back the deploy with `kubectl rollout undo`.\n"
        "2. Check the container logs of the previous run with `kubectl logs --previous`."
    )
    assert so_far.startswith(
        f"**{incident_id} so far:** {incident_id} Checkout pods restarting: investigating"
    )
    assert so_far.endswith("- 10:04 UTC carol (note): rolling back now")
    assert sources.startswith("Sources:\n- runbooks/crashloop.md: Mitigation\n")  # then the others
    assert "- incidents/2023-11-02-crashloop.md: Checkout pods crash looping after a config change" in sources
    cited = {c.source for c in answer.citations}
    assert {"runbooks/crashloop.md", "incidents/2023-11-02-crashloop.md", incident_id} <= cited


@pytest.mark.parametrize("question", ["what should I do first?", "what now", "any ideas?"])
def test_a_question_that_names_nothing_is_answered_for_the_incident_it_is_asked_in(
    settings: Settings, kb: KnowledgeBase, engine: Engine, question: str
) -> None:
    incident_id = start_incident(engine)

    answer = Assistant(settings, kb, engine).ask(question, incident_id=incident_id)
    outside = Assistant(settings, kb, engine).ask(question)

    lead, steps = answer.answer.split("\n\n")[:2]
    assert lead == (
        "Retrieval-only answer (no LLM is configured): nothing in the knowledge base matches the question itself; "
        f"for {incident_id} (Checkout pods restarting), check these steps against what you see."
    )
    assert steps.startswith("**Pods crash looping: Mitigation**\n1. Roll back the deploy")
    assert outside.answer.startswith(
        "Retrieval-only answer (no LLM is configured): no runbook or past incident in the knowledge base matches"
    )


def test_model_failure_falls_back_to_a_labelled_retrieval_answer(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    model = scripted(RuntimeError("connection reset"))

    answer = Assistant(settings, kb, engine, model=model).ask(QUESTION)

    assert answer.mode == "retrieval"
    assert answer.answer.startswith("Retrieval-only answer (the LLM failed (RuntimeError))")
    assert "**Pods crash looping: Mitigation**\n1. Roll back the deploy" in answer.answer


def test_a_model_that_never_stops_calling_tools_hits_the_step_limit_and_falls_back(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    model = scripted(*(tool_call("search_runbooks", call_id=f"c{i}", query="pods") for i in range(50)))

    answer = Assistant(settings, kb, engine, model=model).ask(QUESTION)

    assert answer.mode == "retrieval"
    assert "tool rounds" in answer.answer.splitlines()[0]
    assert len(model.prompts) <= 6


def test_an_empty_reply_counts_as_a_failure(settings: Settings, kb: KnowledgeBase, engine: Engine) -> None:
    answer = Assistant(settings, kb, engine, model=scripted(AIMessage("  "))).ask(QUESTION)

    assert answer.mode == "retrieval"
    assert "the model's reply was empty" in answer.answer


def test_conversation_is_remembered_per_thread_with_earlier_citations_still_valid(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)
    model = scripted(
        tool_call("search_runbooks", query="pods restarting"),
        AIMessage(f"Roll back {MITIGATION}."),
        AIMessage(f"As I said, roll back {MITIGATION}."),
        AIMessage("Nothing known yet."),
    )
    assistant = Assistant(settings, kb, engine, model=model)

    assistant.ask(QUESTION, incident_id=incident_id)
    follow_up = assistant.ask("and then?", incident_id=incident_id)
    elsewhere = assistant.ask("anything else?", thread_id="room:#other")
    assistant.close()

    assert [c.heading for c in follow_up.citations] == ["Mitigation"]
    third_call = [m.content for m in model.prompts[2] if isinstance(m, HumanMessage)]
    assert len(third_call) == 2 and "and then?" in str(third_call[-1])
    fourth_call = [m.content for m in model.prompts[3] if isinstance(m, HumanMessage)]
    assert len(fourth_call) == 1
    assert elsewhere.mode == "llm"
    assert (settings.data_dir / "assistant.db").exists()


def test_long_threads_show_the_model_only_recent_turns(settings: Settings, kb: KnowledgeBase) -> None:
    model = scripted(*(AIMessage(f"answer {i}") for i in range(12)))
    assistant = Assistant(settings, kb, model=model)

    for i in range(12):
        assistant.ask(f"question {i} " + "details " * 1500, thread_id="room:#long")
    assistant.close()

    shown = [m for m in model.prompts[-1] if isinstance(m, HumanMessage)]
    assert 1 <= len(shown) < 6
    assert "question 11" in str(shown[-1].content)


def test_questions_reach_the_model_redacted(settings: Settings, kb: KnowledgeBase) -> None:
    model = scripted(AIMessage("Rotate it."))

    Assistant(settings, kb, model=model).ask("is AKIAIOSFODNN7EXAMPLE leaked? password=hunter2secret")

    seen = " ".join(str(m.content) for m in model.prompts[0])
    assert "AKIAIOSFODNN7EXAMPLE" not in seen and "hunter2secret" not in seen
    assert "[REDACTED:aws-access-key]" in seen


def test_catchup_without_an_llm_tells_the_story_with_sources(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)
    engine.timeline.record(incident_id, T0 + timedelta(minutes=3), "dave", "thanks, on it")

    answer = Assistant(settings, kb, engine).catchup(incident_id)

    assert answer.mode == "retrieval"
    assert answer.answer.startswith(f"Catch-up on {incident_id} (from the timeline; no LLM is configured)")
    assert "carol (note): rolling back now" in answer.answer
    assert "bob (message): checkout pods restarting since the 09:55 deploy" in answer.answer  # an error seen
    assert "thanks, on it" not in answer.answer  # small talk
    assert {c.source for c in answer.citations} == {incident_id}


def test_catchup_is_not_crowded_out_by_action_items(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)
    for n in range(20):
        engine.actions.add(
            incident_id,
            f"Add check {n} to the deploy pipeline",
            "bob",
            None,
            "carol",
            T0 + timedelta(minutes=5 + n),
        )
    model = scripted(AIMessage("Rolling back [event:3]."))

    retrieval = Assistant(settings, kb, engine).catchup(incident_id)
    Assistant(settings, kb, engine, model=model).catchup(incident_id)

    prompt = str(model.prompts[0][-1].content)
    for text in (retrieval.answer, prompt):
        assert "checkout pods restarting since the 09:55 deploy" in text and "rolling back now" in text
        assert "Add check 19" in text and "Add check 0 " not in text
        assert "(18 earlier action items not shown.)" in text


def test_catchup_with_an_llm_summarises_and_keeps_only_real_event_citations(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    incident_id = start_incident(engine)
    model = scripted(AIMessage("Rolling back [event:3], started by alice [event:1] [event:999]."))

    answer = Assistant(settings, kb, engine, model=model).catchup(incident_id)

    assert answer.mode == "llm"
    assert answer.answer.startswith("Rolling back [event:3], started by alice [event:1].")
    assert [c.heading for c in answer.citations] == ["timeline event 3", "timeline event 1"]
    prompt = str(model.prompts[0][-1].content)
    assert "rolling back now" in prompt and "checkout pods restarting since" in prompt


def test_unknown_incident_and_empty_question_are_clear_errors(
    settings: Settings, kb: KnowledgeBase, engine: Engine
) -> None:
    assistant = Assistant(settings, kb, engine)

    with pytest.raises(UnknownIncident, match="there is no incident INC-42"):
        assistant.ask(QUESTION, incident_id="INC-42")
    with pytest.raises(AssistantError, match="Ask a question"):
        assistant.ask("   ")


def test_past_incidents_alone_are_not_steps_to_check(tmp_path: Path) -> None:
    """No runbook matches, a past incident does: the answer says where to look, not "check these steps"."""
    knowledge = tmp_path / "knowledge"
    write_files(knowledge, {name: text for name, text in KNOWLEDGE.items() if name.startswith("incidents/")})
    settings = make_settings(tmp_path, knowledge)
    kb = open_knowledge_base(settings)
    kb.ingest(progress=False)

    answer = Assistant(settings, kb).ask("the orders database ran out of connections after a deploy")

    lead, nothing = answer.answer.split("\n\n")[:2]
    assert (
        lead == "Retrieval-only answer (no LLM is configured): the nearest past incidents are under Sources."
    )
    assert nothing.startswith("No runbook matches")
    assert [c.source for c in answer.citations] == ["INC-2"]
