"""`debrief incidents [--all]`: open and recent incidents, for the operator (every room, private ones too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from debrief.cli.app import echo, emit, main, settings_of, user_errors

if TYPE_CHECKING:
    from agent.models import Incident
    from agent.settings import Settings


def list_incidents(settings: Settings, include_all: bool = False) -> dict[str, Any]:
    """`{"incidents": [{"id", "title", "severity", "status", "commander", "room", "started_at"}, ...]}`."""
    from agent.engine import Engine

    engine = Engine.from_settings(settings)
    try:
        return {"incidents": [_json(incident) for incident in engine.incidents.list_recent(include_all)]}
    finally:
        engine.close()


def _json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.value if incident.severity else None,
        "status": incident.status.value,
        "commander": incident.commander,
        "room": incident.room,
        "started_at": incident.started_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "private": incident.private,
    }


@main.command()
@click.option("--all", "include_all", is_flag=True, help="Every incident, not only open and recent ones.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def incidents(ctx: click.Context, include_all: bool, as_json: bool) -> None:
    """Open incidents and those of the last two weeks (newest first)."""
    with user_errors():
        payload = list_incidents(settings_of(ctx), include_all)

    def human() -> None:
        now = datetime.now(UTC)
        for item in payload["incidents"]:
            age = now - datetime.fromisoformat(item["started_at"])
            severity = f" ({item['severity']})" if item["severity"] else ""
            who = f"commander {item['commander']}" if item["commander"] else "no commander"
            echo(
                f"{item['id']} {item['title']}{severity} {item['status']}, {who}, {item['room']}, "
                f"started {item['started_at']} ({age.days}d ago)"
            )
        if not payload["incidents"]:
            echo("no incidents")

    emit(as_json, payload, human)
