"""A postmortem as the store keeps it: one row per incident (the document, its Markdown, the review state), and the
draft's Markdown file in the data dir. The workflow's steps and people's edits both go through here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from agent.engine import Engine
from agent.errors import DebriefError
from agent.incidents import IncidentRef, format_id, load_row
from agent.models import PostmortemStatus
from agent.postmortem.model import Postmortem
from agent.postmortem.render import render_markdown
from agent.redact import redact_tree
from agent.settings import Settings
from agent.store.tables import PostmortemRow


class PostmortemError(DebriefError):
    """A workflow rule was broken; the message says which and what to do."""


class NoDraft(PostmortemError):
    """The incident has no stored postmortem yet."""


@dataclass(frozen=True)
class StoredPostmortem:
    postmortem: Postmortem
    markdown: str
    revision: int
    draft_path: (
        Path  # the Markdown of the latest draft, in the data dir (for chats that cannot take it inline)
    )
    published_path: Path | None
    note: str | None = None  # what the last step changed besides the obvious (e.g. an approval was reset)


def render_named(engine: Engine, postmortem: Postmortem, templates_dir: Path) -> str:
    """The postmortem's Markdown with people by the names their chat platform shows (`agent.people`): the
    document keeps their ids (roles and filing use them); a person named twice (by id and by name) is one."""
    names = engine.people.names()
    participants = list(dict.fromkeys(names.get(person, person) for person in postmortem.participants))
    named = postmortem.model_copy(update={"participants": participants})
    return engine.people.named(render_markdown(named, templates_dir))


class Records:
    """The postmortems table of one engine, and the files next to it."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @property
    def templates_dir(self) -> Path:
        return self._settings.data_dir / "templates"

    def row(self, session: Session, ref: IncidentRef, for_update: bool = False) -> PostmortemRow:
        number = load_row(session, ref, roles=self._engine.roles).number
        found = session.get(PostmortemRow, number, with_for_update=for_update)
        if found is None:
            raise NoDraft(f"{format_id(number)} has no postmortem yet; draft one with !postmortem")
        return found

    def document(self, row: PostmortemRow) -> Postmortem:
        stored = Postmortem.model_validate_json(row.document)
        return stored.model_copy(
            update={"status": PostmortemStatus(row.status), "reviewers": list(row.reviewers)}
        )

    def render(self, row: PostmortemRow, status: PostmortemStatus | None = None) -> str:
        document = self.document(row)
        if status is not None:
            document = document.model_copy(update={"status": status})
        return render_named(self._engine, document, self.templates_dir)

    def save(self, row: PostmortemRow, postmortem: Postmortem) -> None:
        """Store the document (every string redacted: people's text is in it) and its Markdown."""
        clean = Postmortem.model_validate(redact_tree(postmortem.model_dump(mode="json")))
        row.document = clean.model_dump_json()
        row.markdown = self.render(row)

    def stored(self, row: PostmortemRow, note: str | None = None) -> StoredPostmortem:
        postmortem = self.document(row)
        return StoredPostmortem(
            postmortem=postmortem,
            markdown=row.markdown,
            revision=row.revision,
            draft_path=self.draft_path(postmortem.incident_id),
            published_path=Path(row.published_path) if row.published_path else None,
            note=note,
        )

    def draft_path(self, incident_id: str) -> Path:
        return self._settings.data_dir / "postmortems" / f"{incident_id}.md"

    def write_draft_file(self, stored: StoredPostmortem) -> None:
        write_atomically(stored.draft_path, stored.markdown)


def write_atomically(path: Path, text: str) -> None:
    """Readers (and the ingester) see the old file or the new one, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise PostmortemError(f"cannot write {path}: {exc.strerror or exc}") from None
