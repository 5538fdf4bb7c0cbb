"""The assistant's tools: typed functions whose docstrings are their contract with the LLM.

They read runbooks, past incidents and the current incident; the only write is one timeline note. Nothing here
files tickets, publishes or changes an incident's status: those need a human command. Every result is redacted,
bounded (top-k, truncated sections, a character budget) and each source in it carries a citation tag recorded
in the run's `CitationRegistry`. A failing tool returns a sentence the model can act on, never an exception.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent.citations import Citation, CitationRegistry
from agent.errors import DebriefError
from agent.models import (
    OPEN_ACTION_STATUSES,
    ActionItem,
    ActionStatus,
    EventKind,
    Incident,
    SearchHit,
    TimelineEvent,
)
from agent.past_incidents import incident_citation, incident_id_in, repeat_warning
from agent.redact import redact
from agent.salience import story as tell

if TYPE_CHECKING:
    from agent.engine import Engine
    from agent.knowledge import KnowledgeBase
    from agent.knowledge.search import CatalogDocument

log = logging.getLogger(__name__)

TOP_K = 3
MAX_TOOL_CHARS = 3500  # about 900 tokens per tool result, whatever the corpus or the timeline holds
SECTION_CHARS = 600
EVENT_CHARS = 240
NOTE_CHARS = 500
DEFAULT_EVENTS = 20
MAX_EVENTS = 50
MAX_ACTIONS = 5
STORY_WINDOW = 2000  # the latest chat lines a retelling looks through (key events are all read)
NOTE_AUTHOR = "debrief"
QUERY_CHARS = 120  # of a query, repeated in an empty search's answer
NOTHING_MATCHES = {"runbook": "No runbook matches", "incident": "No similar past incident was found"}
# Told to the model after an empty search (not to people): responders type symptoms in their own words ("kubectl
# just hangs"), runbooks are written around component and alert names, so one restated search often finds it.
SEARCH_AGAIN = (
    "If the question can be put in the words a runbook or postmortem would use (the component, alert or error "
    "name and the symptom), search once more that way; otherwise say plainly that nothing matches."
)
STEPS_HEADING = re.compile(
    r"mitigat|remediat|resolution|resolve|fix|steps|procedure|recover|workaround", re.I
)
_ACTIONS_HEADING = re.compile(r"action|follow[- ]?up|remediation items", re.I)
_OPEN = {
    ActionStatus.NEEDS_REVISION: "open",
    ActionStatus.PENDING: "open",
    ActionStatus.FILED: "open (filed)",
}
_CLOSED = {ActionStatus.DONE: "done", ActionStatus.DROPPED: "dropped"}


@dataclass
class ToolDeps:
    """What one assistant run's tools read and write; `incident_id` is the conversation's incident."""

    knowledge: KnowledgeBase
    registry: CitationRegistry
    engine: Engine | None = None
    incident_id: str | None = None
    redact: Callable[[str], str] = redact
    notes_allowed: int = 1
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    notes_written: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """One cited piece of a tool result: a tag line and its text."""

    kind: str
    ref: str
    citation: Citation
    title: str
    text: str = ""


class QueryArgs(BaseModel):
    query: str = Field(description="The symptoms, error or alert in plain words.")


class TimelineArgs(BaseModel):
    incident_id: str | None = Field(None, description="An incident id like INC-3; omit for the current one.")
    limit: int = Field(DEFAULT_EVENTS, description=f"How many recent events, at most {MAX_EVENTS}.")


class NoteArgs(BaseModel):
    text: str = Field(description="The note, one or two sentences.")


def _reported(function: Callable[..., str]) -> Callable[..., str]:
    """Errors become text the model can act on; the result is redacted and bounded."""

    @functools.wraps(function)
    def wrapper(self: Toolbox, *args: object, **kwargs: object) -> str:
        try:
            text = function(self, *args, **kwargs)
        except DebriefError as exc:
            text = f"{function.__name__} failed: {exc}"
        except Exception as exc:
            log.warning("Tool %s failed", function.__name__, exc_info=True)
            text = (
                f"{function.__name__} failed ({type(exc).__name__}); try another tool or answer without it."
            )
        return self.deps.redact(_clip(text, MAX_TOOL_CHARS))

    return wrapper


class Toolbox:
    """The tool functions over one run's `ToolDeps`; `make_tools` offers them to the model.

    Keyword arguments beyond a tool's schema (`top_k`, `key_only`) are for retrieval mode, not the model.
    """

    def __init__(self, deps: ToolDeps) -> None:
        self.deps = deps
        self._note_lock = threading.Lock()  # the model may call the note tool several times in parallel

    @_reported
    def search_runbooks(self, query: str, top_k: int = TOP_K) -> str:
        """Search the team's runbooks for what to do about symptoms, an error or an alert.

        Returns up to 3 runbooks, each with its best-matching section and its mitigation steps. Every section
        starts with a citation tag like [runbook:runbooks/db.md#Mitigation]: cite the tags you rely on exactly.
        """
        hits = self.deps.knowledge.search(query, kind="runbook", limit=top_k)
        blocks = [block for hit in hits for block in self._runbook_blocks(hit)]
        return self._render(
            blocks, empty=f"{nothing_matches(self.deps.knowledge, query, 'runbook')} {SEARCH_AGAIN}"
        )

    @_reported
    def find_similar_incidents(self, query: str, top_k: int = TOP_K) -> str:
        """Find past incidents (postmortems) similar to the symptoms, with their action items and status.

        Returns up to 3 incidents, each tagged like [incident:INC-7], with the matching section and whether
        its action items are open or done. Use it to say what worked before and what is still unfixed.
        """
        own = self.deps.incident_id
        hits = self.deps.knowledge.search(query, kind="incident", limit=top_k + 1)
        hits = [hit for hit in hits if not own or incident_id_in(hit.title, hit.source) != own][:top_k]
        blocks = [self._incident_block(hit) for hit in hits]
        return self._render(
            blocks, empty=f"{nothing_matches(self.deps.knowledge, query, 'incident')} {SEARCH_AGAIN}"
        )

    @_reported
    def read_timeline(
        self,
        incident_id: str | None = None,
        limit: int = DEFAULT_EVENTS,
        key_only: bool = False,
        story: bool = False,
    ) -> str:
        """Read this conversation's incident: its status (severity, commander, impact, cause) and latest events.

        It reads only the current incident (incident_id may be left out). Events are tagged like [event:12]; the
        status line is tagged with the incident id. limit is the number of recent events (at most 50).
        """
        engine, incident = self._incident(incident_id)
        limit = max(1, min(int(limit), MAX_EVENTS))
        more = ""
        if story:
            events, actions_left_out = story_events(engine, incident.id, limit)
            more = f" ({actions_left_out} earlier action items not shown.)" if actions_left_out else ""
            shown = f"{len(events)} events that tell the story (key events and informative chat lines)"
        elif key_only:
            events = engine.timeline.events(incident.id, key_only=True, limit=limit)
            shown = f"latest {len(events)} key events"
        else:
            events = recent_events(engine, incident.id, limit)
            shown = f"latest {len(events)} events"
        total = engine.timeline.count(incident.id)
        blocks = [self._status_block(incident), *(self._event_block(event) for event in events)]
        header = f"{incident.id} timeline: {shown} of {total} in all (* = key event).{more}"
        return (
            header + "\n" + self._render(blocks, empty="", budget=MAX_TOOL_CHARS - len(header), latest=True)
        )

    @_reported
    def add_timeline_note(self, text: str) -> str:
        """Add a short note to the current incident's timeline, for a finding worth keeping.

        This is the only change you can make, at most once per question. You cannot file tickets, change the
        incident's status or publish anything: suggest the command (!action add, !incident mitigated) instead.
        """
        engine, incident = self._incident(None)
        note = _clip(self.deps.redact(" ".join(text.split())), NOTE_CHARS)
        if not note:
            return "Not added: the note is empty."
        with self._note_lock:
            if len(self.deps.notes_written) >= self.deps.notes_allowed:
                return "Not added: only one note per question. Mention the rest in your answer instead."
            event = engine.timeline.record(
                incident.id, self.deps.clock(), NOTE_AUTHOR, note, kind=EventKind.NOTE, key=True
            )
            if event is None:
                return "Not added: that note is already on the timeline."
            self.deps.notes_written.append(event.id)
        tag = self._tag(
            "event", str(event.id), Citation(source=incident.id, heading=f"timeline event {event.id}")
        )
        return f"Noted on the {incident.id} timeline {tag}."

    # -- pieces --------------------------------------------------------------------------------------
    def _runbook_blocks(self, hit: SearchHit) -> list[Block]:
        doc = find_document(self.deps.knowledge, hit.source)
        best = section_text(doc, hit.heading) or hit.snippet
        blocks = [_section_block(hit.source, hit.title, hit.heading, best)]
        steps = next((s for s in (doc.sections if doc else []) if STEPS_HEADING.search(s[1])), None)
        if steps is not None and steps[1] != hit.heading:
            blocks.append(_section_block(hit.source, hit.title, steps[1], steps[2]))
        return blocks

    def _incident_block(self, hit: SearchHit) -> Block:
        incident_id = incident_id_in(hit.title, hit.source)
        doc = find_document(self.deps.knowledge, hit.source)
        text = _clip(_compact(section_text(doc, hit.heading) or hit.snippet), SECTION_CHARS)
        actions = self._action_items(incident_id, doc)
        citation = incident_citation(hit.title, hit.source)
        title = f"{hit.title} - {hit.heading}" if hit.heading else hit.title
        return Block(
            "incident", incident_id or hit.source, citation, title, "\n".join(filter(None, [text, actions]))
        )

    def _action_items(self, incident_id: str | None, doc: CatalogDocument | None) -> str:
        items = self._engine_actions(incident_id)
        if items and incident_id:
            shown = [_describe_action(item) for item in items[:MAX_ACTIONS]]
            more = f"; and {len(items) - MAX_ACTIONS} more" if len(items) > MAX_ACTIONS else ""
            listed = "Action items: " + "; ".join(shown) + more
            warning = repeat_warning(incident_id, [i for i in items if i.status in OPEN_ACTION_STATUSES])
            return f"Repeat risk: {warning}\n{listed}" if warning else listed
        section = next((s for s in (doc.sections if doc else []) if _ACTIONS_HEADING.search(s[1])), None)
        if section is None:
            return ""
        return "Action items (as the postmortem lists them):\n  " + _clip(_compact(section[2]), SECTION_CHARS)

    def _engine_actions(self, incident_id: str | None) -> list[ActionItem]:
        if self.deps.engine is None or incident_id is None:
            return []
        try:
            return self.deps.engine.actions.list(incident_id)
        except DebriefError:  # a past incident from another Debrief, or from before this database
            return []

    def _incident(self, incident_id: str | None) -> tuple[Engine, Incident]:
        """The conversation's incident, and only that one: another room's timeline is not this room's to read."""
        engine = self.deps.engine
        if engine is None:
            raise DebriefError("the incident timeline is not available here")
        own = self.deps.incident_id
        if not own:
            raise DebriefError(
                "no incident is open in this conversation; past incidents come from find_similar_incidents"
            )
        wanted = (incident_id or "").strip().upper() or own
        if wanted != own.upper():
            raise DebriefError(
                f"only this conversation's incident ({own}) can be read; past incidents come from "
                "find_similar_incidents"
            )
        return engine, engine.incidents.get(own)

    def _status_block(self, incident: Incident) -> Block:
        citation = Citation(source=incident.id, heading="status")
        return Block("incident", incident.id, citation, describe_incident(incident))

    def _event_block(self, event: TimelineEvent) -> Block:
        citation = Citation(source=event.incident_id, heading=f"timeline event {event.id}")
        star = "*" if event.key else ""
        line = f"{star}{_clock(event.at)} {event.author} ({event.kind.value}): {_clip(_flat(event.text), EVENT_CHARS)}"
        return Block("event", str(event.id), citation, line)

    def _render(
        self, blocks: list[Block], empty: str, budget: int = MAX_TOOL_CHARS, latest: bool = False
    ) -> str:
        """As many blocks as fit in `budget`, the first ones (or with `latest`, the first and the last ones).

        Only the tags actually shown are registered, so the model cannot cite what it never saw.
        """
        sizes = [
            len(block.kind) + len(block.ref) + len(block.title) + len(block.text) + 8 for block in blocks
        ]
        order = [0, *range(len(blocks) - 1, 0, -1)] if latest else list(range(len(blocks)))
        chosen: set[int] = set()
        used = 0
        for index in order:
            if used + sizes[index] > budget and chosen:
                break
            chosen.add(index)
            used += sizes[index]
        lines = [self._line(block) for index, block in enumerate(blocks) if index in chosen]
        if len(chosen) < len(blocks):
            where = "earlier ones" if latest else "more"
            lines.insert(
                1 if latest else len(lines),
                f"({len(blocks) - len(chosen)} {where} left out to keep this short)",
            )
        return "\n".join(lines) if lines else empty

    def _line(self, block: Block) -> str:
        body = f"{block.title}\n  {block.text}" if block.text else block.title
        return f"{self._tag(block.kind, block.ref, block.citation)} {body}"

    def _tag(self, kind: str, ref: str, citation: Citation) -> str:
        return self.deps.registry.cite(kind, ref, citation)


def make_tools(deps: ToolDeps) -> list[BaseTool]:
    """The tools offered to the model, in one list. Cheap: explicit schemas, nothing inferred per call."""
    box = Toolbox(deps)
    offered: list[tuple[Callable[..., str], type[BaseModel]]] = [
        (box.search_runbooks, QueryArgs),
        (box.find_similar_incidents, QueryArgs),
        (box.read_timeline, TimelineArgs),
        (box.add_timeline_note, NoteArgs),
    ]
    return [
        StructuredTool(
            name=function.__name__,
            description=_contract(function),
            args_schema=schema,
            func=function,
        )
        for function, schema in offered
    ]


def recent_events(engine: Engine, incident_id: str, limit: int) -> list[TimelineEvent]:
    """The latest key events and the latest chatter, merged in time order, at most `limit` of them."""
    key_events = engine.timeline.events(incident_id, key_only=True, limit=limit)
    chatter = engine.timeline.events(incident_id, key_only=False, limit=max(1, limit // 2))
    merged = {event.id: event for event in [*key_events, *chatter]}
    ordered = sorted(merged.values(), key=lambda event: (event.at, event.id))
    return ordered[-limit:]


def story_events(engine: Engine, incident_id: str, limit: int) -> tuple[list[TimelineEvent], int]:
    """The events that tell the incident's story (`agent.salience.story`), at most `limit`, and how many action-item
    creations were left out."""
    key_events = engine.timeline.events(incident_id, key_only=True)
    chatter = engine.timeline.events(incident_id, key_only=False, limit=STORY_WINDOW)
    merged = {event.id: event for event in [*key_events, *chatter]}
    told = tell(sorted(merged.values(), key=lambda event: (event.at, event.id)), limit=limit)
    return [line.event for line in told.lines], told.actions_left_out


def describe_incident(incident: Incident) -> str:
    """One line with everything known about the incident's state."""
    parts = [f"{incident.id} {incident.title}: {incident.status.value}"]
    parts += [f"severity {incident.severity.value}"] if incident.severity else ["severity not set"]
    parts += [incident.services_label] if incident.services else []
    parts.append(f"commander {incident.commander}" if incident.commander else "no commander yet")
    parts.append(f"started {_clock(incident.started_at)}")
    parts += [f"mitigated {_clock(incident.mitigated_at)}"] if incident.mitigated_at else []
    parts += [f"resolved {_clock(incident.resolved_at)}"] if incident.resolved_at else []
    parts.append(f"impact: {incident.impact}" if incident.impact else "impact not recorded")
    parts.append(f"cause: {incident.cause}" if incident.cause else "cause not recorded")
    return "; ".join(parts)


def _contract(function: Callable[..., str]) -> str:
    return " ".join((function.__doc__ or "").split())


def nothing_matches(knowledge: KnowledgeBase, query: str, kind: str) -> str:
    """What an empty search says: what was searched, and that nothing in it is about the question."""
    searched = knowledge.document_count(kind)
    what = "runbook" if kind == "runbook" else "past incident"
    return (
        f"{NOTHING_MATCHES[kind]} (searched {searched} {what}{'' if searched == 1 else 's'} for "
        f'"{_clip(" ".join(query.split()), QUERY_CHARS)}"; none was relevant enough to show).'
    )


def find_document(knowledge: KnowledgeBase, source: str) -> CatalogDocument | None:
    return next((doc for doc in knowledge.catalog().documents.values() if doc.source == source), None)


def section_text(doc: CatalogDocument | None, heading: str) -> str:
    if doc is None:
        return ""
    return next((text for _, section, text in doc.sections if section == heading), "")


def _section_block(source: str, title: str, heading: str, text: str) -> Block:
    ref = f"{source}#{heading}" if heading else source
    shown = f"{title} - {heading}" if heading else title
    return Block(
        "runbook", ref, Citation(source=source, heading=heading), shown, _clip(_compact(text), SECTION_CHARS)
    )


def _describe_action(item: ActionItem) -> str:
    status = _CLOSED.get(item.status) or _OPEN[item.status]
    owner = f", owner {item.owner}" if item.owner else ""
    return f"{item.ref} {item.title} ({status}{owner})"


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _compact(text: str) -> str:
    """Section text with its line structure (steps, commands) but no blank lines, indented under its tag."""
    return "\n  ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _flat(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at whitespace: a cut never leaves half a secret the redactor misses."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(" ", 0, limit), text.rfind("\n", 0, limit))
    return (text[:cut].rstrip() if cut > 0 else "") + "…"
