"""Where a signal goes, without guessing.

1. A signal whose sender named an incident goes there.
2. A signal whose thread already went somewhere follows it (a resolution its firing, a deployment status its
   deployment, a PagerDuty acknowledgement its trigger, wherever that was routed or attached by hand).
3. Otherwise its routing labels are tried in order: the first whose value (or the service it is an alias of)
   is a service of an open incident wins; among several such incidents, the newest.
4. Otherwise it goes nowhere: it is kept as unmatched, and the reason says which labels were tried. A signal
   that names no service is never put on "the only open incident".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.incidents import load_row
from agent.signals.rules import SignalRules
from agent.signals.signal import Signal
from agent.store.tables import OPEN_STATUSES, IncidentRow, IncidentServiceRow, SignalRow


@dataclass(frozen=True)
class Route:
    """The incident's number, or None with the reason it matched none."""

    number: int | None
    reason: str = ""


class Router:
    """Routes a batch of signals inside one transaction (the open incidents' services are read once)."""

    def __init__(self, session: Session, rules: SignalRules) -> None:
        self._session = session
        self._rules = rules
        self._services = _open_services(session, rules)

    def route(self, signal: Signal) -> Route:
        if signal.incident:
            return Route(load_row(self._session, signal.incident).number)
        followed = self.followed(signal.thread_key, signal.source)
        if followed is not None:
            return Route(followed)
        for _label, value in signal.routing:
            numbers = self._services.get(self._rules.service(value))
            if numbers:
                return Route(numbers[0])
        return Route(None, self._unmatched_reason(signal))

    def followed(self, thread: str, source: str) -> int | None:
        """The incident an earlier signal of `thread` went to, if any."""
        query = (
            select(SignalRow.incident_number)
            .where(
                SignalRow.thread == thread,
                SignalRow.source != source,
                SignalRow.incident_number.is_not(None),
            )
            .order_by(SignalRow.id.desc())
            .limit(1)
        )
        return self._session.scalars(query).first()

    def _unmatched_reason(self, signal: Signal) -> str:
        if not signal.routing:
            labels = ", ".join(self._rules.labels)
            return f"names no service (routing labels: {labels}); attach it with !incident signals attach"
        tried = ", ".join(f"{label}={value}" for label, value in signal.routing)
        return f"no open incident has the service {tried}"


def _open_services(session: Session, rules: SignalRules) -> dict[str, list[int]]:
    """Service (as aliases resolve it) -> the open incidents that have it, newest first."""
    query = (
        select(IncidentServiceRow.name, IncidentRow.number)
        .join(IncidentRow, IncidentRow.number == IncidentServiceRow.incident_number)
        .where(IncidentRow.status.in_(OPEN_STATUSES))
        .order_by(IncidentRow.number.desc())
    )
    services: dict[str, list[int]] = defaultdict(list)
    for name, number in session.execute(query):
        services[rules.service(name)].append(number)
    return dict(services)
