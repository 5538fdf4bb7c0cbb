"""A runbook edited while the bot runs is what the next answer reads (DEBRIEF_KNOWLEDGE_REFRESH_SECONDS), through
the real bot: the warm-up ingests the knowledge dir, a later question checks it again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.settings import Settings
from tests.assistant_fixtures import bot_with_knowledge
from tests.knowledge_fixtures import write_files
from tests.plugin_fixtures import Chat, chat

__all__ = ["chat"]

ACK = "Looking into it…"
ANSWER_TIMEOUT = 60  # the first answer in a process loads the embedding model
REFRESH_SECONDS = 0.5
REDIS = {
    "runbooks/redis-evictions.md": (
        "# Redis evicting keys\n\n## Symptoms\n\nThe redis cache evicts keys: maxmemory is reached.\n\n"
        "## Mitigation\n\n1. Raise maxmemory with `CONFIG SET maxmemory 6gb`.\n"
    )
}
QUESTION = "@debrief redis is evicting keys, maxmemory reached"


@pytest.fixture(params=[REFRESH_SECONDS, 0], ids=["refresh", "only-at-start"])
def debrief_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return bot_with_knowledge(tmp_path, DEBRIEF_KNOWLEDGE_REFRESH_SECONDS=request.param)


def answer(chat: Chat, question: str) -> str:
    chat.say(question)
    assert chat.next_reply() == ACK
    return chat.next_reply(timeout=ANSWER_TIMEOUT)


def test_a_runbook_added_while_the_bot_runs_answers_the_next_question(
    chat: Chat, debrief_settings: Settings
) -> None:
    before = answer(chat, QUESTION)
    assert "no runbook or past incident in the knowledge base matches" in before

    write_files(debrief_settings.knowledge_dir, REDIS)
    time.sleep(REFRESH_SECONDS * 2)
    after = answer(chat, QUESTION)

    if debrief_settings.knowledge_refresh_seconds:
        assert "\n\nRedis evicting keys: Mitigation\n1. Raise maxmemory" in after
        assert "runbooks/redis-evictions.md" in after
    else:  # checked only at start: the running bot answers from what it had
        assert "no runbook or past incident in the knowledge base matches" in after


def test_a_runbook_broken_by_an_edit_keeps_its_stored_version(chat: Chat, debrief_settings: Settings) -> None:
    question = "@debrief node disk almost full, what now?"
    assert "Node disk almost full: Mitigation" in answer(chat, question)
    (debrief_settings.knowledge_dir / "runbooks" / "disk-full.md").write_bytes(b"\x00 not Markdown any more")
    time.sleep(REFRESH_SECONDS * 2)
    assert "Node disk almost full: Mitigation" in answer(chat, question)  # skipped by the ingest, not lost
