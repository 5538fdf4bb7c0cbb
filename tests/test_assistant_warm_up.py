"""No cold start: the bot ingests the knowledge dir and loads the embedder and indexes when it starts, before
anyone asks; with DEBRIEF_WARM_UP=false it waits for the first question."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.knowledge import open_knowledge_base
from agent.settings import Settings
from tests.plugin_fixtures import Chat, bot_settings, chat

__all__ = ["chat"]

RUNBOOK = "# Redis evicting keys\n\n## Mitigation\n\nRaise maxmemory or flush the session cache.\n"
READY = "The assistant is ready"


@pytest.fixture(params=[True, False], ids=["warm-up", "no-warm-up"])
def debrief_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    (tmp_path / "knowledge" / "runbooks").mkdir(parents=True)
    (tmp_path / "knowledge" / "runbooks" / "redis.md").write_text(RUNBOOK, encoding="utf-8")
    return bot_settings(tmp_path, DEBRIEF_WARM_UP=request.param, OPENAI_API_KEY="")


def bot_log(chat: Chat) -> str:
    return (chat.settings.data_dir.parent / "errbot.log").read_text(encoding="utf-8", errors="replace")


def wait_for(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


def test_the_knowledge_is_loaded_before_the_first_question_unless_turned_off(chat: Chat) -> None:
    if chat.settings.warm_up:
        assert wait_for(lambda: READY in bot_log(chat), timeout_s=120), "no warm-up in the bot's log"
        knowledge = open_knowledge_base(chat.settings)
        assert knowledge.count() > 0  # ingested with nobody asking
    else:
        assert not wait_for(lambda: READY in bot_log(chat), timeout_s=2)
        assert not (chat.settings.data_dir / "chroma").exists()

    assert chat.ask("!ask redis is evicting keys, what now?") == "Looking into it…"
    answer = chat.next_reply(timeout=120)
    assert "runbooks/redis.md" in answer
