"""A postmortem's revisions: every change to its text, who made it, when, how and to what (migration 13).

A new draft is one row (`draft`, no section); people's changes (`add`, `edit`, `import`) are one row per section
they changed, with the section's new text (or the item added). Rows are written in the change's own transaction;
the text passes the redactor on its way in (`RedactedText`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.tables import PostmortemRevisionRow

PEOPLE = ("add", "edit", "import")


@dataclass(frozen=True)
class Revision:
    revision: int
    at: datetime
    by: str
    change: str  # draft, add, edit, import
    section: str | None
    text: str | None


def record(session: Session, number: int, entry: Revision) -> None:
    session.add(
        PostmortemRevisionRow(
            incident_number=number,
            revision=entry.revision,
            at=entry.at,
            author=entry.by,
            change=entry.change,
            section=entry.section,
            text=entry.text,
        )
    )


def history(session: Session, number: int) -> list[Revision]:
    """The incident's revisions, oldest first."""
    query = (
        select(PostmortemRevisionRow)
        .where(PostmortemRevisionRow.incident_number == number)
        .order_by(PostmortemRevisionRow.revision, PostmortemRevisionRow.id)
    )
    return [
        Revision(row.revision, row.at, row.author, row.change, row.section, row.text)
        for row in session.scalars(query)
    ]


def people_changes_since(
    session: Session, number: int, revision: int, other_than: str | None = None
) -> dict[str, Revision]:
    """The latest change people (other than `other_than`) made to each section after `revision`: what an import
    must not overwrite."""
    latest: dict[str, Revision] = {}
    for entry in history(session, number):
        if entry.revision > revision and entry.change in PEOPLE and entry.section and entry.by != other_than:
            latest[entry.section] = entry
    return latest
