"""The deterministic part of a postmortem: times, durations, people, key events, actions, related knowledge.

Times come from the timeline's own timestamps (the source's time, never the time we processed it): started is the
incident start (or an earlier event, e.g. an alert that fired before anyone opened the incident), detected the
first alert or message, mitigated and resolved the status events; the customer-impact window is what people
measured and set. The document's timeline is the story (`agent.salience`): key events and the informative chat
lines. Everything a document shows is redacted here; `messages` stay raw because most of them are never shown:
whoever uses one redacts it first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from agent.engine import Engine
from agent.errors import DebriefError
from agent.models import ActionItem, EventKind, Incident, SearchHit, TimelineEvent
from agent.past_incidents import incident_id_in, incident_query, repeat_warning, still_open
from agent.postmortem.model import KeyEvent, Reference, event_ref
from agent.redact import redact
from agent.salience import StoryLine, story

log = logging.getLogger(__name__)

DETECTION_KINDS = frozenset({EventKind.ALERT, EventKind.MESSAGE, EventKind.NOTE})
SIMILAR_INCIDENTS = 3
RUNBOOKS = 3
STORY_MESSAGES = 30  # informative chat lines the document's timeline shows at most, besides the key events
STORY_MESSAGE_CHARS = 300


class Knowledge(Protocol):
    """What the postmortem needs from the knowledge base (`agent.knowledge.KnowledgeBase` is one)."""

    def search(self, query: str, kind: str | None = None, limit: int = 5) -> list[SearchHit]: ...

    def count(self) -> int: ...


@dataclass(frozen=True)
class Times:
    started_at: datetime
    detected_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    detected_by: TimelineEvent | None  # the alert or message that counts as detection
    impact_started_at: datetime | None = None
    impact_ended_at: datetime | None = None

    @property
    def impact_duration_s(self) -> int | None:
        """Whole seconds of measured customer impact, None unless both ends are set."""
        if self.impact_started_at is None or self.impact_ended_at is None:
            return None
        return max(0, int((self.impact_ended_at - self.impact_started_at).total_seconds()))

    def since_start(self, at: datetime | None) -> int | None:
        """Whole seconds from the start to `at` (never negative), None when `at` is unknown."""
        return None if at is None else max(0, int((at - self.started_at).total_seconds()))


@dataclass(frozen=True)
class Facts:
    incident: Incident  # title, impact, cause redacted
    times: Times
    key_events: list[KeyEvent]  # redacted
    timeline: list[KeyEvent]  # the document's timeline: key events and informative chat lines, redacted
    messages: list[TimelineEvent]  # the non-key events, RAW: redact before use
    actions: list[ActionItem]  # titles redacted
    similar_incidents: list[Reference]
    runbooks: list[Reference]
    event_ids: frozenset[int]
    impact_event: int | None  # the status event that recorded the impact / cause, for evidence
    cause_event: int | None


def gather(
    engine: Engine,
    incident_id: str,
    knowledge: Knowledge | None = None,
    scrub: Callable[[str], str] = redact,
) -> Facts:
    """Read the incident, its whole timeline and its action items, and search the knowledge base."""
    raw = engine.incidents.get(incident_id)
    events = engine.timeline.events(raw.id, key_only=False)
    incident = raw.model_copy(
        update={
            "title": scrub(raw.title),
            "impact": scrub(raw.impact) if raw.impact else None,
            "cause": scrub(raw.cause) if raw.cause else None,
            "severity_reason": scrub(raw.severity_reason) if raw.severity_reason else None,
        }
    )
    key = [event for event in events if event.key]
    actions = [a.model_copy(update={"title": scrub(a.title)}) for a in engine.actions.list(raw.id)]
    similar, runbooks = references(knowledge, incident, events, engine, scrub)
    return Facts(
        incident=incident,
        times=times_of(raw, events, corrected_milestones(engine, raw.id)),
        key_events=[_key_event(event, scrub) for event in key],
        timeline=[_story_line(line, scrub) for line in story(events, messages=STORY_MESSAGES).lines],
        messages=[event for event in events if not event.key],
        actions=actions,
        similar_incidents=similar,
        runbooks=runbooks,
        event_ids=frozenset(event.id for event in events),
        impact_event=_last_status(key, "Impact:"),
        cause_event=_last_status(key, "Cause:"),
    )


def times_of(
    incident: Incident, events: list[TimelineEvent], corrected: frozenset[str] = frozenset()
) -> Times:
    """Started, detected, mitigated and resolved, from the events' own timestamps (time-ordered events).

    A milestone someone corrected (`!incident set`, named in `corrected`) is the incident's stored time: people
    who know better than the timeline have said so. Alerts that started long before are context, neither start
    nor detection. Detection is the first alert or line before the incident's stored detection (its start,
    unless an alert or a correction said earlier), else that stored time: the status card says the same.
    """
    own = [event for event in events if not event.context]
    started = min([incident.started_at, *(event.at for event in own[:1])])
    detection = next((event for event in own if event.kind in DETECTION_KINDS), None)
    statuses = [event for event in events if event.kind == EventKind.STATUS]
    mitigated = next((e.at for e in statuses if _is(e, "Mitigated")), None)
    resolved = [e.at for e in statuses if _is(e, "Resolved")]
    stored = incident.detected_at
    if "detected" in corrected or (detection is not None and stored is not None and detection.at > stored):
        detection = None  # a line after the incident was started (or detected, as stored) did not detect it
    return Times(
        started_at=incident.started_at if "started" in corrected else started,
        detected_at=detection.at if detection else incident.detected_at,
        mitigated_at=incident.mitigated_at
        if "mitigated" in corrected
        else mitigated or (resolved[0] if resolved else incident.mitigated_at),
        resolved_at=incident.resolved_at
        if "resolved" in corrected
        else resolved[-1]
        if resolved
        else incident.resolved_at,
        detected_by=detection,
        impact_started_at=incident.impact_started_at,
        impact_ended_at=incident.impact_ended_at,
    )


def corrected_milestones(engine: Engine, incident_id: str) -> frozenset[str]:
    """The milestones someone set by hand (the audit trail's `correct` entries)."""
    entries = engine.store.audit_trail(incident_id)
    return frozenset(
        str(json.loads(entry.detail).get("milestone")) for entry in entries if entry.action == "correct"
    )


def references(
    knowledge: Knowledge | None,
    incident: Incident,
    events: list[TimelineEvent],
    engine: Engine | None = None,
    scrub: Callable[[str], str] = redact,
) -> tuple[list[Reference], list[Reference]]:
    """Similar past incidents (never this one) and related runbooks; a runbook named in the timeline is marked as
    used, a similar incident of this Debrief with action items still open carries the repeat-incident warning."""
    if knowledge is None:
        return [], []
    query = incident_query(incident)
    try:
        if knowledge.count() == 0:
            return [], []
        past = knowledge.search(query, kind="incident", limit=SIMILAR_INCIDENTS + 1)
        runbooks = knowledge.search(query, kind="runbook", limit=RUNBOOKS)
    except DebriefError as exc:  # a knowledge outage must not stop the postmortem
        log.warning("postmortem: knowledge search failed, no related documents listed: %s", exc)
        return [], []
    said = "\n".join(event.text for event in events).lower()
    others = [hit for hit in past if incident_id_in(hit.title, hit.source) != incident.id]
    similar = [_reference(hit, said) for hit in others[:SIMILAR_INCIDENTS]]
    for reference in similar:
        past_id = incident_id_in(reference.title, reference.source)
        if past_id:
            reference.repeat_warning = repeat_warning(past_id, still_open(engine, past_id), scrub)
    return similar, [_reference(hit, said) for hit in runbooks]


def _reference(hit: SearchHit, said: str) -> Reference:
    stem = hit.source.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    mentioned = stem in said or (len(hit.title) > 8 and hit.title.lower() in said)
    return Reference(
        source=hit.source,
        kind=hit.kind,
        title=hit.title,
        heading=hit.heading,
        score=hit.score,
        snippet=hit.snippet,
        mentioned=mentioned,
    )


def _key_event(event: TimelineEvent, scrub: Callable[[str], str]) -> KeyEvent:
    return KeyEvent(
        id=event.id,
        ref=event_ref(event.id),
        at=event.at,
        author=event.author,
        kind=event.kind,
        text=scrub(event.text),
    )


def _story_line(line: StoryLine, scrub: Callable[[str], str]) -> KeyEvent:
    event = _key_event(line.event, scrub)
    if not line.event.key:  # a chat line: bounded (pasted logs), redacted before it is cut
        text = " ".join(event.text.split())
        if len(text) > STORY_MESSAGE_CHARS:
            text = text[: STORY_MESSAGE_CHARS - 1].rstrip() + "…"
        event.text = text
    event.reasons = list(line.reasons)
    return event


def _is(event: TimelineEvent, word: str) -> bool:
    """Status events read "Mitigated" and "Resolved" / "Resolved: note" (agent.incidents writes them)."""
    return event.text == word or event.text.startswith(word + ":")


def _last_status(key_events: list[TimelineEvent], prefix: str) -> int | None:
    found = [e.id for e in key_events if e.kind == EventKind.STATUS and e.text.startswith(prefix)]
    return found[-1] if found else None
