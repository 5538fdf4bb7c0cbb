"""The LLM narrative over HTTP: the real ChatOpenAI (function calling) against the scripted OpenAI-compatible fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.llm import make_chat_model
from agent.postmortem import build_postmortem
from agent.postmortem.narrative import PROMPT_TOKEN_BUDGET
from agent.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_tokens
from tests.postmortem_fixtures import assert_secret_free, settings_in, synthetic_incident

TOOL = "PostmortemNarrative"


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="test-key") as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, llm: FakeOpenAI) -> Settings:
    return settings_in(tmp_path, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=llm.url, DEBRIEF_LLM_TIMEOUT=5)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = Engine.from_settings(settings)
    yield engine
    engine.close()


def narrative(**overrides: Any) -> Reply:
    arguments: dict[str, Any] = {
        "summary": {"text": "A deploy doubled the DB pool per pod.", "evidence": ["E1"]},
        "root_causes": [
            {"cause": "v3.2 doubled the per-pod pool.", "evidence": ["E4", "E77777"], "confidence": 0.7},
            {"cause": "An invented cause.", "evidence": ["E77777"], "confidence": 0.9},
        ],
        "detection_gaps": [{"text": "No alert on pool saturation.", "evidence": ["E2"]}],
        "suggested_actions": [
            {"title": "Alert at 80% of max_client_conn", "kind": "detect", "evidence": ["E2"]},
            {"title": "Something unsupported", "kind": "process", "evidence": ["runbooks/invented.md"]},
        ],
        **overrides,
    }
    return Reply.tool_call(TOOL, **arguments)


def test_thousand_messages_one_call_bounded_prompt_invalid_evidence_dropped(
    llm: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    incident_id = synthetic_incident(engine, 1000)
    llm.script(narrative())

    postmortem = build_postmortem(engine, incident_id, model=make_chat_model(settings))

    [request] = llm.chat_requests
    assert prompt_tokens(request) <= PROMPT_TOKEN_BUDGET
    assert [tool["function"]["name"] for tool in request["tools"]] == [TOOL]
    assert request["tool_choice"]["function"]["name"] == TOOL  # function calling, forced
    assert_secret_free(llm.requests_text())
    assert postmortem.generation.narrative == "llm"
    assert postmortem.generation.llm_calls == 1
    assert [(c.cause, c.evidence) for c in postmortem.root_causes] == [
        ("v3.2 doubled the per-pod pool.", ["E4"])
    ]
    assert [a.title for a in postmortem.suggested_actions] == ["Alert at 80% of max_client_conn"]
    assert postmortem.detection_gaps[0].evidence == ["E2"]


def test_ten_thousand_messages_still_fit_the_budget(
    llm: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    incident_id = synthetic_incident(engine, 10_000)
    llm.script(narrative())
    build_postmortem(engine, incident_id, model=make_chat_model(settings))
    [request] = llm.chat_requests
    assert prompt_tokens(request) <= PROMPT_TOKEN_BUDGET


def test_arguments_that_are_not_json_get_one_repair_call(
    llm: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    incident_id = synthetic_incident(engine, 50)
    llm.script(Reply.bad_arguments(TOOL), narrative())

    postmortem = build_postmortem(engine, incident_id, model=make_chat_model(settings))

    assert postmortem.generation.narrative == "llm"
    assert len(llm.chat_requests) == 2
    assert "could not be used" in json.dumps(llm.chat_requests[1]["messages"][-1])


def test_an_llm_outage_falls_back_to_the_template_within_three_calls(
    llm: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    incident_id = synthetic_incident(engine, 50)
    llm.script(Reply.error(500), Reply.error(500), Reply.error(500), Reply.error(500))

    postmortem = build_postmortem(engine, incident_id, model=make_chat_model(settings))

    assert postmortem.generation.narrative == "template"
    assert postmortem.generation.note is not None and "the LLM narrative failed" in postmortem.generation.note
    assert 1 <= len(llm.chat_requests) <= 3
    assert postmortem.time_to_resolve_s is not None  # the facts are all there
