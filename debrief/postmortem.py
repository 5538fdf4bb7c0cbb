"""`debrief postmortem (--incident ID | TRANSCRIPT.json) [--format markdown|json]`: the draft, printed.

A transcript is first replayed through the real bot (`debrief.replay`), so its incident is in the data dir. The
draft is built and printed, not stored: reviewing, approving and publishing happen in chat (`!postmortem ...`).
The LLM narrative is used when an LLM is configured; the JSON form is the Postmortem model.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from agent.engine import Engine
from agent.errors import DebriefError
from agent.llm import make_chat_model
from agent.postmortem import build_postmortem, render_json, render_markdown
from agent.settings import Settings

if TYPE_CHECKING:
    from agent.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

Format = Literal["markdown", "json"]


def postmortem(
    settings: Settings,
    incident_id: str | None = None,
    transcript: dict[str, object] | None = None,
    fmt: Format = "markdown",
) -> str:
    """The draft postmortem of `incident_id`, or of the incident the replayed `transcript` started."""
    if (incident_id is None) == (transcript is None):
        raise DebriefError("give either --incident ID or a transcript file, not both and not neither")
    if fmt not in ("markdown", "json"):
        raise DebriefError(f"unknown format {fmt!r}; use markdown or json")
    if transcript is not None:
        incident_id = _replayed_incident(settings, transcript)
    assert incident_id is not None
    engine = Engine.from_settings(settings)
    try:
        draft = build_postmortem(engine, incident_id, _knowledge(settings), make_chat_model(settings))
    finally:
        engine.close()
    if fmt == "json":
        return render_json(draft)
    return render_markdown(draft, settings.data_dir / "templates")


def _replayed_incident(settings: Settings, transcript: dict[str, object]) -> str:
    from debrief.replay import replay

    result = replay(settings, transcript)
    if result.incident_id is None:
        raise DebriefError("the transcript never starts an incident (no `!incident start TITLE` message)")
    return result.incident_id


def _knowledge(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base for related documents; the draft is still useful without it."""
    from agent.knowledge import open_knowledge_base

    try:
        return open_knowledge_base(settings)
    except DebriefError as exc:
        log.warning("no related documents: the knowledge base cannot be opened: %s", exc)
        return None
