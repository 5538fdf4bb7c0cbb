"""Signals an incident claims when it gets a service: what the reply to `!incident start` or `!incident service
add` says of them."""

from __future__ import annotations

from agent.engine import Engine
from agent.incidents import IncidentRef
from agent.settings import Settings
from agent.signals import SignalRules, claim_unmatched


def claimed_line(engine: Engine, settings: Settings, incident: IncidentRef, by: str) -> list[str]:
    """Put the unmatched signals naming the incident's services on it (`claim_unmatched`); a line saying which,
    or nothing."""
    claimed = claim_unmatched(engine, SignalRules.from_settings(settings), incident, by)
    if not claimed:
        return []
    ids = ", ".join(f"{found.signal_id} (E{found.event_id})" for found in claimed)
    return [f"Earlier unmatched signals for its services are on its timeline now: {ids}."]
