"""The LLM narrative with a scripted model: evidence checked, prompt bounded and redacted, failures fall back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage

from agent.engine import Engine
from agent.postmortem import build_postmortem
from agent.postmortem.compact import estimate_tokens
from agent.postmortem.facts import Facts, gather
from agent.postmortem.model import Reference
from agent.postmortem.narrative import (
    PROMPT_TOKEN_BUDGET,
    PostmortemNarrative,
    schema_tokens,
    verify,
    write_narrative,
)
from tests.fakes.chat_model import ScriptedChatModel
from tests.postmortem_fixtures import assert_secret_free, narrative_call, synthetic_incident

RUNBOOK = "runbooks/orders-db-connection-pool-exhaustion.md"


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine.open("sqlite://")
    yield engine
    engine.close()


@pytest.fixture
def facts(engine: Engine) -> Facts:
    incident_id = synthetic_incident(engine, 40)
    found = gather(engine, incident_id)
    runbook = Reference(source=RUNBOOK, kind="runbook", title="Orders DB connection pool exhaustion")
    return dataclasses.replace(found, runbooks=[runbook])


def good_reply(**overrides: object) -> AIMessage:
    arguments: dict[str, object] = {
        "summary": {
            "text": "A deploy doubled the DB pool per pod; orders failed for 50 minutes.",
            "evidence": ["E1"],
        },
        "root_causes": [
            {
                "cause": "The v3.2 deploy doubled the per-pod pool.",
                "evidence": ["E3", RUNBOOK],
                "confidence": 0.8,
            }
        ],
        "went_well": [{"text": "The rollback was quick.", "evidence": ["E2"]}],
        **overrides,
    }
    return narrative_call(**arguments)


def test_claims_keep_only_evidence_that_exists(facts: Facts) -> None:
    model = ScriptedChatModel(
        replies=[
            good_reply(
                contributing_factors=[
                    {
                        "text": "Pool sizes are not checked in CI.",
                        "evidence": ["E2", "E999999", "runbooks/nope.md"],
                    },
                    {"text": "A fabricated claim.", "evidence": ["E999999", "incidents/never.md"]},
                    {"text": "A claim citing nothing.", "evidence": []},
                ]
            )
        ]
    )
    narrative = write_narrative(model, facts)

    assert narrative.generation.narrative == "llm"
    assert [(f.text, f.evidence, f.verified) for f in narrative.contributing_factors] == [
        ("Pool sizes are not checked in CI.", ["E2"], True),
        ("A claim citing nothing.", [], False),
    ]
    [cause] = narrative.root_causes
    assert (cause.evidence, cause.confidence) == (["E3", RUNBOOK], 0.8)


def test_evidence_ids_are_read_in_the_forms_models_write_them(facts: Facts) -> None:
    draft = PostmortemNarrative.model_validate(
        {"summary": {"text": "x happened", "evidence": ["e1", "[E2]", "3", "#4", RUNBOOK.upper()]}}
    )
    assert verify(draft, facts).summary.evidence == ["E1", "E2", "E3", "E4", RUNBOOK]


def test_a_summary_with_only_invalid_evidence_is_replaced_by_the_template_summary(facts: Facts) -> None:
    model = ScriptedChatModel(replies=[good_reply(summary={"text": "Invented.", "evidence": ["E424242"]})])
    summary = write_narrative(model, facts).summary
    assert summary.text.startswith(f"{facts.incident.id} (orders-api): Orders API timeouts.")


def test_confidence_given_as_a_percentage_is_read_as_a_fraction_and_causes_are_ranked(facts: Facts) -> None:
    causes = [
        {"cause": "Retry storm from the clients.", "evidence": ["E5"], "confidence": 30},
        {"cause": "The pool was doubled.", "evidence": ["E3"], "confidence": 0.9},
    ]
    narrative = write_narrative(ScriptedChatModel(replies=[good_reply(root_causes=causes)]), facts)
    assert [(c.cause, c.confidence) for c in narrative.root_causes] == [
        ("The pool was doubled.", 0.9),
        ("Retry storm from the clients.", 0.3),
    ]


def test_text_from_the_model_is_redacted(facts: Facts) -> None:
    leak = {"text": "Someone used ghp_abcdefghijklmnopqrstuvwxyz0123456789 to check.", "evidence": ["E1"]}
    narrative = write_narrative(ScriptedChatModel(replies=[good_reply(went_poorly=[leak])]), facts)
    assert narrative.went_poorly[0].text == "Someone used [REDACTED:github-token] to check."


def test_an_unparseable_reply_gets_one_repair_attempt(facts: Facts) -> None:
    model = ScriptedChatModel(replies=[AIMessage(content="Here is your postmortem!"), good_reply()])
    narrative = write_narrative(model, facts)
    assert narrative.generation.narrative == "llm"
    assert narrative.generation.llm_calls == 2
    assert "could not be used (no tool call in the reply)" in str(model.prompts[1][-1].content)


def test_two_unusable_replies_fall_back_to_the_template(facts: Facts) -> None:
    model = ScriptedChatModel(
        replies=[narrative_call(summary="not an object"), AIMessage(content="still no")]
    )
    narrative = write_narrative(model, facts)
    assert narrative.generation.narrative == "template"
    assert narrative.generation.llm_calls == 2
    assert narrative.generation.note is not None and narrative.generation.note.startswith(
        "the LLM narrative failed"
    )


def test_a_model_error_falls_back_to_the_template_at_once(facts: Facts) -> None:
    model = ScriptedChatModel(replies=[TimeoutError("the LLM timed out")])
    narrative = write_narrative(model, facts)
    assert narrative.generation.narrative == "template"
    assert narrative.generation.llm_calls == 1
    assert narrative.generation.note == "the LLM narrative failed (the LLM timed out)"


def test_thousand_message_incident_takes_one_call_and_a_bounded_redacted_prompt(engine: Engine) -> None:
    incident_id = synthetic_incident(engine, 1000)
    model = ScriptedChatModel(replies=[good_reply()])

    postmortem = build_postmortem(engine, incident_id, model=model)

    assert len(model.prompts) == 1
    prompt = model.prompt_text()
    assert estimate_tokens(prompt) + schema_tokens() <= PROMPT_TOKEN_BUDGET
    assert postmortem.generation.llm_calls == 1
    assert postmortem.generation.prompt_tokens <= PROMPT_TOKEN_BUDGET
    assert_secret_free(prompt)
    assert "[REDACTED:" in prompt  # sampled lines with secrets reach it redacted
    for event in postmortem.timeline:  # key events and the story's chat lines are all in the prompt
        assert f"{event.ref} {event.at:%H:%M:%S}" in prompt
    assert "messages not shown ...]" in prompt
    assert [tool.__name__ for tool in model.tools] == ["PostmortemNarrative"]


def test_small_incident_prompt_shows_every_message(engine: Engine) -> None:
    incident_id = synthetic_incident(engine, 40)
    model = ScriptedChatModel(replies=[good_reply()])
    build_postmortem(engine, incident_id, model=model)
    prompt = model.prompt_text()
    assert "not shown" not in prompt
    assert (
        prompt.count("(pod orders-api-") == 35
    )  # every distinct message; the alert bot's repeats fold into one
    assert "ALERT firing: HighErrorRate orders-api (said 4 times)" in prompt
