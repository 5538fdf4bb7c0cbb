"""Where a published postmortem lives: `incidents/<date>-<id>-<slug>.md` under the knowledge dir."""

from __future__ import annotations

import re
import unicodedata

from agent.models import Incident
from agent.redact import redact

MAX_SLUG_CHARS = 60


def slug(text: str) -> str:
    """`Checkout 5xx spike!` -> `checkout-5xx-spike` (ASCII, lowercase, bounded)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:MAX_SLUG_CHARS].rstrip("-") or "incident"


def published_file_name(incident: Incident) -> str:
    """`2024-03-01-inc-1-checkout-5xx-spike.md`: dated by the incident's start, unique by its id.

    A file name is seen by everyone who lists the folder, indexes it or syncs it: it comes from redacted text.
    """
    return f"{incident.started_at.date().isoformat()}-{incident.id.lower()}-{slug(redact(incident.title))}.md"
