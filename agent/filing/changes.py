"""Changing an action item as people ask for it (`!action edit`, `!action done`, `!action drop`), tickets included.

One call makes the change (agent/actions/service.py: anyone who sees the incident may) and then brings the
item's filed tickets up to it at once (agent/filing/updates.py), so chat and the command line do and say the
same thing. A ticket the tracker could not update now is retried by the poller, or by the next change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from agent.actions import ActionChange
from agent.engine import Engine
from agent.filing.filer import Filer
from agent.filing.outbox import Outbox
from agent.filing.report import FilingResult
from agent.incidents import IncidentRef
from agent.progress import Announce
from agent.settings import Settings


@dataclass(frozen=True)
class ChangeRun:
    """The change, what became of each filed ticket, and the tickets no configured tracker can update."""

    change: ActionChange
    tickets: list[FilingResult] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)  # refs on trackers DEBRIEF_TRACKERS no longer names


def edit_action(
    engine: Engine,
    settings: Settings,
    incident: IncidentRef,
    number: int,
    *,
    title: str | None = None,
    owner: str | None = None,
    due: date | None = None,
    by: str,
    at: datetime,
    announce: Announce | None = None,
) -> ChangeRun:
    """Edit the item (what is given; the gate runs), then update its tickets."""
    change = engine.actions.edit(incident, number, title=title, owner=owner, due=due, by=by, at=at)
    return _follow(engine, settings, change, by, announce)


def complete_action(
    engine: Engine,
    settings: Settings,
    incident: IncidentRef,
    number: int,
    *,
    by: str,
    announce: Announce | None = None,
) -> ChangeRun:
    """Mark the item done, then close its tickets as completed."""
    return _follow(engine, settings, engine.actions.done(incident, number, by=by), by, announce)


def drop_action(
    engine: Engine,
    settings: Settings,
    incident: IncidentRef,
    number: int,
    reason: str,
    *,
    by: str,
    announce: Announce | None = None,
) -> ChangeRun:
    """Drop the item with the reason, then close its tickets as not planned."""
    return _follow(engine, settings, engine.actions.drop(incident, number, reason, by=by), by, announce)


def _follow(
    engine: Engine, settings: Settings, change: ActionChange, by: str, announce: Announce | None
) -> ChangeRun:
    """Update the item's stale tickets on the configured trackers; `announce` hears which, before any call."""
    if not change.changed or not change.item.refs:
        return ChangeRun(change)
    stale = Outbox(engine.store).stale(action_id=change.item.id)
    configured = [entry for entry in stale if entry.tracker in settings.trackers]
    untracked = [str(entry.ref) for entry in stale if entry.tracker not in settings.trackers]
    if not configured:
        return ChangeRun(change, [], untracked)
    if announce is not None:
        refs = ", ".join(str(entry.ref) for entry in configured)
        announce(f"Updating {change.item.qualified_ref}'s tickets: {refs}…")
    filer = Filer.from_settings(engine, settings)
    try:
        return ChangeRun(change, filer.update_tickets(change.item.id, by=by), untracked)
    finally:
        filer.close()
