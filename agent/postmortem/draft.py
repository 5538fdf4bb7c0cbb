"""Build a postmortem: the facts, the gate's verdict on each action item, the narrative. Reads only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.actions import check
from agent.engine import Engine
from agent.models import PostmortemStatus
from agent.postmortem.facts import Facts, Knowledge, gather
from agent.postmortem.fallback import template_narrative
from agent.postmortem.model import Narrative, Postmortem, ReviewedAction
from agent.postmortem.narrative import PROMPT_TOKEN_BUDGET, write_narrative
from agent.redact import redact, redact_tree

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def build_postmortem(
    engine: Engine,
    incident_id: str,
    knowledge: Knowledge | None = None,
    model: BaseChatModel | None = None,
    *,
    budget_tokens: int = PROMPT_TOKEN_BUDGET,
    scrub: Callable[[str], str] = redact,
) -> Postmortem:
    """The draft postmortem of `incident_id` (status draft); with `model`, the narrative comes from the LLM.

    Every string of the result passes `scrub` once more: what the LLM wrote is text nobody typed or checked.
    """
    facts = gather(engine, incident_id, knowledge, scrub)
    if facts.incident.private:  # a private incident never reaches the LLM
        narrative = template_narrative(facts, "the incident is private: its timeline never goes to an LLM")
    else:
        narrative = write_narrative(model, facts, budget_tokens, scrub)
    draft = assemble(facts, narrative)
    return Postmortem.model_validate(redact_tree(draft.model_dump(mode="json"), scrub))


def assemble(facts: Facts, narrative: Narrative) -> Postmortem:
    incident, times = facts.incident, facts.times
    return Postmortem(
        incident_id=incident.id,
        title=incident.title,
        severity=incident.severity,
        service=incident.service,
        services=incident.services,
        incident_status=incident.status,
        commander=incident.commander,
        participants=incident.participants,
        started_at=times.started_at,
        detected_at=times.detected_at,
        mitigated_at=times.mitigated_at,
        resolved_at=times.resolved_at,
        time_to_detect_s=times.since_start(times.detected_at),
        time_to_mitigate_s=times.since_start(times.mitigated_at),
        time_to_resolve_s=times.since_start(times.resolved_at),
        impact_started_at=times.impact_started_at,
        impact_ended_at=times.impact_ended_at,
        impact_duration_s=times.impact_duration_s,
        event_count=len(facts.messages) + len(facts.key_events),
        summary=narrative.summary,
        customer_impact=incident.impact,
        recorded_cause=incident.cause,
        timeline=facts.timeline,
        root_causes=narrative.root_causes,
        contributing_factors=narrative.contributing_factors,
        went_well=narrative.went_well,
        went_poorly=narrative.went_poorly,
        detection_gaps=narrative.detection_gaps,
        action_items=[ReviewedAction(**a.model_dump(), problems=check(a)) for a in facts.actions],
        suggested_actions=narrative.suggested_actions,
        similar_incidents=facts.similar_incidents,
        runbooks=facts.runbooks,
        generation=narrative.generation,
        status=PostmortemStatus.DRAFT,
    )
