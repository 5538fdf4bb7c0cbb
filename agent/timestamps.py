"""Every time Debrief keeps is a timezone-aware UTC datetime; naive times are refused, not guessed.

Times that events claim for themselves (a chat message's, an alert's) must also be plausible: not before 1970 and
not more than a day ahead of this clock. A year-9999 alert or a year-1 message is refused with the reason, never
stored where it would sort every timeline wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.errors import DebriefError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


class TimestampError(DebriefError):
    """A timestamp without a timezone, or out of range: we cannot know which instant it means."""


def as_utc(at: datetime) -> datetime:
    """Return `at` converted to UTC; raise `TimestampError` when it has no timezone or no UTC equivalent."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise TimestampError(f"timestamp {at.isoformat()} has no timezone; pass an aware UTC time")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise TimestampError(f"timestamp {at.isoformat()} is out of range") from None


def event_time(at: datetime, now: datetime | None = None) -> datetime:
    """`at` in UTC, once it is a plausible time for something that happened (1970 up to a day from now)."""
    utc = as_utc(at)
    latest = (now or datetime.now(UTC)) + CLOCK_SKEW
    if not EARLIEST <= utc <= latest:
        raise TimestampError(
            f"timestamp {at.isoformat()} is out of range: events happen between 1970 and a day from now"
        )
    return utc
