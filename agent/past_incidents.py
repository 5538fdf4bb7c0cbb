"""Past incidents as answers and postmortems name them: their id, their citation, and the repeat-incident warning
(a similar past incident whose action items are still open).

What a responder most needs from a past incident is often what was promised after it and never done: "INC-7 was
similar; its action item A2 (...) is still open". Only incidents of this Debrief have items to read; a past
incident from elsewhere (a postmortem file someone added) has none here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from agent.citations import Citation
from agent.engine import Engine
from agent.errors import DebriefError
from agent.models import OPEN_ACTION_STATUSES, ActionItem, Incident
from agent.redact import redact

_INCIDENT_ID = re.compile(r"\bINC-\d+\b", re.IGNORECASE)


def incident_query(incident: Incident) -> str:
    """What an incident is about, as a search for its runbooks and similar past incidents: its title, services,
    cause and impact."""
    return " ".join(p for p in (incident.title, *incident.services, incident.cause, incident.impact) if p)


def incident_id_in(title: str, source: str) -> str | None:
    """The incident a past incident's postmortem is about, from its title (`INC-127: ...`) or file name."""
    found = _INCIDENT_ID.search(f"{title} {source}")
    return found.group(0).upper() if found else None


def incident_citation(title: str, source: str) -> Citation:
    """How an answer cites a past incident: by its id when it has one (`INC-127: title`), else by its file."""
    incident_id = incident_id_in(title, source)
    if incident_id is None:
        return Citation(source=source, heading=title)
    heading = re.sub(rf"^\s*{re.escape(incident_id)}\b[\s:.-]*", "", title, flags=re.IGNORECASE)
    return Citation(source=incident_id, heading=heading or title)


def still_open(engine: Engine | None, incident_id: str | None) -> list[ActionItem]:
    """The open action items of `incident_id`, or none when it is not an incident of this Debrief."""
    if engine is None or incident_id is None:
        return []
    try:
        items = engine.actions.list(incident_id)
    except DebriefError:
        return []
    return [item for item in items if item.status in OPEN_ACTION_STATUSES]


def repeat_warning(
    incident_id: str, items: Sequence[ActionItem], scrub: Callable[[str], str] = redact
) -> str | None:
    """`INC-7 was similar; its action item A2 (title, owner bob, due 2024-03-15) is still open.`, or None."""
    if not items:
        return None
    described = "; ".join(_described(item, scrub) for item in items)
    one = len(items) == 1
    return f"{incident_id} was similar; its action item{'' if one else 's'} {described} {'is' if one else 'are'} still open."


def _described(item: ActionItem, scrub: Callable[[str], str]) -> str:
    details = [scrub(item.title)]
    details += [f"owner {item.owner}"] if item.owner else []
    details += [f"due {item.due.isoformat()}"] if item.due else []
    return f"{item.ref} ({', '.join(details)})"
