"""The assistant's answer without a model: the best runbook's concrete steps first, then the other sources cited.

A responder mid-incident reads the first screen: it holds the closest runbook section that says what to do (the
matching section when it has steps or commands, else the runbook's mitigation), its first steps whole with their
code blocks, and where to read on. Other runbooks and similar past incidents are cited, not excerpted; the
conversation's incident adds its state and latest events. A question that matches nothing ("what should I do
first?") asked about an incident is answered for the incident: its title, services, cause and impact are
searched instead, and the answer says so. Every source shown or cited is in the citations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

from agent.citations import Citation
from agent.errors import DebriefError
from agent.excerpt import has_steps, lead
from agent.markup import literal
from agent.models import Incident, SearchHit
from agent.past_incidents import incident_citation, incident_id_in, incident_query, repeat_warning, still_open
from agent.tools import (
    STEPS_HEADING,
    describe_incident,
    find_document,
    nothing_matches,
    recent_events,
    section_text,
)

if TYPE_CHECKING:
    from agent.engine import Engine
    from agent.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

RUNBOOKS = 3
INCIDENTS = 2
EVENTS = 5
LEAD_CHARS = 1200
LEAD_STEPS = 3
# A close call, and the answer names the runner-up beside the steps: the second runbook's score at least CLOSE_CALL
# of the first's (the two searches disagree), and its meaning no further than MEANING_GAP in dense similarity (else
# the tie is BM25's noise: the starter knowledge's redis runbook for "checkout 500s after deploy", 0.33 against
# 0.61). Both chosen on the tuning split (BENCHMARKS.md, "Close calls").
CLOSE_CALL = 0.9
MEANING_GAP = 0.15


@dataclass
class RetrievalAnswer:
    """The answer's Markdown and what it relies on, the lead section first."""

    parts: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


def retrieval_answer(
    question: str, knowledge: KnowledgeBase, engine: Engine | None, incident_id: str | None, reason: str
) -> RetrievalAnswer:
    """Answer `question` from the knowledge base (and the incident), saying why no model answered."""
    runbooks, past = _find(knowledge, question, incident_id)
    incident = engine.incidents.get(incident_id) if incident_id and engine is not None else None
    about_incident = ""
    if not runbooks and not past and incident is not None:
        about = incident_query(incident)
        runbooks, past = _find(knowledge, about, incident_id)
        if runbooks or past:
            question = about
            about_incident = (
                f"nothing in the knowledge base matches the question itself; for {incident.id} "
                f"({literal(incident.title)}), "
            )
    # Steps to check when a runbook leads; with past incidents alone there are none to check.
    advice = about_incident + (
        "check these steps against what you see."
        if runbooks
        else "the nearest past incidents are under Sources."
    )
    if not runbooks and not past:
        lead = f"Retrieval-only answer ({reason}): no runbook or past incident in the knowledge base matches this question."
        answer = RetrievalAnswer([lead, literal(nothing_matches(knowledge, question, "runbook"))])
        answer.parts.append(literal(nothing_matches(knowledge, question, "incident")))
    else:
        answer = RetrievalAnswer([f"Retrieval-only answer ({reason}): {advice}"])
    if runbooks:
        _lead_runbook(answer, knowledge, runbooks[0])
        if len(runbooks) > 1 and close_call(runbooks[0], runbooks[1]):
            answer.parts.append(
                f"Almost as close: **{literal(runbooks[1].title)}**. If these steps do not fit, start there."
            )
        answer.citations += [Citation(source=hit.source, heading=hit.heading) for hit in runbooks[1:]]
    elif past:
        answer.parts.append(literal(nothing_matches(knowledge, question, "runbook")))
    for hit in past[:INCIDENTS]:
        past_id = _id(hit)
        answer.citations.append(incident_citation(hit.title, hit.source))
        warning = repeat_warning(past_id, still_open(engine, past_id)) if past_id else None
        if warning:
            answer.parts.append(f"**Repeat risk:** {literal(warning)}")
    if incident is not None and engine is not None:
        _incident_so_far(answer, engine, incident)
    return answer


def close_call(first: SearchHit, second: SearchHit) -> bool:
    """Whether `second` is almost as likely the runbook asked for as `first`."""
    return second.score >= CLOSE_CALL * first.score and first.similarity - second.similarity <= MEANING_GAP


def _find(
    knowledge: KnowledgeBase, query: str, incident_id: str | None
) -> tuple[list[SearchHit], list[SearchHit]]:
    """The runbooks and the past incidents (never the incident asked about) that match `query`."""
    runbooks = _search(knowledge, query, "runbook", RUNBOOKS)
    past = [hit for hit in _search(knowledge, query, "incident", INCIDENTS + 1) if _id(hit) != incident_id]
    return runbooks, past


def _id(hit: SearchHit) -> str | None:
    return incident_id_in(hit.title, hit.source)


def _lead_runbook(answer: RetrievalAnswer, knowledge: KnowledgeBase, hit: SearchHit) -> None:
    heading, text = _steps_section(knowledge, hit)
    excerpt = lead(text, LEAD_CHARS, LEAD_STEPS)
    title = f"{hit.title}: {heading}" if heading else hit.title
    answer.parts += [f"**{literal(title)}**\n{excerpt.text}"]
    if excerpt.left:
        more = f"{excerpt.left} more step{'s' if excerpt.left > 1 else ''}" if excerpt.steps else "More"
        answer.parts.append(f"_{more} in the runbook._")
    answer.citations.append(Citation(source=hit.source, heading=heading))


def _steps_section(knowledge: KnowledgeBase, hit: SearchHit) -> tuple[str, str]:
    """The matching section when it has steps or commands, else the runbook's mitigation (or the like)."""
    doc = find_document(knowledge, hit.source)
    matched = section_text(doc, hit.heading)
    if matched and has_steps(matched):
        return hit.heading, matched
    steps = next((s for s in (doc.sections if doc else []) if STEPS_HEADING.search(s[1])), None)
    if steps is not None:
        return steps[1], steps[2]
    return hit.heading, matched or hit.snippet


def _incident_so_far(answer: RetrievalAnswer, engine: Engine, incident: Incident) -> None:
    lines = [f"**{incident.id} so far:** {literal(describe_incident(incident))}"]
    answer.citations.append(Citation(source=incident.id, heading="status"))
    for event in recent_events(engine, incident.id, EVENTS):
        text = literal(" ".join(event.text.split()))
        at = event.at.astimezone(UTC).strftime("%H:%M UTC")
        lines.append(f"- {at} {literal(event.author)} ({event.kind.value}): {text}")
        answer.citations.append(Citation(source=incident.id, heading=f"timeline event {event.id}"))
    answer.parts.append("\n".join(lines))


def _search(knowledge: KnowledgeBase, question: str, kind: str, limit: int) -> list[SearchHit]:
    """A failing search leaves its part of the answer out, never the whole answer."""
    try:
        return knowledge.search(question, kind=kind, limit=limit)
    except DebriefError as exc:
        log.warning("Retrieval answer: the %s search failed: %s", kind, exc)
    except Exception:
        log.warning("Retrieval answer: the %s search failed", kind, exc_info=True)
    return []
