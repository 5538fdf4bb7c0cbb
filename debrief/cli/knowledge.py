"""`debrief ingest` and `debrief search`: the knowledge base from the command line.

A store that fails (read-only, a full disk, a damaged file) is one line naming it. `search -` reads one query a
line from stdin as bytes: what is not UTF-8 becomes U+FFFD, a line longer than a query can be is read only as far
as it is searched, and a query that fails is reported on its own line while the others are answered.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from agent.errors import DebriefError
from agent.knowledge.relevance import RELEVANCE_FLOOR
from debrief.cli.app import TEXT, echo, echo_json, emit, main, settings_of, user_errors

if TYPE_CHECKING:
    from agent.knowledge import KnowledgeBase
    from agent.models import SearchHit
    from agent.settings import Settings


class _Score(click.FloatRange):
    """A number from 0 to 1; `nan` is none (every comparison with it is false, so FloatRange lets it in)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number between 0 and 1", param, ctx)
        return number


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
    """Ingest Markdown runbooks and postmortems (default: the knowledge dir), incrementally.

    With --forget, a path nothing was ingested from is an error (exit status 1), after the others are forgotten.
    """
    from agent.knowledge import open_knowledge_base
    from agent.knowledge.vectors import store_errors, store_location

    if forget and not paths:
        raise click.UsageError("--forget needs the folders or files to forget")
    if forget and kind:
        raise click.UsageError("--forget takes no --kind")
    settings = settings_of(ctx)
    with user_errors(), store_errors(store_location(settings)):
        knowledge = open_knowledge_base(settings)
        report = knowledge.forget(paths) if forget else knowledge.ingest(paths, kind)
    for skipped in report.skipped:
        echo(f"skipped {skipped.path}: {skipped.reason}", err=True)

    def human() -> None:
        if forget:
            echo(f"forgot {report.removed} documents in {report.seconds:.2f}s")
            return
        echo(
            f"ingested {report.files} files ({report.chunks} chunks), {report.unchanged} unchanged, "
            f"{report.removed} removed, {len(report.skipped)} skipped in {report.seconds:.2f}s"
        )

    emit(as_json, report.as_json(), human)
    for path in report.nothing_from:
        echo(f"debrief: error: nothing in the knowledge base was ingested from {path}", err=True)
    if report.nothing_from:
        sys.exit(1)


@main.command()
@click.argument("query", type=TEXT)
@click.option("--kind", type=click.Choice(["runbook", "incident", "any"]), default="any", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option(
    "--min-score",
    type=_Score(0, 1),
    default=RELEVANCE_FLOOR,
    show_default=True,
    help="Relevance floor (0-1, calibrated); 0 shows every candidate with its relevance.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def search(ctx: click.Context, query: str, kind: str, limit: int, min_score: float, as_json: bool) -> None:
    """Hybrid search of the knowledge base. QUERY '-' reads one query per line from stdin.

    The first 4000 characters of a query are searched (a note on stderr says when one is cut). With '-', each
    query gets one JSON line; one that fails gets `"error"` on its line, the others are answered, and the exit
    status is 1. A knowledge base never ingested is filled from the knowledge dir first, as `ask` and the bot do.
    """
    from agent.knowledge.vectors import store_errors, store_location

    if query != "-" and not query.strip():
        raise click.BadParameter("the query is empty: give the words to search for", param_hint="QUERY")
    settings = settings_of(ctx)
    where = store_location(settings)
    with user_errors(), store_errors(where):
        knowledge = _filled(settings)
    find = functools.partial(
        knowledge.search, kind=None if kind == "any" else kind, limit=limit, min_relevance=min_score
    )
    if query == "-":
        _answer_each_line(find, where)
        return
    text = _cut(query)
    with user_errors(), store_errors(where):
        hits = find(text)
    if as_json:
        echo_json({"query": text, "results": [hit.model_dump() for hit in hits]})
    else:
        _print_hits(text, hits, min_score)


def _answer_each_line(find: Callable[[str], list[SearchHit]], where: str) -> None:
    """One JSON line per query on stdin; a query that fails says why on its line, and the exit status is 1."""
    from agent.knowledge.vectors import store_errors

    failed = 0
    for text in _stdin_queries():
        try:
            with store_errors(where):
                hits = find(text)
        except DebriefError as exc:
            failed += 1
            echo_json({"query": text, "results": [], "error": str(exc)})
            continue
        echo_json({"query": text, "results": [hit.model_dump() for hit in hits]})
    if failed:
        echo(f"debrief: error: {failed} of the queries failed (their lines say why)", err=True)
        sys.exit(1)


def _filled(settings: Settings) -> KnowledgeBase:
    """The knowledge base, ingested from the knowledge dir first when it holds nothing."""
    from agent.knowledge import open_knowledge_base

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
    return knowledge


def _cut(query: str, quiet: bool = False) -> str:
    """What is searched of `query`: its first MAX_QUERY_CHARS characters (saying so on stderr when cut)."""
    from agent.knowledge.search import MAX_QUERY_CHARS

    if len(query) > MAX_QUERY_CHARS and not quiet:
        echo(
            f"debrief: the query has {len(query)} characters; its first {MAX_QUERY_CHARS} are searched",
            err=True,
        )
    return query[:MAX_QUERY_CHARS]


def _stdin_queries() -> Iterator[str]:
    """stdin's non-empty lines, stripped, as text (bytes that are not UTF-8 as U+FFFD). Of a line longer than a
    query can be, only what is searched is kept in memory: the rest is read and dropped, and stderr says so."""
    from agent.knowledge.search import MAX_QUERY_CHARS

    longest = MAX_QUERY_CHARS * 4  # bytes: UTF-8 takes at most 4 a character
    stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    if stream is None:  # no stdin at all
        return
    number = 0
    while line := stream.readline(longest):
        number += 1
        cut, tail = False, line
        while not tail.endswith(b"\n") and (tail := stream.readline(longest)):
            cut = True  # the rest of an over-long line
        text = line.decode("utf-8", "replace").strip()
        if cut or len(text) > MAX_QUERY_CHARS:
            echo(
                f"debrief: line {number} is longer than {MAX_QUERY_CHARS} characters: its start is searched",
                err=True,
            )
        if text := text[:MAX_QUERY_CHARS].strip():
            yield text


def _print_hits(query: str, hits: list[SearchHit], min_score: float) -> None:
    if not hits:
        hint = "; --min-score 0 shows the nearest ones" if min_score > 0 else ""
        echo(f"nothing in the knowledge base matches {query!r} (relevance below {min_score:g}{hint})")
        return
    for number, hit in enumerate(hits, start=1):
        where = f"{hit.title} > {hit.heading}" if hit.heading else hit.title
        echo(f"{number}. {hit.source}  [{hit.kind}]  {where}  (relevance {hit.relevance:.2f})")
        echo(f"   {hit.snippet}")
