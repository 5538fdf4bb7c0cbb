"""`debrief ingest` and `debrief search`: the knowledge base from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from agent.errors import DebriefError
from agent.knowledge.relevance import RELEVANCE_FLOOR
from debrief.cli.app import echo, echo_json, emit, main, settings_of, user_errors


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--kind", type=click.Choice(["runbook", "incident"]), help="Kind of every file (default: by path)."
)
@click.option(
    "--forget", is_flag=True, help="Remove what was ingested from PATHS instead (they may be gone)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], kind: str | None, forget: bool, as_json: bool
) -> None:
    """Ingest Markdown runbooks and postmortems (default: the knowledge dir), incrementally."""
    from agent.knowledge import open_knowledge_base

    if forget and not paths:
        raise click.UsageError("--forget needs the folders or files to forget")
    if forget and kind:
        raise click.UsageError("--forget takes no --kind")
    with user_errors():
        knowledge = open_knowledge_base(settings_of(ctx))
        report = knowledge.forget(paths) if forget else knowledge.ingest(paths, kind)
    for skipped in report.skipped:
        echo(f"skipped {skipped.path}: {skipped.reason}", err=True)

    def human() -> None:
        echo(
            f"ingested {report.files} files ({report.chunks} chunks), {report.unchanged} unchanged, "
            f"{report.removed} removed, {len(report.skipped)} skipped in {report.seconds:.2f}s"
        )

    emit(as_json, report.as_json(), human)


@main.command()
@click.argument("query")
@click.option("--kind", type=click.Choice(["runbook", "incident", "any"]), default="any", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=RELEVANCE_FLOOR,
    show_default=True,
    help="Relevance floor (0-1, calibrated); 0 shows every candidate with its relevance.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def search(ctx: click.Context, query: str, kind: str, limit: int, min_score: float, as_json: bool) -> None:
    """Hybrid search of the knowledge base. QUERY '-' reads one query per line from stdin.

    A knowledge base never ingested is filled from the knowledge dir first, as `ask` and the bot do.
    """
    from agent.knowledge import open_knowledge_base

    settings = settings_of(ctx)
    with user_errors():
        knowledge = open_knowledge_base(settings)
        if knowledge.count() == 0:
            report = knowledge.ingest(progress=False)
            echo(
                f"the knowledge base was empty: ingested {report.files} files from {settings.knowledge_dir}",
                err=True,
            )
        if knowledge.count() == 0:
            raise DebriefError(
                f"the knowledge base is empty: put Markdown runbooks and postmortems in {settings.knowledge_dir} "
                "(DEBRIEF_KNOWLEDGE_DIR) or run `debrief ingest PATH`"
            )
        queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            if not text:
                continue
            hits = knowledge.search(
                text, kind=None if kind == "any" else kind, limit=limit, min_relevance=min_score
            )
            if as_json or query == "-":
                echo_json({"query": text, "results": [hit.model_dump() for hit in hits]})
            else:
                _print_hits(text, hits, min_score)


def _print_hits(query: str, hits: list[Any], min_score: float) -> None:
    if not hits:
        hint = "; --min-score 0 shows the nearest ones" if min_score > 0 else ""
        echo(f"nothing in the knowledge base matches {query!r} (relevance below {min_score:g}{hint})")
        return
    for number, hit in enumerate(hits, start=1):
        where = f"{hit.title} > {hit.heading}" if hit.heading else hit.title
        echo(f"{number}. {hit.source}  [{hit.kind}]  {where}  (relevance {hit.relevance:.2f})")
        echo(f"   {hit.snippet}")
