"""What the LLM is told when it writes the narrative. Everything here is built from redacted facts."""

from __future__ import annotations

from datetime import datetime

from agent.postmortem.facts import Facts
from agent.postmortem.model import Reference

SYSTEM = """You write the narrative sections of a blameless incident postmortem.

Rules:
- Blameless: describe systems, signals and decisions, never fault individuals.
- Use only the facts, timeline and knowledge given below. If something is unknown, leave it out.
- Every claim cites evidence: timeline event ids exactly as shown (E12) or knowledge sources exactly as shown
  (runbooks/example.md). A claim without evidence will be marked unverified; a claim citing ids that do not
  exist will be discarded.
- Root-cause candidates carry a confidence between 0 and 1. Give several when the evidence is ambiguous.
- Suggested action items are specific: the concrete change, where, and how we will know it is done.
- Keep each item to one or two sentences. Answer by calling the tool."""

SNIPPET_CHARS = 300


def facts_block(facts: Facts) -> str:
    """The incident's facts as the prompt states them (already redacted)."""
    incident, times = facts.incident, facts.times
    by = times.detected_by
    lines = [
        f"Incident {incident.id}: {incident.title}",
        f"Severity: {incident.severity or 'not set'}"
        + (f" ({incident.severity_reason})" if incident.severity_reason else ""),
        f"Services: {', '.join(incident.services) or 'not set'}",
        f"Status: {incident.status.value}",
        f"Started: {times.started_at.isoformat()}",
        f"Detected: {_at(times.detected_at)}" + (f" (first {by.kind.value})" if by else ""),
        f"Mitigated: {_at(times.mitigated_at)}",
        f"Resolved: {_at(times.resolved_at)}",
        f"Customer impact (recorded): {incident.impact or 'not recorded'}",
        f"Cause (recorded): {incident.cause or 'not recorded'}",
        f"Participants: {len(incident.participants)}",
    ]
    if times.impact_started_at or times.impact_ended_at:
        window = f"{_at(times.impact_started_at)} to {_at(times.impact_ended_at)}"
        lines.append(f"Customer impact window (measured): {window}")
    lines += [f"Action item {a.ref}: {a.title} (owner {a.owner or 'none'})" for a in facts.actions]
    return "\n".join(lines)


def knowledge_block(similar: list[Reference], runbooks: list[Reference]) -> str:
    """Related documents, cited by their source."""
    refs = [*similar, *runbooks]
    if not refs:
        return "No related runbooks or past incidents were found."
    lines = []
    for ref in refs:
        used = " (named in the timeline)" if ref.mentioned else ""
        snippet = " ".join(ref.snippet.split())[:SNIPPET_CHARS]
        lines.append(f"{ref.source} [{ref.kind}]{used}: {ref.title}. {snippet}")
    return "\n".join(lines)


def user_prompt(facts_text: str, knowledge_text: str, timeline_text: str, timeline_note: str) -> str:
    return (
        f"## Facts\n{facts_text}\n\n## Related knowledge\n{knowledge_text}\n\n"
        f"## Timeline ({timeline_note})\n{timeline_text}"
    )


def _at(value: datetime | None) -> str:
    return "unknown" if value is None else value.isoformat()
