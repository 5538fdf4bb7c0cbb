"""The `debrief` command (DESIGN.md §3.1). Each command parses, calls one engine function, prints.

`--json` output goes to stdout; logs and progress go to stderr. Errors are one line, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from agent.errors import DebriefError, SettingsError
from agent.redact import install_log_redaction
from agent.settings import Settings, check_services, load_settings

log = logging.getLogger("debrief")


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn Debrief's errors into one clear line and a non-zero exit."""
    try:
        yield
    except SettingsError as exc:
        click.echo(f"debrief: configuration error: {exc}", err=True)
        sys.exit(2)
    except DebriefError as exc:
        click.echo(f"debrief: error: {exc}", err=True)
        sys.exit(1)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _emit(as_json: bool, payload: dict[str, Any], human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        human()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Debrief: the incident channel's assistant, timeline keeper and postmortem writer."""
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # some libraries (bm25s) set their own loggers to DEBUG
    install_log_redaction()
    with _user_errors():
        settings = load_settings()
        check_services(settings)
    ctx.obj = settings


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--kind", type=click.Choice(["runbook", "incident"]), help="Kind of every file (default: by path)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], kind: str | None, as_json: bool) -> None:
    """Ingest Markdown runbooks and postmortems (default: the knowledge dir), incrementally."""
    from agent.knowledge import open_knowledge_base

    with _user_errors():
        report = open_knowledge_base(_settings(ctx)).ingest(paths, kind)
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.path}: {skipped.reason}", err=True)

    def human() -> None:
        click.echo(
            f"ingested {report.files} files ({report.chunks} chunks), {report.unchanged} unchanged, "
            f"{report.removed} removed, {len(report.skipped)} skipped in {report.seconds:.2f}s"
        )

    _emit(as_json, report.as_json(), human)


@main.command()
@click.argument("query")
@click.option("--kind", type=click.Choice(["runbook", "incident", "any"]), default="any", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def search(ctx: click.Context, query: str, kind: str, limit: int, as_json: bool) -> None:
    """Hybrid search of the knowledge base. QUERY '-' reads one query per line from stdin."""
    from agent.knowledge import open_knowledge_base

    with _user_errors():
        knowledge = open_knowledge_base(_settings(ctx))
        queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            if not text:
                continue
            hits = knowledge.search(text, kind=None if kind == "any" else kind, limit=limit)
            if as_json or query == "-":
                click.echo(json.dumps({"query": text, "results": [hit.model_dump() for hit in hits]}))
            else:
                _print_hits(text, hits)


def _print_hits(query: str, hits: list[Any]) -> None:
    if not hits:
        click.echo(f"no match for {query!r} in the knowledge base")
        return
    for number, hit in enumerate(hits, start=1):
        where = f"{hit.title} > {hit.heading}" if hit.heading else hit.title
        click.echo(f"{number}. {hit.source}  [{hit.kind}]  {where}")
        click.echo(f"   {hit.snippet}")


def read_json_file(path: Path) -> dict[str, object]:
    """A JSON object from a file, or one clear error saying what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DebriefError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DebriefError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DebriefError(f"{path} must hold a JSON object with 'room' and 'messages'")
    return data


@main.command()
@click.argument("transcript", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def replay(ctx: click.Context, transcript: Path, as_json: bool) -> None:
    """Feed TRANSCRIPT.json through the real bot, in order, and print every reply."""
    from debrief.replay import replay as run_replay

    with _user_errors():
        result = run_replay(_settings(ctx), read_json_file(transcript))

    def human() -> None:
        for reply in result.replies:
            click.echo(f"> {reply.to}\n{reply.text}\n")
        click.echo(f"incident: {result.incident_id or 'none'}")

    _emit(as_json, result.model_dump(), human)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Start the bot on the configured backend (DEBRIEF_BACKEND, default: the Text console)."""
    from debrief.bot import run_bot

    with _user_errors():
        run_bot(_settings(ctx))


@main.command()
@click.pass_context
def health(ctx: click.Context) -> None:
    """Exit 0 when the configuration is valid and the database opens (the container's health check)."""
    from agent.engine import Engine

    with _user_errors():
        Engine.from_settings(_settings(ctx)).close()
    click.echo("ok")


@main.command()
@click.option("--incident", "incident_id", metavar="ID", help="Only this incident's items (e.g. INC-3).")
@click.option(
    "--file", "file_pending", is_flag=True, help="File the pending items to the configured trackers."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def actions(ctx: click.Context, incident_id: str | None, file_pending: bool, as_json: bool) -> None:
    """List action items with their tickets and status; --file files the pending ones (exactly once)."""
    from debrief.actions import file_actions, list_actions

    with _user_errors():
        settings = _settings(ctx)
        payload = file_actions(settings, incident_id) if file_pending else list_actions(settings, incident_id)

    def human() -> None:
        for item in payload["actions"]:
            owner = f" @{item['owner']}" if item["owner"] else ""
            due = f" due {item['due']}" if item["due"] else ""
            refs = f"  {', '.join(item['refs'])}" if item["refs"] else ""
            click.echo(
                f"{item['incident_id']} A{item['id']} [{item['status']}] {item['title']}{owner}{due}{refs}"
            )
        if not payload["actions"]:
            click.echo("no action items")
        if "filing" in payload:
            click.echo(payload["filing"]["summary"])

    _emit(as_json, payload, human)


@main.command()
@click.argument("transcript", required=False, type=click.Path(path_type=Path))
@click.option("--incident", "incident_id", metavar="ID", help="Draft from this stored incident (e.g. INC-3).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.pass_context
def postmortem(ctx: click.Context, transcript: Path | None, incident_id: str | None, fmt: str) -> None:
    """Draft the blameless postmortem of --incident ID, or of TRANSCRIPT.json after replaying it."""
    from debrief.postmortem import postmortem as draft

    with _user_errors():
        if (transcript is None) == (incident_id is None):
            raise DebriefError("give either --incident ID or a TRANSCRIPT.json, not both or neither")
        source = read_json_file(transcript) if transcript else None
        click.echo(draft(_settings(ctx), incident_id=incident_id, transcript=source, fmt=fmt))  # type: ignore[arg-type]


@main.command()
@click.argument("question")
@click.option("--incident", "incident_id", metavar="ID", help="Answer in the context of this incident.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def ask(ctx: click.Context, question: str, incident_id: str | None, as_json: bool) -> None:
    """Ask the assistant; the answer cites its sources (retrieval-only without an LLM)."""
    from debrief.ask import ask as answer_question

    with _user_errors():
        answer = answer_question(_settings(ctx), question, incident_id)

    def human() -> None:
        click.echo(answer.answer)

    _emit(as_json, answer.model_dump(), human)
