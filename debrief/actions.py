"""`debrief actions [--incident ID] [--file]`: the JSON payloads (DESIGN.md §3.1); `debrief/cli.py` prints them.

Both open the configured database, call the engine once, and close it. With trackers configured, listing first
reads each filed ticket's current status back from its tracker (an unreachable tracker keeps the last known one).
"""

from __future__ import annotations

from typing import Any

from agent.engine import Engine
from agent.filing import Filer, refresh_statuses
from agent.filing_report import ticket_json
from agent.outbox import Outbox
from agent.settings import Settings

CLI_ACTOR = "cli"


def list_actions(settings: Settings, incident_id: str | None = None, *, sync: bool = True) -> dict[str, Any]:
    """`{"actions": [{"id", "title", "owner", "due", "status", "refs", ...}]}`, one incident's or all."""
    engine = Engine.from_settings(settings)
    try:
        if sync:
            refresh_statuses(engine, settings, incident_id, by=CLI_ACTOR)
        return {"actions": _actions(engine, incident_id)}
    finally:
        engine.close()


def file_actions(settings: Settings, incident_id: str | None = None) -> dict[str, Any]:
    """File the pending items (as `!actions file` does); the listing afterwards plus the filing report.

    `filing.summary` is the same text the chat reply shows, for the human-readable output.
    """
    engine = Engine.from_settings(settings)
    try:
        filer = Filer.from_settings(engine, settings)
        try:
            report = filer.file_pending(incident_id, by=CLI_ACTOR)
            filer.sync_status(incident_id, by=CLI_ACTOR)
        finally:
            filer.close()
        filing = {**report.as_json(), "summary": report.summary()}
        return {"actions": _actions(engine, incident_id), "filing": filing}
    finally:
        engine.close()


def _actions(engine: Engine, incident_id: str | None) -> list[dict[str, Any]]:
    tickets = Outbox(engine.store).by_action(incident_id)
    return [
        {
            "id": item.id,
            "incident_id": item.incident_id,
            "title": item.title,
            "owner": item.owner,
            "due": item.due.isoformat() if item.due else None,
            "status": item.status.value,
            "refs": list(item.refs),
            "tickets": [ticket_json(entry) for entry in tickets.get(item.id, [])],
        }
        for item in engine.actions.list(incident_id)
    ]
