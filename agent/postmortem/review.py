"""The review's rules: what a new draft keeps of people's text, and what stops a postmortem from being published.

- A new draft keeps the review. Sections people wrote stay as they left them; once anyone has edited a section,
  every narrative section that has text keeps it (people read it alongside their own), and only the empty ones
  take the new draft's text. Facts always come fresh from the timeline.
- Publishing needs every required section (DEBRIEF_REQUIRED_SECTIONS) filled and no placeholder left: the
  template's own ("_To be completed in the review._") or the ones people leave (TODO, TBD, FIXME, XXX).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from agent.postmortem.model import Postmortem, ReviewedSection
from agent.postmortem.sections import SECTIONS, Section, is_empty, section_named, texts, values

# Text the default template writes where a section is still empty; any of it left in a document is unfinished.
TEMPLATE_PLACEHOLDERS = re.compile(
    r"to be completed in the review|not established yet|not recorded \(set it with", re.IGNORECASE
)
# What people leave in text they mean to finish later.
PEOPLE_PLACEHOLDERS = re.compile(r"\b(?:TODO|TBD|FIXME|XXX)\b|\?\?\?|<fill in>|\[fill in\]|lorem ipsum")


def carry_review(previous: Postmortem | None, fresh: Postmortem) -> Postmortem:
    """`fresh` (a new draft) with the review of `previous` kept (see the module's rules)."""
    if previous is None or not previous.reviewed:
        return fresh
    owned = {entry.section for entry in previous.reviewed}
    update: dict[str, object] = {"reviewed": previous.reviewed}
    for section in SECTIONS:
        keep = section.name in owned or (section.name != "impact" and not is_empty(previous, section))
        if keep:
            update.update(values(previous, section))
    return fresh.model_copy(update=update)


def mark_reviewed(
    pm: Postmortem, sections: Iterable[Section], by: str, at: datetime, revision: int
) -> Postmortem:
    """`pm` with `sections` recorded as people's (the latest change of each)."""
    names = {section.name for section in sections}
    kept = [entry for entry in pm.reviewed if entry.section not in names]
    added = [ReviewedSection(section=name, by=by, at=at, revision=revision) for name in sorted(names)]
    order = {section.name: index for index, section in enumerate(SECTIONS)}
    return pm.model_copy(update={"reviewed": sorted([*kept, *added], key=lambda e: order[e.section])})


def required_sections(names: Iterable[str]) -> list[Section]:
    """The sections DEBRIEF_REQUIRED_SECTIONS names (`SectionError` for an unknown one)."""
    return list({section_named(name).name: section_named(name) for name in names}.values())


def unfinished(pm: Postmortem, markdown: str, required: Iterable[Section]) -> list[str]:
    """Why `pm` (rendered as `markdown` for publishing) cannot be published yet, one reason per problem."""
    problems = [f"{section.title.lower()} is empty" for section in required if is_empty(pm, section)]
    for section in SECTIONS:
        found = _placeholder(texts(pm, section))
        if found:
            problems.append(f"{section.title.lower()} still says {found!r}")
    if not problems:
        leftover = TEMPLATE_PLACEHOLDERS.search(markdown)  # a team's own template may write its own
        if leftover:
            line = next(line for line in markdown.splitlines() if TEMPLATE_PLACEHOLDERS.search(line))
            problems.append(f"the document still says {line.strip()!r}")
    return problems


def _placeholder(items: list[str]) -> str | None:
    for text in items:
        found = PEOPLE_PLACEHOLDERS.search(text) or TEMPLATE_PLACEHOLDERS.search(text)
        if found:
            return found.group(0)
    return None
