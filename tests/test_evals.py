"""bench/evals.py: the eval set is valid against the starter knowledge, answers are scored on their citations, and
the whole run works through the real `ChatOpenAI` against a scripted OpenAI-compatible endpoint."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agent.assistant import Answer
from agent.citations import Citation
from bench.evals import EvalQuestion, eval_settings, load_evals, main, run_evals, score
from tests.fakes.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parent.parent
EVALS = load_evals(ROOT / "bench" / "evals.yaml")
KNOWLEDGE = ROOT / "knowledge"
TOOLS = ("search_runbooks", "find_similar_incidents", "read_timeline")
_TAG = re.compile(r"\[(?:runbook|incident|event):[^\]]+\]")


def test_every_source_an_eval_wants_is_in_the_starter_knowledge() -> None:
    incident_ids = {
        match[1]
        for path in (KNOWLEDGE / "incidents").glob("*.md")
        if (match := re.search(r"^id: (INC-\d+)$", path.read_text(encoding="utf-8"), re.M))
    }
    for item in EVALS:
        for source in item.must_cite + item.may_cite:
            if source == "INC-1":
                assert item.timeline, f"{item.question!r} cites the asked-about incident but has no timeline"
            elif source.startswith("INC-"):
                assert source in incident_ids, source
            else:
                assert (KNOWLEDGE / source).is_file(), source


def test_an_answer_is_scored_on_what_it_must_and_may_cite() -> None:
    item = EvalQuestion(question="q", must_cite=["runbooks/a.md", "INC-7"], may_cite=["runbooks/b.md"])
    cited = [Citation(source=s, heading="") for s in ("runbooks/a.md", "runbooks/b.md", "runbooks/zzz.md")]

    scored = score(item, Answer(answer="...", citations=cited, mode="llm"), 1.5)

    assert (scored.missing, scored.recall) == (["INC-7"], 0.5)
    assert scored.precision == pytest.approx(2 / 3)
    nothing = score(item, Answer(answer="no idea", mode="llm"), 0.1)
    assert (nothing.recall, nothing.precision) == (0.0, 0.0)


def reads_then_cites_the_first_of_each(body: dict[str, Any]) -> Reply:
    """A model that calls every search tool once with the question, then cites the first source each returned."""
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    results = [m for m in messages[last_user + 1 :] if m["role"] == "tool"]
    if not results:
        question = str(messages[last_user]["content"])
        offered = {tool["function"]["name"] for tool in body.get("tools", [])}
        calls = [(name, {"query": question}) for name in TOOLS[:2]]
        calls += [("read_timeline", {})] if "read_timeline" in offered and "incident" in question else []
        return Reply.tool_calls_of(*calls)
    firsts = [tags[0] for m in results if (tags := _TAG.findall(str(m["content"])))]
    return Reply.text("Likely cause and next step, from the sources: " + " ".join(firsts))


def test_the_eval_set_through_the_real_client_and_the_local_knowledge(tmp_path: Path) -> None:
    with FakeOpenAI(responder=reads_then_cites_the_first_of_each) as server:
        env = {
            "DEBRIEF_EVAL_API_KEY": "sk-eval",
            "DEBRIEF_EVAL_BASE_URL": server.url,
            "DEBRIEF_EVAL_MODEL": "m",
        }
        summary = run_evals(eval_settings(tmp_path / "data", KNOWLEDGE, retrieval=False, env=env), EVALS)

    assert {result.mode for result in summary.results} == {"llm"}
    assert server.chat_requests and all(r["model"] == "m" for r in server.chat_requests)
    misses = {r.question: (r.missing, r.cited) for r in summary.results if r.missing}
    assert misses == {}  # the first runbook and the first past incident found are the ones a responder needs
    assert summary.questions == len(EVALS) and summary.fully_cited == 1.0
    assert 0 < summary.latency_p50_s <= summary.latency_p95_s


def test_without_an_endpoint_it_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DEBRIEF_EVAL_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="set DEBRIEF_EVAL_API_KEY"):
        main(["--set", str(ROOT / "bench" / "evals.yaml")])
