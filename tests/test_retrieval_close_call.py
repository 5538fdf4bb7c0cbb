"""A close call between two runbooks is said: the answer leads with the first one's steps and names the runner-up,
so the responder checks both (the real embedder and BM25, a real Chroma store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.assistant import Assistant
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.models import SearchHit
from agent.retrieval_answer import close_call
from agent.settings import Settings
from tests.assistant_fixtures import make_settings
from tests.knowledge_fixtures import write_files

STARTER = Path(__file__).resolve().parents[1] / "knowledge"
RUNBOOKS = {
    "runbooks/memory-limits.md": (
        "# Container memory limits\n\n## Symptoms\n\nkubectl shows OOMKilled, exit code 137, for the container.\n\n"
        "## Mitigation\n\n1. Raise the memory limit in the Deployment.\n"
    ),
    "runbooks/memory-leak.md": (
        "# Pods running out of memory\n\n## Symptoms\n\nThe kernel kills processes in pods that use more memory "
        "than they may.\n\n## Mitigation\n\n1. Find the leak with a heap profile.\n"
    ),
    "runbooks/disk.md": "# Node disk almost full\n\n## Mitigation\n\n1. Prune images.\n",
}
# The words point at the limits runbook (137, exit code), the meaning at the leak one (the kernel kills): the two
# searches disagree.
TORN = "checkout killed by the kernel, exit code 137"
CLEAR = "heap keeps growing until the pod dies"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("close-call")
    write_files(root / "knowledge", RUNBOOKS)
    return make_settings(root, root / "knowledge")


@pytest.fixture(scope="module")
def kb(settings: Settings) -> KnowledgeBase:
    base = open_knowledge_base(settings)
    base.ingest(progress=False)
    return base


def best_two(kb: KnowledgeBase, question: str) -> list[SearchHit]:
    """The two best runbooks, whatever their relevance."""
    return kb.search(question, kind="runbook", limit=2, min_relevance=0.0)


def test_two_runbooks_almost_as_close_are_both_named(settings: Settings, kb: KnowledgeBase) -> None:
    assert close_call(*best_two(kb, TORN))  # the precondition

    answer = Assistant(settings, kb).ask(TORN)

    parts = answer.answer.split("\n\n")
    lead_title = parts[1].splitlines()[0]
    assert lead_title in (
        "**Pods running out of memory: Mitigation**",
        "**Container memory limits: Mitigation**",
    )
    runner_up = "Container memory limits" if "running out" in lead_title else "Pods running out of memory"
    assert parts[2] == f"Almost as close: **{runner_up}**. If these steps do not fit, start there."
    assert {"runbooks/memory-limits.md", "runbooks/memory-leak.md"} <= {c.source for c in answer.citations}


def test_a_clear_first_runbook_is_not_hedged(settings: Settings, kb: KnowledgeBase) -> None:
    assert not close_call(*best_two(kb, CLEAR))

    answer = Assistant(settings, kb).ask(CLEAR)

    assert answer.answer.split("\n\n")[1].startswith("**Pods running out of memory: Mitigation**")
    assert "Almost as close" not in answer.answer


def test_a_tie_in_words_only_is_not_a_close_call(tmp_path: Path) -> None:
    """The starter knowledge and the first question a new user asks: BM25 ties the redis runbook (it links to the
    checkout one) with the checkout runbook, the meaning does not (similarity 0.33 against 0.61)."""
    shutil.copytree(STARTER, tmp_path / "knowledge")
    settings = make_settings(tmp_path, tmp_path / "knowledge")
    kb = open_knowledge_base(settings)
    kb.ingest(progress=False)
    first, second = best_two(kb, "checkout 500s after deploy, what now?")
    assert first.source == "runbooks/checkout-api-5xx-after-deploy.md"
    assert second.score >= 0.9 * first.score  # close in score...
    assert not close_call(first, second)  # ...but not in meaning

    assert (
        "Almost as close" not in Assistant(settings, kb).ask("checkout 500s after deploy, what now?").answer
    )
