"""The narrative without an LLM (none configured, or it failed): built from the facts, and labelled so.

It states only what the timeline shows (times, who detected, what was recorded) with the events as evidence, and
leaves the judgement sections for people to write.
"""

from __future__ import annotations

from agent.models import EventKind
from agent.postmortem.facts import Facts
from agent.postmortem.model import CauseCandidate, Finding, Generation, Narrative, event_ref

QUICK_MITIGATION_S = 30 * 60
SLOW_DETECTION_S = 10 * 60
# A cause recorded with `!incident cause` is what responders believed; the template cannot weigh it.
RECORDED_CAUSE_CONFIDENCE = 0.5


def template_narrative(facts: Facts, note: str | None = None) -> Narrative:
    return Narrative(
        summary=_summary(facts),
        root_causes=_recorded_cause(facts),
        went_well=_went_well(facts),
        went_poorly=[],
        detection_gaps=_detection_gaps(facts),
        generation=Generation(narrative="template", note=note),
    )


def _summary(facts: Facts) -> Finding:
    incident, times = facts.incident, facts.times
    tags = ", ".join(t for t in (incident.severity, *incident.services) if t)
    ended = [
        f"{label} after {duration(times.since_start(at))}"
        for label, at in (("mitigated", times.mitigated_at), ("resolved", times.resolved_at))
        if at is not None
    ]
    sentences = [
        f"{incident.id}{f' ({tags})' if tags else ''}: {incident.title}",
        ", ".join([f"Started {times.started_at:%Y-%m-%d %H:%M} UTC", *ended]),
    ]
    sentences += [f"Impact: {incident.impact}"] if incident.impact else []
    sentences += [f"Recorded cause: {incident.cause}"] if incident.cause else []
    evidence = [e.ref for e in facts.key_events if e.kind == EventKind.STATUS][:1]
    return Finding(text=" ".join(s.rstrip(".") + "." for s in sentences), evidence=evidence)


def _recorded_cause(facts: Facts) -> list[CauseCandidate]:
    if not facts.incident.cause or facts.cause_event is None:
        return []
    return [
        CauseCandidate(
            cause=f"{facts.incident.cause} (as recorded by the responders)",
            evidence=[event_ref(facts.cause_event)],
            confidence=RECORDED_CAUSE_CONFIDENCE,
        )
    ]


def _went_well(facts: Facts) -> list[Finding]:
    mitigated = facts.times.since_start(facts.times.mitigated_at)
    if mitigated is None or mitigated > QUICK_MITIGATION_S:
        return []
    status = [e for e in facts.key_events if e.at == facts.times.mitigated_at and e.kind == EventKind.STATUS]
    return [
        Finding(
            text=f"Mitigated {duration(mitigated)} after the start.", evidence=[e.ref for e in status[:1]]
        )
    ]


def _detection_gaps(facts: Facts) -> list[Finding]:
    gaps: list[Finding] = []
    alerts = [e for e in facts.key_events if e.kind == EventKind.ALERT]
    by = facts.times.detected_by
    if not alerts:
        evidence = [event_ref(by.id)] if by else []
        gaps.append(
            Finding(text="No alert reached the incident: people detected and reported it.", evidence=evidence)
        )
    detect = facts.times.since_start(facts.times.detected_at)
    if detect is not None and detect > SLOW_DETECTION_S and by is not None:
        gaps.append(
            Finding(text=f"Detection took {duration(detect)} after the start.", evidence=[event_ref(by.id)])
        )
    return gaps


def duration(seconds: int | None) -> str:
    """`1h 05m`, `12m 30s`, `45s`; `unknown` for None."""
    if seconds is None:
        return "unknown"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
