"""`debrief ask QUESTION [--incident ID]`: one question to the assistant from the command line."""

from __future__ import annotations

from agent.assistant import Answer, Assistant
from agent.engine import Engine
from agent.settings import Settings


def ask(settings: Settings, question: str, incident_id: str | None = None) -> Answer:
    """The assistant's answer; about an incident (and remembered in its thread) when `incident_id` is given.

    The knowledge dir is ingested first (incrementally: unchanged files cost nothing), as the bot does on
    start, so a fresh install answers from it. JSON: `answer.model_dump()`.
    """
    from agent.knowledge import open_knowledge_base

    knowledge = open_knowledge_base(settings)
    if settings.knowledge_dir.is_dir():
        knowledge.ingest(progress=False)
    engine = Engine.from_settings(settings)
    assistant = Assistant(settings, knowledge, engine)
    try:
        return assistant.ask(question, incident_id=incident_id)
    finally:
        assistant.close()
        engine.close()
