"""Filing as people ask for it (`!actions file`, `debrief actions --file`) and as publishing does it.

One call checks who asks, files every pending item exactly once, reads the tickets' status back and lists the
items as they now stand, so chat and the command line do and say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.engine import Engine
from agent.filing.filer import Filer, FilingError
from agent.filing.listing import ActionListing, list_actions
from agent.filing.report import FilingReport
from agent.identity import DEBRIEF, NotAllowed, Permission
from agent.incidents import IncidentRef
from agent.progress import Announce
from agent.settings import Settings


@dataclass(frozen=True)
class FilingRun:
    report: FilingReport
    listing: ActionListing

    def as_json(self) -> dict[str, Any]:
        """`debrief actions --file --json`: the listing, and the run with the summary the chat reply shows."""
        filing = {**self.report.as_json(), "summary": self.report.summary()}
        return {**self.listing.as_json(), "filing": filing}


def file_and_sync(
    engine: Engine,
    settings: Settings,
    incident: IncidentRef | None,
    by: str,
    announce: Announce | None = None,
) -> FilingRun:
    """File the pending items (one incident's, or all) to every configured tracker, then sync their status.

    The incident's commander (before one is named: whoever started it) and admins may; every incident at once
    only admins and the operator. `FilingError` when no tracker is configured. `announce` hears, once the
    caller is allowed and before any tracker is called, what is being filed where: a chat says so at once.
    """
    if not settings.trackers:
        raise FilingError("No tracker is configured: set DEBRIEF_TRACKERS to jira and/or github first.")
    incident_id = None
    if incident is not None:
        incident_id = engine.incidents.require(incident, by, Permission.FILE_ACTIONS).id
    elif not engine.roles.is_admin(by):
        raise NotAllowed("only an admin can file every incident's action items at once")
    if announce is not None:
        whose = f"{incident_id}'s" if incident_id else "every incident's"
        announce(f"Filing {whose} action items to {', '.join(settings.trackers)}…")
    filer = Filer.from_settings(engine, settings)
    try:
        report = filer.file_pending(incident_id, by=by)
        filer.sync_status(incident_id, by=by)
    finally:
        filer.close()
    return FilingRun(report, list_actions(engine, settings, incident_id, sync=False))


def file_on_publish(engine: Engine, settings: Settings, incident_id: str) -> FilingReport | None:
    """File the incident's items when `DEBRIEF_AUTO_FILE` is on and a tracker is configured; else None.

    For the postmortem workflow to call right after publishing (the publisher was already checked).
    """
    if not settings.auto_file or not settings.trackers:
        return None
    filer = Filer.from_settings(engine, settings)
    try:
        return filer.file_pending(incident_id, by=DEBRIEF)
    finally:
        filer.close()
