"""People finish the postmortem: they add to a section, replace one, or edit the exported Markdown and import it.

Anyone who sees the incident may (its room, admins, the command line). Each change is one revision: the sections
it rewrites become people's (`Postmortem.reviewed`, kept by every new draft), a revision row per section records
who, when and the new text (`revisions.py`), the audit trail says which sections, and an approval is reset: what
was approved is no longer the text. A published postmortem is changed only after an admin reopens it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agent.engine import Engine
from agent.identity import normalise_user
from agent.incidents import IncidentRef, format_id
from agent.models import PostmortemStatus
from agent.postmortem import exchange, revisions
from agent.postmortem.model import Postmortem
from agent.postmortem.records import PostmortemError, Records, StoredPostmortem
from agent.postmortem.render import render_markdown
from agent.postmortem.review import mark_reviewed, required_sections, unfinished
from agent.postmortem.revisions import Revision
from agent.postmortem.sections import Section, add_kind, appended, replaced, section_named
from agent.redact import redact
from agent.settings import Settings
from agent.store import add_audit
from agent.store.tables import PostmortemRow


@dataclass(frozen=True)
class SectionChange:
    """One section a change rewrites: the model fields, and the text its revision records."""

    section: Section
    update: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Imported:
    """What an import did: the postmortem after it, the sections taken from the file, the conflicts."""

    stored: StoredPostmortem
    applied: list[str]
    conflicts: list[exchange.Conflict]
    missing: list[str]  # review sections the file no longer has (left as they are)


_BULLET = re.compile(r"^[-*•](?:\s+|$)")  # a list section's line may be written as a bullet
# What a change does to the document it finds (and, for an import, the row: it reads the revisions).
Plan = Callable[[Postmortem, str, Session, PostmortemRow], list[SectionChange]]


class ReviewEdits:
    """People's changes to one engine's stored postmortems."""

    def __init__(
        self, engine: Engine, settings: Settings, records: Records, now: Callable[[], datetime]
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._records = records
        self._now = now

    def add(self, ref: IncidentRef, kind: str, text: str, by: str) -> StoredPostmortem:
        """Add an item (`well`, `poorly`, `factor`, `lesson`, `detection`) to its section, as `by`'s text."""
        section, clean = add_kind(kind), redact(text).strip()

        def plan(pm: Postmortem, who: str, *_: object) -> list[SectionChange]:
            return [SectionChange(section, appended(pm, section, clean, who), clean)]

        return self._revise(ref, by, "add", plan)

    def edit(self, ref: IncidentRef, name: str, text: str, by: str) -> StoredPostmortem:
        """Replace a section with `by`'s text (in a list section, each line is one item)."""
        section, clean = section_named(name), redact(text).strip()
        lines = [_BULLET.sub("", line.strip()).strip() for line in clean.splitlines()]
        texts = [line for line in lines if line] if section.listed else [clean]

        def plan(pm: Postmortem, who: str, *_: object) -> list[SectionChange]:
            return [SectionChange(section, replaced(pm, section, texts, who), clean)]

        return self._revise(ref, by, "edit", plan)

    def export(self, ref: IncidentRef) -> str:
        """The stored postmortem as a Markdown file to edit; `import_file` reads it back."""
        with self._engine.store.read() as session:
            row = self._records.row(session, ref)
            markdown = self._records.render(row)
            return exchange.export_markdown(markdown, format_id(row.incident_number), row.revision)

    def import_file(self, ref: IncidentRef, text: str, by: str, source: str = "the file") -> Imported:
        """The review sections a reviewer changed in an exported file, as `by`'s text. A section changed in the
        file and, since the export, by someone else in Debrief is a conflict: reported, not imported."""
        exported = exchange.read_export(redact(text), source)
        incident_id = self._engine.incidents.get(ref).id
        if exported.incident_id != incident_id:
            raise PostmortemError(f"{source} is {exported.incident_id}'s postmortem, not {incident_id}'s")
        plans: list[exchange.ImportPlan] = []

        def plan(pm: Postmortem, who: str, session: Session, row: PostmortemRow) -> list[SectionChange]:
            people = revisions.people_changes_since(session, row.incident_number, exported.revision, who)
            found = exchange.plan_import(exported, exchange.section_bodies(self._records.render(row)), people)
            plans.append(found)
            return [
                SectionChange(section, exchange.from_file(pm, section, body, who), body)
                for section, body in ((section_named(name), body) for name, body in found.changed.items())
            ]

        stored = self._revise(ref, by, "import", plan)
        return Imported(stored, list(plans[-1].changed), plans[-1].conflicts, plans[-1].missing)

    def history(self, ref: IncidentRef) -> list[Revision]:
        with self._engine.store.read() as session:
            return revisions.history(session, self._records.row(session, ref).incident_number)

    def unfinished(self, ref: IncidentRef) -> list[str]:
        """What still stops the stored postmortem from being published (empty required sections, placeholders)."""
        with self._engine.store.read() as session:
            return self.unfinished_row(self._records.row(session, ref))

    def unfinished_row(self, row: PostmortemRow) -> list[str]:
        document = self._records.document(row).model_copy(update={"status": PostmortemStatus.PUBLISHED})
        markdown = render_markdown(document, self._records.templates_dir)
        return unfinished(document, markdown, required_sections(self._settings.required_sections))

    def _revise(self, ref: IncidentRef, by: str, change: str, plan: Plan) -> StoredPostmortem:
        """Apply `plan` to the stored postmortem as one revision (see the module's rules)."""
        incident_id = self._engine.incidents.get(ref).id
        who, now = normalise_user(by), self._now()
        with self._engine.store.write() as session:
            row = self._records.row(session, incident_id, for_update=True)
            if row.status == PostmortemStatus.PUBLISHED:
                raise PostmortemError(
                    f"{incident_id}'s postmortem is published; an admin reopens it with !postmortem reopen "
                    "before it is changed"
                )
            current = self._records.document(row)
            changes = plan(current, who, session, row)
            if not changes:
                return self._records.stored(row)
            revised = current.model_copy(update={k: v for item in changes for k, v in item.update.items()})
            row.revision += 1
            revised = mark_reviewed(revised, [item.section for item in changes], who, now, row.revision)
            note = self._reset_approval(row)
            self._records.save(row, revised)
            for item in changes:
                entry = Revision(row.revision, now, who, change, item.section.name, item.text)
                revisions.record(session, row.incident_number, entry)
            detail = {"revision": row.revision, "sections": [item.section.name for item in changes]}
            add_audit(session, who, f"postmortem_{change}", incident_id, detail)
            stored = self._records.stored(row, note)
        self._records.write_draft_file(stored)
        return stored

    @staticmethod
    def _reset_approval(row: PostmortemRow) -> str | None:
        if row.status != PostmortemStatus.APPROVED:
            return None
        approvers = ", ".join(row.reviewers)
        row.status, row.reviewers, row.approved_at = PostmortemStatus.IN_REVIEW.value, [], None
        return f"the approval by {approvers} is reset: the text changed, so it needs a new approval"
