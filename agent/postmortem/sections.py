"""The postmortem's free-text sections, the part people finish in the review, and where each lives in the model.

Facts (times, ids, durations, the timeline, action items) are not sections: they always come from the timeline.
A section is either one text (summary, impact) or a list of items (root cause and the rest); `!postmortem add`
appends an item to a list section, `!postmortem edit` and an imported file replace a section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.errors import DebriefError
from agent.postmortem.model import CauseCandidate, Finding, Postmortem

# A cause people wrote in the review is the one they concluded: it is shown without a confidence.
REVIEWED_CONFIDENCE = 1.0


class SectionError(DebriefError):
    """An unknown section name, or text a section cannot take; the message lists what it can."""


@dataclass(frozen=True)
class Section:
    name: str  # as commands, settings and files name it
    title: str  # its heading in the default template
    field: str  # the Postmortem field that holds it
    listed: bool  # a list of items (else one text)


SECTIONS = (
    Section("summary", "Summary", "summary", listed=False),
    Section("impact", "Customer impact", "customer_impact", listed=False),
    Section("root-cause", "Root cause", "root_causes", listed=True),
    Section("factors", "Contributing factors", "contributing_factors", listed=True),
    Section("well", "What went well", "went_well", listed=True),
    Section("poorly", "What went poorly", "went_poorly", listed=True),
    Section("detection", "Detection gaps", "detection_gaps", listed=True),
    Section("lessons", "Lessons learned", "lessons", listed=True),
)
BY_NAME = {section.name: section for section in SECTIONS}
# `!postmortem add KIND TEXT`: the kinds of item, and the section each goes to.
ADD_KINDS = {
    "well": "well",
    "poorly": "poorly",
    "factor": "factors",
    "lesson": "lessons",
    "detection": "detection",
}
_ALIASES = {
    "rootcause": "root-cause",
    "root_cause": "root-cause",
    "cause": "root-cause",
    "factor": "factors",
    "contributing-factors": "factors",
    "lesson": "lessons",
    "customer-impact": "impact",
    "went-well": "well",
    "went-poorly": "poorly",
    "detection-gaps": "detection",
}
NAMES = ", ".join(section.name for section in SECTIONS)


def section_named(name: str) -> Section:
    """The section `name` means (`root-cause`, also `rootcause`, `factor`, `lesson`, ...)."""
    key = name.strip().lower()
    section = BY_NAME.get(_ALIASES.get(key, key))
    if section is None:
        raise SectionError(f"there is no postmortem section {name!r}; the sections are {NAMES}")
    return section


def add_kind(kind: str) -> Section:
    """The section a `!postmortem add KIND` item goes to."""
    key = kind.strip().lower()
    name = ADD_KINDS.get(key) or ADD_KINDS.get(key.removesuffix("s"))
    if name is None:
        raise SectionError(f"cannot add a {kind!r}; add one of: {', '.join(ADD_KINDS)}")
    return BY_NAME[name]


def texts(pm: Postmortem, section: Section) -> list[str]:
    """What the section says, item by item (the recorded cause stands in for root-cause candidates)."""
    if section.name == "summary":
        return [pm.summary.text] if pm.summary.text.strip() else []
    if section.name == "impact":
        return [pm.customer_impact] if pm.customer_impact and pm.customer_impact.strip() else []
    if section.name == "root-cause":
        causes = [cause.cause for cause in pm.root_causes if cause.cause.strip()]
        return causes or ([pm.recorded_cause] if pm.recorded_cause and pm.recorded_cause.strip() else [])
    findings: list[Finding] = getattr(pm, section.field)
    return [finding.text for finding in findings if finding.text.strip()]


def is_empty(pm: Postmortem, section: Section) -> bool:
    return not texts(pm, section)


def values(pm: Postmortem, section: Section) -> dict[str, Any]:
    """The model fields that hold the section, to copy it from one draft to another."""
    return {section.field: getattr(pm, section.field)}


def replaced(pm: Postmortem, section: Section, items: list[str], by: str) -> dict[str, Any]:
    """The field update that makes `items` (people's text) the whole section."""
    items = [item.strip() for item in items if item.strip()]
    if not items:
        raise SectionError(f"the new text of {section.title.lower()} is empty")
    if not section.listed:
        text = "\n\n".join(items)
        if section.name == "summary":
            return {"summary": Finding(text=text, by=by)}
        return {"customer_impact": text}
    if section.name == "root-cause":
        return {"root_causes": [_cause(item, by) for item in items]}
    return {section.field: [Finding(text=item, by=by) for item in items]}


def appended(pm: Postmortem, section: Section, text: str, by: str) -> dict[str, Any]:
    """The field update that adds `text` as one more item of a list section."""
    text = text.strip()
    if not section.listed or section.name == "root-cause":
        raise SectionError(
            f"{section.title.lower()} is one text: replace it with !postmortem edit {section.name}"
        )
    if not text:
        raise SectionError(f"say what to add to {section.title.lower()}")
    findings: list[Finding] = getattr(pm, section.field)
    return {section.field: [*findings, Finding(text=text, by=by)]}


def _cause(text: str, by: str) -> CauseCandidate:
    return CauseCandidate(cause=text, confidence=REVIEWED_CONFIDENCE, by=by)
