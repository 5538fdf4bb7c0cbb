"""The narrative sections from the LLM: one structured-output call over a compacted, redacted timeline.

The schema below is the contract with the model (its field descriptions are what the model reads). Structured
output uses function calling, which every OpenAI-compatible server with tools supports. A reply that does not
parse gets one repair attempt; anything else (no LLM, an error, a timeout) falls back to the template narrative.
Every claim's evidence is checked (see `evidence.py`) before it reaches the document.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from agent.models import ActionKind, EventKind
from agent.postmortem.compact import compact, estimate_tokens
from agent.postmortem.evidence import EvidenceIndex
from agent.postmortem.facts import Facts
from agent.postmortem.fallback import template_narrative
from agent.postmortem.model import CauseCandidate, Finding, Generation, Narrative, SuggestedAction
from agent.postmortem.prompts import SYSTEM, facts_block, knowledge_block, user_prompt
from agent.redact import redact

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

PROMPT_TOKEN_BUDGET = 12_000  # the whole prompt: system, facts, knowledge, timeline and the tool schema
SAFETY_TOKENS = 400  # message framing and estimate error
MAX_ATTEMPTS = 2  # the call, and one repair attempt when the reply does not parse


class DraftClaim(BaseModel):
    text: str = Field(description="One or two sentences.")
    evidence: list[str] = Field(
        default_factory=list,
        description="Timeline event ids (E12) or knowledge sources that support the claim.",
    )


class DraftCause(BaseModel):
    cause: str = Field(description="A candidate root cause, one or two sentences.")
    evidence: list[str] = Field(
        default_factory=list, description="Timeline event ids (E12) or knowledge sources."
    )
    confidence: float = Field(description="How likely this is the root cause, from 0 to 1.")

    @field_validator("confidence", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> float:
        """Models sometimes answer 80 for 0.8; anything outside 0..1 is clamped."""
        number = float(value)
        if 1 < number <= 100:
            number /= 100
        return min(1.0, max(0.0, number))


class DraftAction(BaseModel):
    title: str = Field(
        description="A specific action: the concrete change, where, and how we know it is done."
    )
    kind: ActionKind = Field(default=ActionKind.PREVENT, description="prevent, detect, mitigate or process.")
    evidence: list[str] = Field(
        default_factory=list, description="Timeline event ids (E12) or knowledge sources."
    )


class PostmortemNarrative(BaseModel):
    """The narrative sections of a blameless postmortem, every claim with its evidence."""

    summary: DraftClaim = Field(description="What happened, its impact and how it ended, in 2-4 sentences.")
    root_causes: list[DraftCause] = Field(default_factory=list, description="Root-cause candidates.")
    contributing_factors: list[DraftClaim] = Field(default_factory=list)
    went_well: list[DraftClaim] = Field(default_factory=list, description="What went well in the response.")
    went_poorly: list[DraftClaim] = Field(
        default_factory=list, description="What went poorly in the response."
    )
    detection_gaps: list[DraftClaim] = Field(
        default_factory=list, description="Why detection was late or manual, and which signal was missing."
    )
    suggested_actions: list[DraftAction] = Field(default_factory=list, description="Follow-up action items.")


class NarrativeFailed(Exception):
    """The model's reply could not be used (the reason is logged and shown as the template's note)."""


def write_narrative(
    model: BaseChatModel | None,
    facts: Facts,
    budget_tokens: int = PROMPT_TOKEN_BUDGET,
    scrub: Callable[[str], str] = redact,
) -> Narrative:
    """The LLM narrative with checked evidence, or the template narrative when there is no usable LLM."""
    if model is None:
        return template_narrative(facts)
    messages = build_prompt(facts, budget_tokens, scrub)
    calls, tokens = 0, 0
    try:
        structured = model.with_structured_output(
            PostmortemNarrative, method="function_calling", include_raw=True
        )
        error = ""
        for _ in range(MAX_ATTEMPTS):
            attempt = messages + ([("human", _repair(error))] if error else [])
            calls, tokens = calls + 1, tokens + _prompt_tokens(attempt)
            reply = structured.invoke(attempt)
            draft, error = _parsed(reply)
            if draft is not None:
                narrative = verify(draft, facts, scrub)
                return narrative.model_copy(
                    update={"generation": Generation(narrative="llm", llm_calls=calls, prompt_tokens=tokens)}
                )
        raise NarrativeFailed(error)
    except Exception as exc:  # any model failure falls back; the postmortem must not be lost to an LLM outage
        log.warning("postmortem: the LLM narrative failed, using the template: %s", exc)
        note = f"the LLM narrative failed ({_first_line(exc)})"
        fallback = template_narrative(facts, note=note)
        generation = fallback.generation.model_copy(update={"llm_calls": calls, "prompt_tokens": tokens})
        return fallback.model_copy(update={"generation": generation})


def build_prompt(facts: Facts, budget_tokens: int, scrub: Callable[[str], str]) -> list[tuple[str, str]]:
    """System and user messages; the timeline gets whatever budget the rest leaves."""
    facts_text = scrub(facts_block(facts))
    knowledge_text = scrub(knowledge_block(facts.similar_incidents, facts.runbooks))
    fixed = estimate_tokens(SYSTEM + facts_text + knowledge_text) + schema_tokens() + SAFETY_TOKENS
    told = frozenset(event.id for event in facts.timeline if event.kind == EventKind.MESSAGE)
    timeline = compact(facts.key_events, facts.messages, budget_tokens - fixed, scrub, told)
    note = (
        f"{timeline.key_events_shown} of {timeline.key_events} key events, {timeline.messages_shown} of "
        f"{timeline.messages - timeline.duplicates} distinct messages ({timeline.messages} in all)"
    )
    return [("system", SYSTEM), ("human", user_prompt(facts_text, knowledge_text, timeline.text, note))]


def verify(draft: PostmortemNarrative, facts: Facts, scrub: Callable[[str], str] = redact) -> Narrative:
    """Keep claims whose evidence exists; see `evidence.py` for the rule. Texts are redacted once more."""
    index = EvidenceIndex(
        facts.event_ids, [ref.source for ref in (*facts.similar_incidents, *facts.runbooks)]
    )

    def findings(claims: list[DraftClaim]) -> list[Finding]:
        checked = [(claim, index.check(claim.evidence)) for claim in claims]
        return [
            Finding(text=scrub(claim.text.strip()), evidence=cited.evidence, verified=cited.verified)
            for claim, cited in checked
            if cited.keep and claim.text.strip()
        ]

    causes = [
        CauseCandidate(
            cause=scrub(cause.cause.strip()),
            evidence=cited.evidence,
            confidence=cause.confidence,
            verified=cited.verified,
        )
        for cause, cited in ((c, index.check(c.evidence)) for c in draft.root_causes)
        if cited.keep and cause.cause.strip()
    ]
    actions = [
        SuggestedAction(
            title=scrub(action.title.strip()),
            kind=action.kind,
            evidence=cited.evidence,
            verified=cited.verified,
        )
        for action, cited in ((a, index.check(a.evidence)) for a in draft.suggested_actions)
        if cited.keep and action.title.strip()
    ]
    summary = findings([draft.summary]) or [template_narrative(facts).summary]
    return Narrative(
        summary=summary[0],
        root_causes=sorted(causes, key=lambda c: -c.confidence),
        contributing_factors=findings(draft.contributing_factors),
        went_well=findings(draft.went_well),
        went_poorly=findings(draft.went_poorly),
        detection_gaps=findings(draft.detection_gaps),
        suggested_actions=actions,
        generation=Generation(narrative="llm"),
    )


def schema_tokens() -> int:
    """The tool definition is sent with every call and counts towards the prompt."""
    return estimate_tokens(json.dumps(PostmortemNarrative.model_json_schema()))


def _parsed(reply: Any) -> tuple[PostmortemNarrative | None, str]:
    """The parsed draft, or why there is none (for the repair attempt)."""
    if isinstance(reply, dict):
        parsed = reply.get("parsed")
        if isinstance(parsed, PostmortemNarrative):
            return parsed, ""
        error = reply.get("parsing_error")
        return None, _first_line(error) if error else "no tool call in the reply"
    if isinstance(reply, PostmortemNarrative):
        return reply, ""
    return None, "unexpected reply"


def _repair(error: str) -> str:
    return (
        f"Your previous answer could not be used ({error}). Call the PostmortemNarrative tool again, "
        "with arguments that follow its schema."
    )


def _prompt_tokens(messages: list[tuple[str, str]]) -> int:
    return sum(estimate_tokens(text) for _, text in messages) + schema_tokens()


def _first_line(error: object) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
