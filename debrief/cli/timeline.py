"""`debrief timeline [INC-n] [--all] [--json]`: an incident's timeline, as scripts and tests see it.

Without INC-n it shows the newest open incident's. Key events by default, every event with `--all` (deleted chat
messages are left out, as everywhere). One engine call (`Timeline.events`), as the operator: no room limits it.
JSON: `{"incident_id", "events": [{"id", "at", "author", "kind", "key", "text"}]}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from agent.errors import DebriefError
from debrief.cli.app import TEXT, echo, emit, main, settings_of, user_errors

if TYPE_CHECKING:
    from agent.settings import Settings


def timeline_json(
    settings: Settings, incident_id: str | None = None, show_all: bool = False
) -> dict[str, Any]:
    """The timeline of `incident_id` (else the newest open incident) as the JSON `debrief timeline` prints."""
    from agent.engine import Engine

    engine = Engine.from_settings(settings)
    try:
        if incident_id is None:
            open_incidents = engine.incidents.list_open()
            if not open_incidents:
                raise DebriefError("there is no open incident; name one: debrief timeline INC-3")
            incident_id = open_incidents[-1].id
        incident_id = engine.incidents.get(incident_id).id
        events = engine.timeline.events(incident_id, key_only=not show_all)
    finally:
        engine.close()
    return {
        "incident_id": incident_id,
        "events": [
            {
                "id": event.id,
                "at": event.at.isoformat(),
                "author": event.author,
                "kind": event.kind.value,
                "key": event.key,
                "text": event.text,
            }
            for event in events
        ],
    }


@main.command()
@click.argument("incident_id", required=False, type=TEXT, metavar="[INC-n]")
@click.option("--all", "show_all", is_flag=True, help="Every event, not only the key ones.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def timeline(ctx: click.Context, incident_id: str | None, show_all: bool, as_json: bool) -> None:
    """An incident's timeline: key events, or every event with --all (default: the newest open incident)."""
    with user_errors():
        payload = timeline_json(settings_of(ctx), incident_id, show_all)

    def human() -> None:
        echo(f"{payload['incident_id']} {'events' if show_all else 'key events'}:")
        for event in payload["events"]:
            echo(f"E{event['id']}  {event['at']}  {event['author']}  [{event['kind']}]  {event['text']}")
        if not payload["events"]:
            echo("none yet")

    emit(as_json, payload, human)
