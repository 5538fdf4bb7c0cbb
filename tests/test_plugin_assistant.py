"""The assistant in chat through the real bot: mention -> acknowledgement -> answer in the message's thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from errbot.backends.base import Message

from agent.settings import Settings
from debrief.bot.replay import replay
from tests.assistant_fixtures import bot_with_knowledge
from tests.fakes.openai_server import FakeOpenAI, Reply, auto_agent
from tests.plugin_fixtures import T0, Chat, chat

__all__ = ["chat"]

ACK = "Looking into it…"
ANSWER_TIMEOUT = 60  # the first answer in a process loads the embedding model


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=auto_agent) as server:
        yield server


@pytest.fixture
def debrief_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """A tiny knowledge dir; an LLM (the local fake) only for tests that ask for `fake_llm`."""
    llm: dict[str, object] = {}
    if "fake_llm" in request.fixturenames:
        server: FakeOpenAI = request.getfixturevalue("fake_llm")
        llm = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.url, "DEBRIEF_LLM_TIMEOUT": 10}
    return bot_with_knowledge(tmp_path, **llm)


@pytest.fixture
def sent(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> list[Message]:
    """Every message the bot sends, with its thread parent (the test backend's queue keeps only the text)."""
    bot = chat.testbot.bot
    recorded: list[Message] = []
    original = bot.send_message

    def record(msg: Message) -> None:
        recorded.append(msg)
        original(msg)

    monkeypatch.setattr(bot, "send_message", record)
    return recorded


def start(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout pods restarting", at=T0).startswith("INC-1 started")
    chat.say("checkout pods restarting since the 09:55 deploy", frm="bob", at=T0 + timedelta(minutes=2))


def test_mention_gets_an_ack_then_a_retrieval_answer_in_the_message_thread(
    chat: Chat, sent: list[Message]
) -> None:
    start(chat)
    question = "hey @debrief pods keep restarting after the deploy, what do we do?"

    chat.say(question, frm="carol", at=T0 + timedelta(minutes=3))

    assert chat.next_reply() == ACK
    answer = chat.next_reply(timeout=ANSWER_TIMEOUT)
    assert answer.startswith("Retrieval-only answer (no LLM is configured)")
    assert (
        "\n\nPods crash looping: Mitigation\n1. Roll back the deploy with `kubectl rollout undo`." in answer
    )
    assert "bob (message): checkout pods restarting since the 09:55 deploy" in answer
    replies = [m for m in sent if m.parent is not None]
    assert [m.parent.body for m in replies] == [question, question]
    assert str(replies[-1].to) == "#inc-checkout"


def test_mention_as_first_word_and_the_ask_command_are_answered(chat: Chat) -> None:
    chat.say("@debrief node disk almost full, what now?")
    assert chat.next_reply() == ACK
    assert "\n\nNode disk almost full: Mitigation\n" in chat.next_reply(timeout=ANSWER_TIMEOUT)

    assert chat.ask("!ask too many clients on the database") == ACK
    assert "\n\nDatabase connection pool exhausted: Mitigation\n" in chat.next_reply(timeout=ANSWER_TIMEOUT)


def test_messages_that_do_not_mention_debrief_get_no_answer(chat: Chat) -> None:
    chat.say("@bob can you check the pods?")
    chat.say("mail ops@debrief.example.com about it")
    chat.assert_silent()
    assert chat.ask("!ask").startswith("Ask a question")


def test_answer_from_the_llm_over_http_leads_with_the_likely_cause_and_cites_its_sources(
    chat: Chat, fake_llm: FakeOpenAI
) -> None:
    start(chat)

    chat.say("@debrief pods keep restarting after the deploy, what do we do?")

    assert chat.next_reply() == ACK
    answer = chat.next_reply(timeout=ANSWER_TIMEOUT)
    lines = answer.splitlines()
    assert lines[0].startswith("Likely cause (confidence: medium): the last deploy. [runbook:")
    assert lines[1].startswith("Next step: follow the runbook steps. [runbook:")
    assert "Sources:" in answer and "runbooks/crashloop.md" in answer
    system, question = fake_llm.chat_requests[0]["messages"][:2]
    assert 'First line: "Likely cause (confidence: low|medium|high): ..."' in system["content"]
    assert 'second line: "Next step: ..."' in system["content"]
    assert "Current incident: INC-1" in question["content"]


def test_other_commands_are_answered_while_the_assistant_waits_for_the_llm(
    chat: Chat, fake_llm: FakeOpenAI
) -> None:
    start(chat)
    fake_llm.script(Reply.text("Roll back the deploy.", delay_s=2))

    chat.say("@debrief what should we try first?")
    assert chat.next_reply() == ACK
    status = chat.ask("!incident status")

    assert status.startswith("INC-1 Checkout pods restarting: investigating")
    assert chat.next_reply(timeout=ANSWER_TIMEOUT).startswith("Roll back the deploy.")


def test_catchup_summarises_the_incident_in_a_thread(chat: Chat, sent: list[Message]) -> None:
    start(chat)
    chat.ask("!note rolled back checkout to v41", at=T0 + timedelta(minutes=5))

    assert chat.ask("!incident catchup") == "Catching up on INC-1…"
    summary = chat.next_reply(timeout=ANSWER_TIMEOUT)

    assert summary.startswith("Catch-up on INC-1 (from the timeline; no LLM is configured)")
    assert "rolled back checkout to v41" in summary
    assert sent[-1].parent is not None and sent[-1].parent.body == "!incident catchup"


def test_catchup_without_an_incident_says_how_to_start_one(chat: Chat) -> None:
    assert chat.ask("!incident catchup").startswith("This room has no incident yet")
    assert chat.ask("!incident catchup now please") == "Use !incident catchup [INC-n]"


def test_replay_attributes_the_answer_to_the_mention_that_asked(debrief_settings: Settings) -> None:
    transcript: dict[str, object] = {
        "room": "#inc-checkout",
        "messages": [
            {"at": "2024-03-01T10:02:00Z", "from": "alice", "text": "!incident start Pods restarting"},
            {
                "at": "2024-03-01T10:03:00Z",
                "from": "bob",
                "text": "@debrief pods restarting after the deploy?",
            },
            {"at": "2024-03-01T10:04:00Z", "from": "alice", "text": "!incident status"},
        ],
    }

    replies = [(reply.to, reply.text) for reply in replay(debrief_settings, transcript).replies]

    asked = "@debrief pods restarting after the deploy?"
    assert [to for to, _ in replies] == ["!incident start Pods restarting", asked, asked, "!incident status"]
    assert replies[1][1] == ACK
    assert "\n\nPods crash looping: Mitigation\n1. Roll back the deploy" in replies[2][1]
