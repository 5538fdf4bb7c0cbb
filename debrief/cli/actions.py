"""`debrief actions [--incident ID] [--file | --overdue]`: action items with their tickets; `--file` files the
pending ones (and updates the tickets of items changed since); `--overdue` lists open items past their due date.

`list_actions` and `file_actions` give the JSON payloads (DESIGN.md §3.1): each opens the configured database,
calls the engine once (`agent.filing`) as the operator, and closes it. Progress goes to stderr.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from agent.identity import OPERATOR
from debrief.cli.app import TEXT, echo, emit, main, settings_of, user_errors

if TYPE_CHECKING:
    from agent.settings import Settings


def list_actions(settings: Settings, incident_id: str | None = None) -> dict[str, Any]:
    """`{"actions": [{"id", "number", "ref", "title", "owner", "due", "status", "refs", ...}]}`, one incident's
    or all; `id` is the database's, `ref` (`INC-3/A2`) names the item as people do."""
    from agent.engine import Engine
    from agent.filing import list_actions as listing_of

    engine = Engine.from_settings(settings)
    try:
        return listing_of(engine, settings, incident_id, by=OPERATOR, announce=_progress).as_json()
    finally:
        engine.close()


def file_actions(settings: Settings, incident_id: str | None = None) -> dict[str, Any]:
    """File the pending items (as `!actions file` does): the listing afterwards plus the filing report."""
    from agent.engine import Engine
    from agent.filing import file_and_sync

    engine = Engine.from_settings(settings)
    try:
        return file_and_sync(engine, settings, incident_id, OPERATOR, announce=_progress).as_json()
    finally:
        engine.close()


def overdue(settings: Settings) -> dict[str, Any]:
    """Every incident's open items whose due date is before today (UTC), oldest due first; same fields."""
    from agent.engine import Engine
    from agent.filing import overdue_actions

    engine = Engine.from_settings(settings)
    try:
        today = datetime.now(UTC).date()
        return overdue_actions(engine, settings, today, asker=OPERATOR, announce=_progress).as_json()
    finally:
        engine.close()


def _progress(text: str) -> None:
    echo(text, err=True)


@main.command()
@click.option(
    "--incident", "incident_id", type=TEXT, metavar="ID", help="Only this incident's items (e.g. INC-3)."
)
@click.option(
    "--file",
    "file_pending",
    is_flag=True,
    help="File the pending items to the configured trackers (exit status 1 if any filing fails).",
)
@click.option(
    "--overdue", "only_overdue", is_flag=True, help="Only open items past their due date, of every incident."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def actions(
    ctx: click.Context, incident_id: str | None, file_pending: bool, only_overdue: bool, as_json: bool
) -> None:
    """List action items with their tickets and status; --file files the pending ones (exactly once).

    With --file the exit status is 1 when a filing or a ticket update failed or was left pending (a wrong token,
    a tracker that did not answer): the summary says which.
    """
    with user_errors():
        settings = settings_of(ctx)
        if only_overdue and (file_pending or incident_id):
            raise click.UsageError(
                "--overdue lists every incident's overdue items; it takes no --file or --incident"
            )
        if only_overdue:
            payload = overdue(settings)
        elif file_pending:
            payload = file_actions(settings, incident_id)
        else:
            payload = list_actions(settings, incident_id)

    def human() -> None:
        for item in payload["actions"]:
            owner = f" @{item['owner']}" if item["owner"] else ""
            due = f" due {item['due']}" if item["due"] else ""
            refs = f"  {', '.join(item['refs'])}" if item["refs"] else ""
            echo(f"{item['ref']} [{item['status']}] {item['title']}{owner}{due}{refs}")
        if not payload["actions"]:
            echo("no action items")
        if "filing" in payload:
            echo(payload["filing"]["summary"])

    emit(as_json, payload, human)
    undone = _not_done(payload)
    if undone:
        echo(
            f"debrief: error: {undone} filings or ticket updates did not go through (said above); "
            "pending ones are retried later",
            err=True,
        )
        sys.exit(1)


# What a filing run leaves undone after trying: a tracker refused (wrong token, no project) or did not answer.
_UNDONE = ("failed", "update_failed", "pending", "update_pending")


def _not_done(payload: dict[str, Any]) -> int:
    results = payload.get("filing", {}).get("results", [])
    return sum(1 for result in results if result["outcome"] in _UNDONE)
