"""Every time Debrief keeps is a timezone-aware UTC datetime; naive times are refused, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.errors import DebriefError


class TimestampError(DebriefError):
    """A timestamp without a timezone: we cannot know which instant it means."""


def as_utc(at: datetime) -> datetime:
    """Return `at` converted to UTC; raise `TimestampError` when it has no timezone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise TimestampError(f"timestamp {at.isoformat()} has no timezone; pass an aware UTC time")
    return at.astimezone(UTC)
