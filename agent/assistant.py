"""The assistant: answers a responder's question from runbooks, past incidents and the timeline, with citations.

With an LLM it runs the tool-calling graph; without one, or when the LLM fails (no key, timeout, 5xx, a malformed
reply, too many steps), it answers from the same tools in retrieval mode, labelled as such, within seconds.
Questions and tool results are redacted before the model sees them and the answer before it is returned;
citations are checked against what the tools returned, so an invented source is never shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from agent.citations import Citation, CitationRegistry, strip_sources_tail
from agent.errors import DebriefError
from agent.llm import make_chat_model
from agent.markup import literal
from agent.prompts import CATCHUP_PROMPT, catchup_message, question_message
from agent.redact import Redactor
from agent.retrieval_answer import retrieval_answer
from agent.settings import Settings
from agent.tools import Toolbox, ToolDeps, make_tools

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agent.engine import Engine
    from agent.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

Mode = Literal["llm", "retrieval"]
CATCHUP_EVENTS = 30  # the story's lines the LLM summarises (`agent.salience`)
CATCHUP_KEY_EVENTS = 15  # the story's lines shown without an LLM
RUN_TIMEOUTS = 2  # a whole answer may take this many model timeouts (several model calls per answer)
REMEMBERED_THREADS = 512
UNVERIFIED = "No source was cited: treat this as unverified."


PRIVATE = "the incident is private: nothing of it goes to the LLM"


class AssistantError(DebriefError):
    """The question cannot be asked (empty, or the incident store is missing)."""


class Answer(BaseModel):
    """What `debrief ask --json` prints and the chat shows."""

    answer: str
    citations: list[Citation] = Field(default_factory=list)
    mode: Mode


@dataclass
class _Thread:
    """One conversation: its runs take turns, and its earlier tool results stay citable."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    registry: CitationRegistry = field(default_factory=CitationRegistry)


class Assistant:
    """Answers questions and catches people up; thread-safe, one per process."""

    def __init__(
        self,
        settings: Settings,
        knowledge: KnowledgeBase,
        engine: Engine | None = None,
        model: BaseChatModel | None = None,
    ) -> None:
        self._settings = settings
        self._knowledge = knowledge
        self._engine = engine
        self._model = model if model is not None else make_chat_model(settings)
        self._redact: Callable[[str], str] = Redactor()
        self._checkpointer: SqliteSaver | None = None
        self._threads: OrderedDict[str, _Thread] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def llm_enabled(self) -> bool:
        return self._model is not None

    def ask(self, question: str, incident_id: str | None = None, thread_id: str | None = None) -> Answer:
        """Answer `question`; `incident_id` is the conversation's incident, `thread_id` keys its memory.

        Without a thread id the conversation is remembered per incident, or not at all.
        """
        question = self._redact(question.strip())
        if not question:
            raise AssistantError(
                "Ask a question, e.g. @debrief pods keep restarting after the deploy, what now?"
            )
        incident_id = self._known_incident(incident_id)
        if self._model is None:
            return self._retrieval(question, incident_id, "no LLM is configured")
        if self._private(incident_id):
            return self._retrieval(question, incident_id, PRIVATE)
        thread_key = thread_id or incident_id
        thread = self._thread(thread_key) if thread_key else _Thread()
        with thread.lock:
            registry = thread.registry.copy()
            try:
                text = self._run(question, incident_id, thread_key, registry)
            except Exception as exc:  # any model failure: answer from retrieval instead of failing the user
                log.warning("The LLM gave no answer, using retrieval mode: %s", self._redact(repr(exc)))
                return self._retrieval(question, incident_id, _reason(exc))
            thread.registry.merge(registry)
        return self._finish(text, registry, "llm")

    def catchup(self, incident_id: str) -> Answer:
        """A short summary of the incident so far, for someone joining late."""
        known = self._known_incident(incident_id)
        if known is None:
            raise AssistantError("Catch-up needs an incident")
        incident_id = known
        registry = CitationRegistry()
        box = Toolbox(ToolDeps(self._knowledge, registry, self._engine, incident_id, redact=self._redact))
        private = self._private(incident_id)
        if self._model is not None and not private:
            try:
                timeline = box.read_timeline(incident_id, limit=CATCHUP_EVENTS, story=True)
                return self._finish(self._summarize(timeline), registry, "llm")
            except Exception as exc:
                log.warning("The LLM gave no catch-up, using the timeline: %s", self._redact(repr(exc)))
                reason = _reason(exc)
        else:
            reason = PRIVATE if private else "no LLM is configured"
        timeline = literal(box.read_timeline(incident_id, limit=CATCHUP_KEY_EVENTS, story=True))
        return self._finish(
            f"Catch-up on {incident_id} (from the timeline; {reason}):\n{timeline}", registry, "retrieval"
        )

    def warm_up(self) -> None:
        """Load what the first answer needs (the embedding model, the search indexes) before anyone asks."""
        self._knowledge.search("warm up", limit=1)

    def refresh_knowledge(self) -> None:
        """Take in knowledge dir edits made since the last check, if that was long enough ago
        (DEBRIEF_KNOWLEDGE_REFRESH_SECONDS; 0: only at start)."""
        if self._settings.knowledge_refresh_seconds > 0:
            self._knowledge.refresh(self._settings.knowledge_refresh_seconds)

    def close(self) -> None:
        with self._lock:
            saver, self._checkpointer = self._checkpointer, None
        if saver is not None:
            saver.conn.close()

    # -- pieces ----------------------------------------------------------------------------------
    def _run(
        self, question: str, incident_id: str | None, thread_key: str | None, registry: CitationRegistry
    ) -> str:
        from agent.graph import build_graph, run_graph  # LangChain's agent stack: LLM mode only (~12 MB)

        assert self._model is not None
        deps = ToolDeps(self._knowledge, registry, self._engine, incident_id, redact=self._redact)
        deadline = time.monotonic() + RUN_TIMEOUTS * self._settings.llm_timeout_s
        memory = self._memory() if thread_key else None
        graph = build_graph(self._model, make_tools(deps), memory, redactor=self._redact, deadline=deadline)
        return run_graph(graph, question_message(question, incident_id), thread_key)

    def _summarize(self, timeline: str) -> str:
        from langchain_core.messages import HumanMessage, SystemMessage

        from agent.graph import final_text

        assert self._model is not None
        reply = self._model.invoke(
            [SystemMessage(CATCHUP_PROMPT), HumanMessage(self._redact(catchup_message(timeline)))]
        )
        return final_text(reply)

    def _retrieval(self, question: str, incident_id: str | None, reason: str) -> Answer:
        """No model: the closest runbook's steps first, the other sources cited, this incident's state."""
        found = retrieval_answer(question, self._knowledge, self._engine, incident_id, reason)
        return self._answer(found.text, found.citations, "retrieval")

    def _finish(self, text: str, registry: CitationRegistry, mode: Mode) -> Answer:
        """Invented citations removed; in an LLM answer, the model's own list of sources too."""
        checked, cited, removed = registry.check(text)
        if removed:
            log.info("Removed %d citation(s) no tool returned", len(removed))
        body = (strip_sources_tail(checked) or checked) if mode == "llm" else checked
        return self._answer(body, cited, mode)

    def _answer(self, body: str, cited: list[Citation], mode: Mode) -> Answer:
        """The sources listed at the end (an LLM answer citing none flagged unverified), everything redacted."""
        citations = [Citation(source=self._redact(c.source), heading=self._redact(c.heading)) for c in cited]
        if citations:
            body += "\n\nSources:\n" + "\n".join(f"- {literal(line)}" for line in _source_lines(citations))
        elif mode == "llm":
            body += f"\n\n{UNVERIFIED}"
        return Answer(answer=self._redact(body), citations=citations, mode=mode)

    def _private(self, incident_id: str | None) -> bool:
        """A private incident's timeline never goes to the LLM: its questions are answered in retrieval mode."""
        return bool(
            incident_id and self._engine is not None and self._engine.incidents.get(incident_id).private
        )

    def _known_incident(self, incident_id: str | None) -> str | None:
        """The incident's canonical id (`inc-3` -> `INC-3`); `UnknownIncident` if there is none."""
        if not incident_id:
            return None
        if self._engine is None:
            raise AssistantError("Incidents are not available here")
        return self._engine.incidents.get(incident_id).id

    def _thread(self, key: str) -> _Thread:
        with self._lock:
            thread = self._threads.pop(key, None) or _Thread()
            self._threads[key] = thread
            while len(self._threads) > REMEMBERED_THREADS:
                self._threads.popitem(last=False)
            return thread

    def _memory(self) -> SqliteSaver:
        from agent.graph import open_checkpointer

        with self._lock:
            if self._checkpointer is None:
                self._checkpointer = open_checkpointer(self._settings.data_dir / "assistant.db")
            return self._checkpointer


def open_assistant(
    settings: Settings, engine: Engine | None = None, refresh_knowledge: bool = False
) -> Assistant:
    """The knowledge base and chat model from settings; `refresh_knowledge` ingests the knowledge dir first."""
    from agent.knowledge import open_knowledge_base

    knowledge = open_knowledge_base(settings)
    if refresh_knowledge and settings.knowledge_dir.is_dir():
        knowledge.ingest(progress=False)  # incremental: unchanged files are skipped
    return Assistant(settings, knowledge, engine)


def _source_lines(citations: list[Citation]) -> list[str]:
    """One line per source, its cited headings after it: `INC-3: status, timeline event 12`."""
    grouped: dict[str, list[str]] = {}
    for citation in citations:
        headings = grouped.setdefault(citation.source, [])
        if citation.heading and citation.heading not in headings:
            headings.append(citation.heading)
    return [
        f"{source}: {', '.join(headings)}" if headings else source for source, headings in grouped.items()
    ]


def _reason(exc: BaseException) -> str:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"APITimeoutError", "TimeoutError", "ReadTimeout"}:
        return "the LLM did not answer in time"
    if isinstance(exc, DebriefError):
        return str(exc)
    status: Any = getattr(exc, "status_code", None)
    return f"the LLM failed (HTTP {status})" if status else f"the LLM failed ({type(exc).__name__})"
