"""`debrief postmortem (--incident ID | TRANSCRIPT.json) [--format markdown|json]`: the draft, printed.

A transcript is first replayed through the real bot (`debrief.bot.replay`), so its incident is in the data dir. The
draft is built and printed, not stored: reviewing, approving and publishing happen in chat (`!postmortem ...`).
The LLM narrative is used when an LLM is configured; the JSON form is the Postmortem model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from agent.engine import Engine
from agent.errors import DebriefError
from agent.knowledge import open_knowledge_or_none
from agent.llm import make_chat_model
from agent.postmortem import build_postmortem, render_json, render_markdown
from agent.settings import Settings
from debrief.cli.app import main, read_json_file, settings_of, user_errors

Format = Literal["markdown", "json"]


def postmortem_text(
    settings: Settings,
    incident_id: str | None = None,
    transcript: dict[str, object] | None = None,
    fmt: Format = "markdown",
) -> str:
    """The draft postmortem of `incident_id`, or of the incident the replayed `transcript` started."""
    if (incident_id is None) == (transcript is None):
        raise DebriefError("give either --incident ID or a transcript file, not both and not neither")
    if fmt not in ("markdown", "json"):
        raise DebriefError(f"unknown format {fmt!r}; use markdown or json")
    if transcript is not None:
        incident_id = _replayed_incident(settings, transcript)
    assert incident_id is not None
    engine = Engine.from_settings(settings)
    try:
        draft = build_postmortem(
            engine, incident_id, open_knowledge_or_none(settings), make_chat_model(settings)
        )
    finally:
        engine.close()
    if fmt == "json":
        return render_json(draft)
    return render_markdown(draft, settings.data_dir / "templates")


def _replayed_incident(settings: Settings, transcript: dict[str, object]) -> str:
    from debrief.bot.replay import replay

    result = replay(settings, transcript)
    if result.incident_id is None:
        raise DebriefError("the transcript never starts an incident (no `!incident start TITLE` message)")
    return result.incident_id


@main.command()
@click.argument("transcript", required=False, type=click.Path(path_type=Path))
@click.option("--incident", "incident_id", metavar="ID", help="Draft from this stored incident (e.g. INC-3).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.pass_context
def postmortem(ctx: click.Context, transcript: Path | None, incident_id: str | None, fmt: str) -> None:
    """Draft the blameless postmortem of --incident ID, or of TRANSCRIPT.json after replaying it."""
    with user_errors():
        if (transcript is None) == (incident_id is None):
            raise DebriefError("give either --incident ID or a TRANSCRIPT.json, not both or neither")
        source = read_json_file(transcript) if transcript else None
        # Built from redacted text and redacted whole once more (`build_postmortem`); printed as it is, so the
        # JSON form is never cut through by a second pass.
        click.echo(postmortem_text(settings_of(ctx), incident_id=incident_id, transcript=source, fmt=fmt))  # type: ignore[arg-type]
