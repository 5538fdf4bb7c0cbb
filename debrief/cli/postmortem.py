"""`debrief postmortem`: the postmortem of an incident or a transcript, and a reviewer's round trip through a file.

- `(--incident ID | TRANSCRIPT.json) [--format markdown|json] [--draft]`: a transcript is first replayed through
  the real bot (`debrief.bot.replay`), so its incident is in the data dir. A published incident prints its published
  document; otherwise (or with `--draft`) a new draft is built from the timeline, with the review's text kept, and
  printed, not stored. The LLM narrative is used when an LLM is configured; the JSON form is the Postmortem model.
- `--incident ID --export FILE.md`: the stored postmortem as Markdown, to edit in any editor.
- `--incident ID --import FILE.md --by USER`: the review sections USER changed in the file come back (facts stay
  the timeline's); a section also changed in Debrief since the export is a conflict, reported and not imported
  (exit status 1). A file over MAX_IMPORT_BYTES is refused unread.
- `--json` is `--format json`, for every form (the export says where it wrote, as JSON).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from agent.errors import DebriefError
from debrief.cli.app import (
    TEXT,
    echo,
    echo_json,
    main,
    read_bounded,
    read_json_file,
    settings_of,
    user_errors,
)

if TYPE_CHECKING:
    from agent.engine import Engine
    from agent.postmortem import PostmortemWorkflow, StoredPostmortem
    from agent.postmortem.editing import Imported
    from agent.settings import Settings

Format = Literal["markdown", "json"]
# The largest file `--import` reads: an exported postmortem is tens of KB, a long one a few hundred.
MAX_IMPORT_BYTES = 5_000_000


def postmortem_text(
    settings: Settings,
    incident_id: str | None = None,
    transcript: dict[str, object] | None = None,
    fmt: Format = "markdown",
    draft: bool = False,
) -> str:
    """The postmortem of `incident_id`, or of the incident the replayed `transcript` started: its published
    document, else (and with `draft`) a new draft with the review's text kept, not stored."""
    if (incident_id is None) == (transcript is None):
        raise DebriefError("give either --incident ID or a transcript file, not both and not neither")
    if fmt not in ("markdown", "json"):
        raise DebriefError(f"unknown format {fmt!r}; use markdown or json")
    if transcript is not None:
        incident_id = _replayed_incident(settings, transcript)
    assert incident_id is not None
    from agent.engine import Engine
    from agent.postmortem import render_json
    from agent.postmortem.records import render_named

    engine = Engine.from_settings(settings)
    try:
        workflow = _workflow(engine, settings)
        published = None if draft else _published(workflow, incident_id)
        if published is not None:
            return render_json(published.postmortem) if fmt == "json" else published.markdown
        document = workflow.preview(incident_id)
        if fmt != "json":  # people by name, as in the stored Markdown
            return render_named(engine, document, settings.data_dir / "templates")
    finally:
        engine.close()
    return render_json(document)


def export_postmortem(settings: Settings, incident_id: str, path: Path) -> str:
    """Write the stored postmortem to `path` for a reviewer; the incident's id as Debrief writes it."""
    from agent.engine import Engine
    from agent.postmortem import PostmortemWorkflow

    engine = Engine.from_settings(settings)
    try:
        text = PostmortemWorkflow(engine, settings).export(incident_id)
        canonical = engine.incidents.get(incident_id).id
    finally:
        engine.close()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DebriefError(f"cannot write {path}: {exc.strerror or exc}") from None
    return canonical


def export_payload(incident_id: str, path: Path) -> dict[str, Any]:
    """`{"incident_id", "path", "import"}`: the file written and the command that reads it back."""
    command = f"debrief postmortem --incident {incident_id} --import {path} --by YOUR-NAME"
    return {"incident_id": incident_id, "path": str(path), "import": command}


def import_postmortem(settings: Settings, incident_id: str, path: Path, by: str) -> Imported:
    """Take the review sections `by` changed in `path` into the stored postmortem."""
    text = read_export_file(path)
    from agent.engine import Engine
    from agent.postmortem import PostmortemWorkflow

    engine = Engine.from_settings(settings)
    try:
        return PostmortemWorkflow(engine, settings).import_file(incident_id, text, by, source=str(path))
    finally:
        engine.close()


def read_export_file(path: Path) -> str:
    """The file's text: at most MAX_IMPORT_BYTES are read (an export is tens of KB; /dev/zero never ends)."""
    data = read_bounded(
        path, MAX_IMPORT_BYTES, " for an exported postmortem; export it again and edit that file"
    )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DebriefError(f"cannot read {path}: line {line} is not UTF-8; save the file as UTF-8") from None


def import_payload(result: Imported) -> dict[str, Any]:
    """`{"incident_id", "revision", "applied", "conflicts": [{"section", "by", "at", "revision"}], "missing",
    "note"}`."""
    return {
        "incident_id": result.stored.postmortem.incident_id,
        "revision": result.stored.revision,
        "applied": result.applied,
        "conflicts": [
            {
                "section": conflict.section.name,
                "by": conflict.change.by,
                "at": conflict.change.at.isoformat(),
                "revision": conflict.change.revision,
            }
            for conflict in result.conflicts
        ],
        "missing": result.missing,
        "note": result.stored.note,
    }


def import_summary(result: Imported) -> list[str]:
    """What the import did, in sentences."""
    from debrief.bot.chat import clock

    incident_id, revision = result.stored.postmortem.incident_id, result.stored.revision
    lines = (
        [f"Imported into {incident_id}'s postmortem (revision {revision}): {', '.join(result.applied)}."]
        if result.applied
        else [f"Nothing imported into {incident_id}'s postmortem."]
    )
    if result.stored.note:
        lines.append(f"Note: {result.stored.note}.")
    lines += [
        f"Conflict, not imported: {c.section.title.lower()} was changed in Debrief by {c.change.by} at "
        f"{clock(c.change.at)} (revision {c.change.revision}) after your export, and in your file. Export again "
        f"to see their text and carry your change over, or use !postmortem edit {c.section.name} TEXT."
        for c in result.conflicts
    ]
    lines += [f"Not in the file (left as it is): {', '.join(result.missing)}."] if result.missing else []
    return lines


def _published(workflow: PostmortemWorkflow, incident_id: str) -> StoredPostmortem | None:
    from agent.models import PostmortemStatus
    from agent.postmortem.records import NoDraft

    try:
        stored = workflow.show(incident_id)
    except NoDraft:
        return None
    return stored if stored.postmortem.status is PostmortemStatus.PUBLISHED else None


def _workflow(engine: Engine, settings: Settings) -> PostmortemWorkflow:
    from agent.knowledge import open_knowledge_or_none
    from agent.llm import make_chat_model
    from agent.postmortem import PostmortemWorkflow

    return PostmortemWorkflow(
        engine,
        settings,
        knowledge=lambda: open_knowledge_or_none(settings),
        model=lambda: make_chat_model(settings),
    )


def _replayed_incident(settings: Settings, transcript: dict[str, object]) -> str:
    from debrief.bot.replay import replay

    result = replay(settings, transcript)
    if result.incident_id is None:
        raise DebriefError("the transcript never starts an incident (no `!incident start TITLE` message)")
    return result.incident_id


@main.command()
@click.argument("transcript", required=False, type=click.Path(path_type=Path))
@click.option("--incident", "incident_id", type=TEXT, metavar="ID", help="A stored incident (e.g. INC-3).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout (--format json).")
@click.option("--draft", is_flag=True, help="A new draft from the timeline, even of a published postmortem.")
@click.option(
    "--export", "export_to", metavar="FILE.md", type=click.Path(path_type=Path), help="Write it to edit."
)
@click.option(
    "--import", "import_from", metavar="FILE.md", type=click.Path(path_type=Path), help="Read edits back."
)
@click.option("--by", type=TEXT, metavar="USER", help="Who made the imported edits (with --import).")
@click.pass_context
def postmortem(
    ctx: click.Context,
    transcript: Path | None,
    incident_id: str | None,
    fmt: str,
    as_json: bool,
    draft: bool,
    export_to: Path | None,
    import_from: Path | None,
    by: str | None,
) -> None:
    """The postmortem of --incident ID (published, else a new draft) or of TRANSCRIPT.json after replaying it;
    --export FILE.md / --import FILE.md --by USER for a review in an editor (a file of at most 5 MB)."""
    fmt = "json" if as_json else fmt
    with user_errors():
        if (transcript is None) == (incident_id is None):
            raise DebriefError("give either --incident ID or a TRANSCRIPT.json, not both or neither")
        _check_options(transcript, draft, export_to, import_from, by)
        settings = settings_of(ctx)
        if export_to is not None:
            assert incident_id is not None
            exported = export_payload(export_postmortem(settings, incident_id, export_to), export_to)
            if fmt == "json":
                echo_json(exported)
            else:
                echo(
                    f"Exported {exported['incident_id']}'s postmortem to {export_to}. Edit its review "
                    f"sections, then: {exported['import']}"
                )
            return
        if import_from is not None:
            assert incident_id is not None and by is not None
            result = import_postmortem(settings, incident_id, import_from, by)
            if fmt == "json":
                echo_json(import_payload(result))
            else:
                echo("\n".join(import_summary(result)))
            if result.conflicts:
                sys.exit(1)
            return
        source = read_json_file(transcript) if transcript else None
        # Built from redacted text and redacted whole once more (`build_postmortem`); printed as it is, so the
        # JSON form is never cut through by a second pass.
        text = postmortem_text(settings, incident_id, source, fmt, draft)  # type: ignore[arg-type]
        click.echo(text)


def _check_options(
    transcript: Path | None, draft: bool, export_to: Path | None, import_from: Path | None, by: str | None
) -> None:
    if export_to is not None and import_from is not None:
        raise DebriefError("give --export FILE.md or --import FILE.md, not both")
    if (export_to or import_from) and (transcript is not None or draft):
        raise DebriefError(
            "--export and --import work on a stored incident: use --incident ID, without --draft"
        )
    if import_from is not None and not (by or "").strip():
        raise DebriefError("--import needs --by USER: who made the edits (the audit trail names them)")
    if by is not None and import_from is None:
        raise DebriefError("--by goes with --import FILE.md")
