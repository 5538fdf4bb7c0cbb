"""Draft -> Review -> Publish, kept in the store, every transition in the audit trail.

- `draft` (anyone): builds the postmortem and stores it; a new draft after an approval needs a new approval. A new
  draft keeps the review's text (`review.carry_review`).
- `add`, `edit`, `import_file` (anyone who sees the incident): people finish the sections in the review. Each
  change is a revision (`revisions.py`: who, when, which section, the new text) and resets an approval.
- `approve` (the commander or an admin, once the incident is resolved).
- `publish` (an admin, only after approval, and only once no required section is empty and no placeholder is
  left): writes the reviewed document to `<knowledge dir>/incidents/<date>-<id>-<slug>.md` and ingests the
  knowledge dir, so the next incident's search finds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent.actions import apply_gate
from agent.engine import Engine
from agent.errors import DebriefError
from agent.filing import file_on_publish
from agent.identity import DEBRIEF, Permission, normalise_user
from agent.incidents import IncidentRef, load_row
from agent.models import IncidentStatus, PostmortemStatus
from agent.postmortem import revisions
from agent.postmortem.draft import build_postmortem
from agent.postmortem.editing import Imported, ReviewEdits
from agent.postmortem.facts import Knowledge
from agent.postmortem.model import Postmortem
from agent.postmortem.naming import published_file_name
from agent.postmortem.records import PostmortemError, Records, StoredPostmortem, write_atomically
from agent.postmortem.review import carry_review
from agent.postmortem.revisions import Revision
from agent.progress import Announce
from agent.settings import Settings
from agent.store import add_audit
from agent.store.tables import PostmortemRow

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

PRIVATE_NOTE = "The incident is private: its postmortem is kept out of the knowledge base."
REVIEWABLE = (PostmortemStatus.DRAFT, PostmortemStatus.IN_REVIEW)
FINISHED = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)


class Unfinished(PostmortemError):
    """The postmortem still has an empty required section or a placeholder; the message names them."""


class KnowledgeStore(Knowledge, Protocol):
    """The knowledge base as publishing needs it (`agent.knowledge.KnowledgeBase` is one)."""

    def ingest(self, paths: Sequence[Path] = (), kind: str | None = None, progress: bool = True) -> Any: ...


class PostmortemWorkflow:
    """The postmortem steps for one engine; the knowledge base and the LLM are optional and opened lazily."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        knowledge: Callable[[], KnowledgeStore | None] | None = None,
        model: Callable[[], BaseChatModel | None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._open_knowledge = knowledge or (lambda: None)
        self._opened: KnowledgeStore | None = None
        self._lock = threading.Lock()
        self._model = model or (lambda: None)
        self._now = now
        self._records = Records(engine, settings)
        self._edits = ReviewEdits(engine, settings, self._records, now)

    def _knowledge(self) -> KnowledgeStore | None:
        """The knowledge base, opened on first use and kept (opening loads an embedding model)."""
        with self._lock:
            if self._opened is None:
                self._opened = self._open_knowledge()
            return self._opened

    @property
    def templates_dir(self) -> Path:
        return self._records.templates_dir

    def draft_path(self, incident_id: str) -> Path:
        return self._records.draft_path(incident_id)

    def draft(
        self, ref: IncidentRef, by: str = DEBRIEF, review: bool = True, announce: Announce | None = None
    ) -> StoredPostmortem:
        """Build and store the draft (status in_review when `review`, i.e. shared with the room; else draft).

        `announce` hears which incident is being drafted before the slow part (an LLM call, the knowledge base).
        """
        incident = self._engine.incidents.get(ref)
        self._require_draftable(incident.id, by)
        if announce is not None:
            announce(f"Drafting the postmortem of {incident.id}…")
        # The same gate as the filer's (no `today`), so the two never flip an item back and forth.
        apply_gate(self._engine.actions, self._engine.store, incident.id, normalise_user(by))
        built = build_postmortem(self._engine, incident.id, self._knowledge(), self._model())
        status = PostmortemStatus.IN_REVIEW if review else PostmortemStatus.DRAFT
        note = None
        with self._engine.store.write() as session:
            number = load_row(session, incident.id, for_update=True).number
            row = session.get(PostmortemRow, number)
            if row is None:
                row = PostmortemRow(incident_number=number, revision=0, reviewers=[])
                session.add(row)
            elif row.status == PostmortemStatus.PUBLISHED:
                raise PostmortemError(_published_refusal(incident.id))  # published while this one was built
            elif row.status == PostmortemStatus.APPROVED:
                note = f"the new draft replaces the {row.status} one, so it needs a new approval"
            previous = row.status
            # Carried into the new draft inside this transaction: nothing people wrote meanwhile is lost.
            postmortem = carry_review(self._records.document(row) if row.document else None, built)
            row.status, row.reviewers, row.approved_at = status.value, [], None
            row.revision, row.drafted_by, row.drafted_at = row.revision + 1, normalise_user(by), self._now()
            self._records.save(row, postmortem)
            entry = Revision(row.revision, self._now(), normalise_user(by), "draft", None, None)
            revisions.record(session, number, entry)
            detail = {
                "revision": row.revision,
                "from": previous,
                "to": status.value,
                "narrative": postmortem.generation.narrative,
            }
            add_audit(session, normalise_user(by), "postmortem_draft", incident.id, detail)
            stored = self._records.stored(row, note)
        self._records.write_draft_file(stored)
        return stored

    def _require_draftable(self, incident_id: str, by: str) -> None:
        """A published postmortem is never silently replaced (an admin reopens it); an approved one is drafted
        again only by the commander or an admin."""
        with self._engine.store.read() as session:
            row = session.get(PostmortemRow, load_row(session, incident_id).number)
            status = row.status if row else None
        if status == PostmortemStatus.PUBLISHED:
            raise PostmortemError(_published_refusal(incident_id))
        if status == PostmortemStatus.APPROVED:
            self._engine.incidents.require(incident_id, by, Permission.REDRAFT_POSTMORTEM)

    # People's edits (see editing.py): anyone who sees the incident.
    def add(self, ref: IncidentRef, kind: str, text: str, by: str) -> StoredPostmortem:
        return self._edits.add(ref, kind, text, by)

    def edit(self, ref: IncidentRef, section: str, text: str, by: str) -> StoredPostmortem:
        return self._edits.edit(ref, section, text, by)

    def export(self, ref: IncidentRef) -> str:
        return self._edits.export(ref)

    def import_file(self, ref: IncidentRef, text: str, by: str, source: str = "the file") -> Imported:
        return self._edits.import_file(ref, text, by, source)

    def history(self, ref: IncidentRef) -> list[Revision]:
        return self._edits.history(ref)

    def unfinished(self, ref: IncidentRef) -> list[str]:
        return self._edits.unfinished(ref)

    def reopen(self, ref: IncidentRef, by: str) -> StoredPostmortem:
        """An admin reopens a published postmortem for review; publishing it again replaces the published file."""
        incident = self._engine.incidents.require(ref, by, Permission.REOPEN_POSTMORTEM)
        who = normalise_user(by)
        with self._engine.store.write() as session:
            row = self._records.row(session, incident.id, for_update=True)
            if row.status != PostmortemStatus.PUBLISHED:
                raise PostmortemError(
                    f"{incident.id}'s postmortem is {row.status.replace('_', ' ')}, not published"
                )
            row.status, row.reviewers, row.approved_at = PostmortemStatus.IN_REVIEW.value, [], None
            row.markdown = self._records.render(row)
            detail = {"revision": row.revision, "from": PostmortemStatus.PUBLISHED.value, "to": row.status}
            add_audit(session, who, "postmortem_reopen", incident.id, detail)
            return self._records.stored(row)

    def show(self, ref: IncidentRef) -> StoredPostmortem:
        with self._engine.store.read() as session:
            return self._records.stored(self._records.row(session, ref))

    def preview(self, ref: IncidentRef) -> Postmortem:
        """What a new draft would be now: facts fresh from the timeline, the review's text kept. Stores nothing."""
        incident = self._engine.incidents.get(ref)
        built = build_postmortem(self._engine, incident.id, self._knowledge(), self._model())
        with self._engine.store.read() as session:
            row = session.get(PostmortemRow, load_row(session, incident.id).number)
            stored = self._records.document(row) if row is not None else None
        if stored is None or stored.status is PostmortemStatus.PUBLISHED:
            return carry_review(stored, built)
        return carry_review(stored, built).model_copy(
            update={"status": stored.status, "reviewers": stored.reviewers}
        )

    def approve(self, ref: IncidentRef, by: str) -> StoredPostmortem:
        """The commander or an admin approves the current draft of a resolved incident."""
        incident = self._engine.incidents.require(ref, by, Permission.APPROVE_POSTMORTEM)
        who = normalise_user(by)
        if incident.status not in FINISHED:
            raise PostmortemError(
                f"{incident.id} is still {incident.status.value}; resolve it before approving its postmortem"
            )
        with self._engine.store.write() as session:
            row = self._records.row(session, incident.id, for_update=True)
            if row.status == PostmortemStatus.PUBLISHED:
                raise PostmortemError(f"{incident.id}'s postmortem is already published")
            if who in row.reviewers:
                raise PostmortemError(f"you already approved {incident.id}'s postmortem")
            previous = row.status
            row.status, row.reviewers = PostmortemStatus.APPROVED.value, [*row.reviewers, who]
            row.approved_at = row.approved_at or self._now()
            row.markdown = self._records.render(row)
            detail = {"revision": row.revision, "from": previous, "to": row.status}
            add_audit(session, who, "postmortem_approve", incident.id, detail)
            return self._records.stored(row)

    def publish(self, ref: IncidentRef, by: str, announce: Announce | None = None) -> StoredPostmortem:
        """An admin publishes an approved postmortem into the knowledge base (`announce` hears it start)."""
        incident = self._engine.incidents.get(ref)
        who = normalise_user(by)
        self.require_publishable(incident.id, by)
        if announce is not None:
            announce(f"Publishing {incident.id}'s postmortem…")
        with self._engine.store.read() as session:
            row = self._records.row(session, incident.id)
            revision = row.revision
            markdown = self._records.render(row, PostmortemStatus.PUBLISHED)
        # File and ingest first, outside any transaction (ingesting can take seconds); a failure leaves the
        # postmortem approved, and publishing again rewrites the same file. A private incident's postmortem
        # stays in the data dir, out of the knowledge base.
        folder = self._settings.data_dir / "postmortems" / "published" if incident.private else None
        path = (folder or self._settings.knowledge_dir / "incidents") / published_file_name(incident)
        write_atomically(path, markdown)
        if not incident.private:
            self._ingest()
        with self._engine.store.write() as session:
            row = self._records.row(session, incident.id, for_update=True)
            if row.revision != revision or row.status != PostmortemStatus.APPROVED:
                raise PostmortemError(
                    f"{incident.id}'s postmortem changed while it was being published; try again"
                )
            row.status, row.markdown = PostmortemStatus.PUBLISHED.value, markdown
            row.published_at, row.published_path = self._now(), str(path)
            add_audit(
                session, who, "postmortem_publish", incident.id, {"revision": revision, "path": str(path)}
            )
            published = self._records.stored(row)
        notes = [PRIVATE_NOTE if incident.private else None, self._auto_file(incident.id)]
        return replace(published, note="\n".join(note for note in notes if note) or None)

    def require_publishable(self, ref: IncidentRef, by: str) -> None:
        """Raise the reason `by` cannot publish now (not an admin, already published, unfinished, no approval
        yet); checks only, fast."""
        incident = self._engine.incidents.require(ref, by, Permission.PUBLISH_POSTMORTEM)
        with self._engine.store.read() as session:
            row = self._records.row(session, incident.id)
            if row.status == PostmortemStatus.PUBLISHED:
                where = f": {row.published_path}" if row.published_path else ""
                raise PostmortemError(
                    f"{incident.id}'s postmortem is already published{where}. "
                    "An admin reopens it with !postmortem reopen to change it."
                )
            problems = self._edits.unfinished_row(row)
            if problems:
                raise Unfinished(
                    f"{incident.id}'s postmortem cannot be published yet: {'; '.join(problems)}. Complete it "
                    "with !postmortem edit SECTION TEXT (or export and import it), then approve it again."
                )
            if row.status != PostmortemStatus.APPROVED:
                raise PostmortemError(
                    f"{incident.id}'s postmortem is {row.status.replace('_', ' ')}; "
                    "it can be published only after !postmortem approve"
                )

    def _auto_file(self, incident_id: str) -> str | None:
        """With DEBRIEF_AUTO_FILE on, file the action items now; the outcome (or why not) as a note."""
        try:
            report = file_on_publish(self._engine, self._settings, incident_id)
        except DebriefError as exc:
            return f"the action items were not filed: {exc}"
        return None if report is None else report.summary()

    def _ingest(self) -> None:
        knowledge = self._knowledge()
        if knowledge is None:
            raise PostmortemError("publishing needs the knowledge base, and none is configured")
        # The whole knowledge dir (unchanged files are skipped), so the file's id matches `debrief ingest`'s.
        knowledge.ingest([self._settings.knowledge_dir], progress=False)


def _published_refusal(incident_id: str) -> str:
    return (
        f"{incident_id}'s postmortem is published; an admin reopens it with !postmortem reopen "
        "before it is drafted again"
    )
