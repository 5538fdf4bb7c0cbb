"""An incident is seen in its own room, by admins anywhere and by the operator's CLI; a private one never reaches
the LLM or the knowledge base.

Through the real bot (Errbot's test backend) with the LLM as a local fake OpenAI server that records requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.citations import CitationRegistry
from agent.knowledge import open_knowledge_base
from agent.settings import Settings
from agent.tools import Toolbox, ToolDeps
from debrief.cli.actions import list_actions
from tests.assistant_fixtures import bot_with_knowledge
from tests.fakes.openai_server import FakeOpenAI, auto_agent
from tests.plugin_fixtures import ADMIN, T0, Chat, chat

__all__ = ["chat"]

ELSEWHERE = "#random"
NOT_VISIBLE = "INC-1 is not visible here: ask in its own room, or ask an admin"
ANSWER_TIMEOUT = 60


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=auto_agent) as server:
        yield server


@pytest.fixture
def debrief_settings(tmp_path: Path, fake_llm: FakeOpenAI) -> Settings:
    return bot_with_knowledge(
        tmp_path,
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=fake_llm.url,
        DEBRIEF_LLM_TIMEOUT=10,
    )


def start(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout pods restarting", at=T0).startswith("INC-1 started")
    chat.say("checkout pods restarting since the 09:55 deploy", frm="bob", at=T0 + timedelta(minutes=2))
    chat.ask("!action add Add a canary stage to checkout deploys @bob due:2024-03-15")


@pytest.mark.parametrize(
    "command", ["!timeline INC-1", "!timeline --all INC-1", "!actions INC-1", "!incident catchup INC-1"]
)
def test_another_room_does_not_see_an_incident(chat: Chat, command: str) -> None:
    start(chat)

    assert chat.ask(command, frm="mallory", room=ELSEWHERE) == NOT_VISIBLE


def test_another_room_does_not_see_or_draft_its_postmortem(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident resolve", at=T0 + timedelta(minutes=30))
    chat.ask("!postmortem")
    chat.next_reply(timeout=ANSWER_TIMEOUT)

    assert chat.ask("!postmortem show INC-1", frm="mallory", room=ELSEWHERE) == NOT_VISIBLE
    assert chat.ask("!postmortem INC-1", frm="mallory", room=ELSEWHERE) == NOT_VISIBLE


def test_its_own_room_an_admin_anywhere_and_the_cli_see_it(chat: Chat) -> None:
    start(chat)

    assert "bob  [message]  checkout pods restarting" in chat.ask("!timeline --all INC-1", frm="bob")
    assert "bob  [message]  checkout pods restarting" in chat.ask(
        "!timeline --all INC-1", frm=ADMIN, room=ELSEWHERE
    )
    listed = list_actions(chat.settings, "INC-1")["actions"]
    assert [item["title"] for item in listed] == ["Add a canary stage to checkout deploys"]


def test_the_assistant_reads_only_the_asking_rooms_incident(chat: Chat) -> None:
    start(chat)
    chat.ask("!incident start Search slow", room="#inc-search", at=T0)
    engine = chat.engine()
    try:
        knowledge = open_knowledge_base(chat.settings)
        box = Toolbox(ToolDeps(knowledge, CitationRegistry(), engine, incident_id="INC-2"))

        refused = box.read_timeline("INC-1")
        own = box.read_timeline()
    finally:
        engine.close()

    assert refused.startswith("read_timeline failed: only this conversation's incident (INC-2) can be read")
    assert "checkout pods restarting" not in refused
    assert own.startswith("INC-2 timeline")


def test_a_private_incident_is_answered_without_the_llm(chat: Chat, fake_llm: FakeOpenAI) -> None:
    start(chat)

    assert chat.ask("!incident private").startswith("INC-1 is private: its timeline never goes to the LLM")
    chat.say("@debrief pods keep restarting after the deploy, what do we do?")
    chat.next_reply()  # the acknowledgement
    answer = chat.next_reply(timeout=ANSWER_TIMEOUT)
    chat.ask("!incident catchup")
    catchup = chat.next_reply(timeout=ANSWER_TIMEOUT)

    assert answer.startswith("Retrieval-only answer (the incident is private: nothing of it goes to the LLM)")
    assert catchup.startswith("Catch-up on INC-1 (from the timeline; the incident is private")
    assert fake_llm.chat_requests == []


def test_a_private_incidents_postmortem_is_drafted_without_the_llm_and_kept_out_of_the_knowledge_base(
    chat: Chat, fake_llm: FakeOpenAI
) -> None:
    start(chat)
    chat.ask("!incident private")
    chat.ask("!incident impact 5% of checkouts failed")  # publishing needs the impact and a cause
    chat.ask("!incident cause the 09:55 deploy")
    chat.ask("!incident resolve rolled back", at=T0 + timedelta(minutes=30))
    chat.ask("!postmortem")
    draft = chat.next_reply(timeout=ANSWER_TIMEOUT)
    chat.ask("!postmortem approve")
    chat.ask("!postmortem publish", frm=ADMIN)
    published = chat.next_reply(timeout=ANSWER_TIMEOUT)

    assert "the incident is private: its timeline never goes to an LLM" in draft
    assert fake_llm.chat_requests == []
    assert "kept out of the knowledge base" in published and "search finds it" not in published
    assert not list((chat.settings.knowledge_dir / "incidents").glob("*inc-1*"))
    assert list((chat.settings.data_dir / "postmortems" / "published").glob("*inc-1*"))
    hits = open_knowledge_base(chat.settings).search("checkout pods restarting", kind="incident")
    assert not [hit for hit in hits if "inc-1" in hit.source]


def test_only_the_commander_or_an_admin_marks_an_incident_private(chat: Chat) -> None:
    start(chat)

    assert (
        chat.ask("!incident private", frm="mallory") == "only whoever started it or an admin can change INC-1"
    )
    engine = chat.engine()
    try:
        assert engine.incidents.get("INC-1").private is False
    finally:
        engine.close()
