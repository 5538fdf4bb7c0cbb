"""A postmortem as a Markdown file for a reviewer's editor, and the reviewer's file read back.

`export_markdown` is the document as the template renders it, with `debrief_export` in its front matter: the
incident, the revision exported and a fingerprint of each review section as exported. `read_export` reads a file
back with a CommonMark parser (markdown-it-py) and finds the review's sections by their headings (the default
template's titles, or the section names): a section runs to the next heading of its own level (`##`), its
sub-headings, rules and code are its text, and a file with text no section would take (a heading of that level
the export did not have, a section written twice) is refused whole. `plan_import` decides section by section:
unchanged in the file, nothing; changed in the file only, the file's text; changed in the file and by people in
Debrief since the export (to something else), a conflict: reported, never overwritten. The rest of the file
(facts, the timeline, action items) is the timeline's and is not read.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent.errors import DebriefError
from agent.postmortem.model import CauseCandidate, Finding, Postmortem
from agent.postmortem.revisions import Revision
from agent.postmortem.sections import BY_NAME, REVIEWED_CONFIDENCE, SECTIONS, Section

EXPORT_KEY = "debrief_export"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_PARSER = MarkdownIt("commonmark")
_TITLES = {section.title.lower(): section for section in SECTIONS} | {s.name: s for s in SECTIONS}
# Where the template writes "still empty" instead of text; such a body reads back as an empty section.
_EMPTY_BODY = re.compile(
    r"^_?(?:to be completed in the review\.?|none recorded in the review\.?)_?$|^not established yet\.?$"
    r"|^not recorded \(set it with .*\)\.?$",
    re.IGNORECASE,
)
# What `agent.markup.inert_markdown` escapes, read back as typed: `\<` anywhere, a line-start `\#`, `\[`, ...
_INERT_ANYWHERE = re.compile(r"\\<")
_INERT_LINE_START = re.compile(r"^([ \t]{0,3})\\(#|=|-|`|~|\[)", re.MULTILINE)
CITE = re.compile(r"\s*(?:\*\(unverified\)\*|\(evidence: ([^()]*)\))\s*$")
CONFIDENCE = re.compile(r"\s*\(confidence \d(?:\.\d+)?\)\s*$")


class ExportFileError(DebriefError):
    """The file cannot be imported: not an export of this incident's postmortem, or not readable."""


@dataclass(frozen=True)
class ExportedFile:
    incident_id: str
    revision: int
    fingerprints: dict[str, str]  # section name -> fingerprint of its body as exported
    bodies: dict[str, str]  # section name -> its body in the file, as the reviewer left it


@dataclass(frozen=True)
class Conflict:
    section: Section
    change: Revision  # the latest change people made in Debrief since the export


@dataclass
class ImportPlan:
    changed: dict[str, str] = field(default_factory=dict)  # section name -> the file's body
    conflicts: list[Conflict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # review sections the file no longer has


def export_markdown(markdown: str, incident_id: str, revision: int) -> str:
    """The rendered document with what an import needs to tell a reviewer's change from someone else's."""
    outline = _sections(markdown)
    fingerprints = {
        section.name: fingerprint(body) for section, body in outline.bodies if section is not None
    }
    headings = [fingerprint(heading.line) for heading in outline.bounds]
    stamp = json.dumps(
        {"incident": incident_id, "revision": revision, "sections": fingerprints, "headings": headings}
    )
    lines = [
        f"# Review the sections {', '.join(s.title for s in SECTIONS)} and import the file with:",
        f"#   debrief postmortem --incident {incident_id} --import FILE.md --by YOUR-NAME",
        "# Everything else (times, the timeline, action items) comes from the timeline and is not read back.",
        f"{EXPORT_KEY}: {stamp}",
    ]
    if markdown.startswith("---\n"):
        return "---\n" + "\n".join(lines) + "\n" + markdown[4:]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + markdown


def read_export(text: str, source: str) -> ExportedFile:
    """The reviewer's file: which export it came from, and each review section's body."""
    match = _FRONT_MATTER.match(text)
    try:
        front = yaml.safe_load(match.group(1)) if match else None
    except yaml.YAMLError:
        front = None
    stamp = front.get(EXPORT_KEY) if isinstance(front, dict) else None
    if not isinstance(stamp, dict) or not isinstance(stamp.get("sections"), dict):
        raise ExportFileError(
            f"{source} was not exported by `debrief postmortem --export` (its front matter has no "
            f"{EXPORT_KEY}); export the postmortem, edit that file and import it"
        )
    try:
        incident_id, revision = str(stamp["incident"]), int(stamp["revision"])
    except (KeyError, TypeError, ValueError):
        raise ExportFileError(
            f"{source}: {EXPORT_KEY} in its front matter is damaged; export again"
        ) from None
    fingerprints = {str(k): str(v) for k, v in stamp["sections"].items()}
    headings = stamp.get("headings")  # exports before this check have none
    outline = _sections(text[match.end() :] if match else text)
    _check_outline(outline, [str(h) for h in headings] if isinstance(headings, list) else None, source)
    bodies = {section.name: body for section, body in outline.bodies if section is not None}
    return ExportedFile(incident_id, revision, fingerprints, bodies)


def plan_import(exported: ExportedFile, current: dict[str, str], people: dict[str, Revision]) -> ImportPlan:
    """Section by section: the file's text where only the file changed it; a conflict where someone else changed
    it in Debrief too since the export (`people`), unless both now say the same; `current` is Debrief's now."""
    plan = ImportPlan()
    for section in SECTIONS:
        body = exported.bodies.get(section.name)
        if body is None:
            plan.missing.append(section.name)
            continue
        as_exported = fingerprint(body) == exported.fingerprints.get(section.name)
        if as_exported or _says(body, section) == _says(current.get(section.name, ""), section):
            continue  # the reviewer left it as exported, or made it say what Debrief already says
        change = people.get(section.name)
        if change is not None:
            plan.conflicts.append(Conflict(section, change))
        else:
            plan.changed[section.name] = body
    return plan


def section_bodies(markdown: str) -> dict[str, str]:
    """Each review section's body, by section name: the Markdown between its heading and the next heading of the
    sections' own level (`##` in the default template) or above. Sub-headings (`### Details`, a paragraph
    underlined with `---`), rules and code are part of the body."""
    return {section.name: body for section, body in _sections(markdown).bodies if section is not None}


@dataclass(frozen=True)
class _Heading:
    start: int  # its first line
    end: int  # the line after it
    level: int
    title: str  # as written, spacing normalised

    @property
    def line(self) -> str:
        return f"{'#' * self.level} {self.title}"


@dataclass
class _Outline:
    """A document cut at the headings that can end a review section."""

    level: int  # the review sections' heading level
    bounds: list[_Heading]
    bodies: list[tuple[Section | None, str]]  # per heading of `bounds`: its review section (if any) and body


def _sections(markdown: str) -> _Outline:
    lines = markdown.splitlines()
    atx = [
        _Heading(token.map[0], token.map[1], int(token.tag[1:]), " ".join(inline.content.split()))
        for token, inline in itertools.pairwise(_PARSER.parse(markdown))
        if token.type == "heading_open" and token.level == 0 and token.map and token.markup.startswith("#")
    ]
    levels = [heading.level for heading in atx if heading.title.lower() in _TITLES]
    level = min(levels, default=2)
    bounds = [heading for heading in atx if heading.level <= level]
    bodies: list[tuple[Section | None, str]] = []
    for index, heading in enumerate(bounds):
        stop = bounds[index + 1].start if index + 1 < len(bounds) else len(lines)
        section = _TITLES.get(heading.title.lower()) if heading.level == level else None
        bodies.append((section, "\n".join(lines[heading.end : stop]).strip()))
    return _Outline(level, bounds, bodies)


def _check_outline(outline: _Outline, exported_headings: list[str] | None, source: str) -> None:
    """Refuse a file whose text under a review section would not all come back: a review section twice, or a
    heading of the sections' level the export did not have (the text under it would belong to no section)."""
    seen: set[str] = set()
    within = "the start of the file"
    for heading, (section, _) in zip(outline.bounds, outline.bodies, strict=True):
        if section is not None and section.name in seen:
            raise ExportFileError(
                f"{source}: the section {section.title} appears twice; keep one `{heading.line}` heading and "
                "put all its text under it (nothing was imported)"
            )
        if exported_headings is not None and fingerprint(heading.line) not in exported_headings:
            sub = f"{'#' * (outline.level + 1)} {heading.title}"
            raise ExportFileError(
                f"{source}: the heading `{heading.line}` under {within} was not in the export, so the text under "
                f"it belongs to no section; make it a sub-heading (`{sub}`) or remove it (nothing was imported)"
            )
        if section is not None:
            seen.add(section.name)
        within = f"the section {section.title}" if section is not None else f"`{heading.line}`"


def items(body: str, section: Section) -> list[str]:
    """A section's body as people's text: paragraphs and list items (one text for summary and impact), read as
    typed (the template's escapes undone), without the template's placeholders."""
    blocks = _blocks(body)
    texts = [_literal(text) for text in blocks if not _EMPTY_BODY.match(" ".join(text.split()))]
    if not BY_NAME[section.name].listed:
        return ["\n\n".join(texts)] if texts else []
    return [" ".join(text.split()) for text in texts]


def split_cite(text: str, section: Section) -> tuple[str, list[str] | None]:
    """`claim (evidence: E3)` -> (`claim`, [`E3`]); a trailing `*(unverified)*` and a root cause's confidence go."""
    evidence: list[str] | None = None
    found = CITE.search(text)
    if found:
        text = text[: found.start()]
        evidence = [ref.strip() for ref in (found.group(1) or "").split(",") if ref.strip()]
    if section.name == "root-cause":
        text = CONFIDENCE.sub("", text).strip().removeprefix("Recorded cause: ")
    return text.strip(), evidence


def from_file(pm: Postmortem, section: Section, body: str, by: str) -> dict[str, object]:
    """The field update that makes the file's `body` the section. Items the reviewer left as they were keep what
    Debrief knows of them (evidence, confidence); new or reworded ones are `by`'s, citing what they cite when the
    document knows it."""
    known = _known_refs(pm)
    texts = items(body, section)
    if section.name == "impact":
        return {"customer_impact": texts[0] if texts else None}
    claims = [_claim(text, section, known) for text in texts]
    if section.name == "summary":
        text, evidence = claims[0] if claims else ("", [])
        same = " ".join(text.split()) == " ".join(pm.summary.text.split())
        return {"summary": pm.summary if same else Finding(text=text, evidence=evidence, by=by)}
    if section.name == "root-cause":
        old_causes = {" ".join(c.cause.split()): c for c in pm.root_causes}
        causes = [
            old_causes.get(" ".join(text.split()))
            or CauseCandidate(cause=text, evidence=evidence, confidence=REVIEWED_CONFIDENCE, by=by)
            for text, evidence in claims
        ]
        return {"root_causes": causes}
    findings: list[Finding] = getattr(pm, section.field)
    old = {" ".join(f.text.split()): f for f in findings}
    return {
        section.field: [
            old.get(" ".join(text.split())) or Finding(text=text, evidence=evidence, by=by)
            for text, evidence in claims
        ]
    }


def _claim(text: str, section: Section, known: set[str]) -> tuple[str, list[str]]:
    """The claim and its evidence when every cited ref is one the document knows; else the text as written."""
    claim, evidence = split_cite(text, section)
    if evidence is None:
        return claim, []
    if evidence and all(ref in known for ref in evidence):
        return claim, evidence
    return (text.strip() if evidence else claim), []


def _known_refs(pm: Postmortem) -> set[str]:
    cited = [*pm.summary.evidence, *(ref for c in pm.root_causes for ref in c.evidence)]
    for field_name in ("contributing_factors", "went_well", "went_poorly", "detection_gaps", "lessons"):
        findings: list[Finding] = getattr(pm, field_name)
        cited += [ref for finding in findings for ref in finding.evidence]
    sources = [ref.source for ref in (*pm.similar_incidents, *pm.runbooks)]
    return {event.ref for event in pm.timeline} | set(cited) | set(sources)


def _says(body: str, section: Section) -> list[str]:
    """What a section body says, however it is laid out (bullets, spacing, a citation)."""
    return [" ".join(split_cite(text, section)[0].split()) for text in items(body, section)]


def fingerprint(body: str) -> str:
    return hashlib.sha256(" ".join(body.split()).encode("utf-8")).hexdigest()[:16]


def _blocks(body: str) -> list[str]:
    """Top-level paragraphs, each top-level list item (its paragraphs joined), and every other block as written:
    a sub-heading with its `#`s or underline, a rule, a code fence with its fences. A line the parser keeps no
    text of (a link reference definition) is a text of its own: nothing the reviewer wrote is left out."""
    lines = body.splitlines()
    found: list[tuple[int, str]] = []
    covered: set[int] = set()
    depth, start = 0, 0
    current: list[str] | None = None
    heading: Token | None = None
    for token in _PARSER.parse(body):
        if token.level == 0 and token.nesting >= 0 and token.map:
            covered.update(range(*token.map))
        if token.type == "list_item_open":
            depth += 1
            if depth == 1:
                current, start = [], token.map[0] if token.map else 0
        elif token.type == "list_item_close":
            depth -= 1
            if depth == 0 and current is not None:
                found.append((start, "\n".join(current)))
                current = None
        elif token.type == "heading_open":
            heading = token
        else:
            text = _block_text(token, heading).strip()
            heading = None if token.type == "inline" else heading
            if text and current is not None:
                current.append(text)
            elif text:
                found.append((token.map[0] if token.map else 0, text))
    loose = [n for n, line in enumerate(lines) if line.strip() and n not in covered]
    for _, run in itertools.groupby(enumerate(loose), key=lambda pair: pair[1] - pair[0]):
        numbers = [n for _, n in run]
        found.append((numbers[0], "\n".join(lines[n].strip() for n in numbers)))
    return [text for _, text in sorted(found, key=lambda pair: pair[0])]


def _block_text(token: Token, heading: Token | None) -> str:
    """A block's text, with the marks that make it what it is."""
    if token.type == "inline" and heading is not None:
        if heading.markup.startswith("#"):
            return f"{heading.markup} {token.content}"
        return f"{token.content}\n{heading.markup[:1] * 3}"  # a setext heading: its underline
    if token.type == "fence":
        return f"{token.markup}{token.info}\n{token.content}{token.markup}"
    if token.type == "hr":
        return token.markup[:1] * 3
    if token.type in ("inline", "code_block", "html_block"):
        return token.content
    return ""


def _literal(source: str) -> str:
    return _INERT_LINE_START.sub(r"\1\2", _INERT_ANYWHERE.sub("<", source))
