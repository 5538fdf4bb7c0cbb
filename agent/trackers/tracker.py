"""The one interface every issue-tracker adapter implements, and the pieces the adapters share.

Filing is exactly-once because every ticket carries its action item's idempotency key (a label and a
marker in the body) and callers look the key up with `find` before they `create`. `find` may lag a create
(Jira's JQL search is eventually consistent): a failed create says whether the tracker certainly did nothing
(`changed_nothing`), so the caller knows when a ticket may exist that `find` does not show yet.

After filing, a ticket follows its item: `update` makes it state the item's title, owner and due date, and
`close_ticket` closes it when the item is done or dropped. Both are idempotent (they set a state, they add
nothing), so a retry after a lost answer is harmless.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import requests

from agent.errors import DebriefError
from agent.identity import normalise_user
from agent.models import ActionItem
from agent.redact import redact

LABEL_PREFIX = "debrief-"
SOURCE_LABEL = "debrief"
MAX_TITLE = 255
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]+")
_REF = re.compile(r"(?P<tracker>[a-z]+):(?P<key>\S+)")
_RETRYABLE_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class TrackerError(DebriefError):
    """A tracker call failed; `retryable` says whether a later retry can succeed (outage, not bad config).

    `changed_nothing` is True only when the tracker certainly did not act on the request (it refused it, or
    it never reached the tracker); after a lost answer or a server error a write may have happened.
    """

    def __init__(self, message: str, *, retryable: bool, changed_nothing: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.changed_nothing = changed_nothing


@dataclass(frozen=True)
class TicketRef:
    """A filed ticket, written as `jira:OPS-12` or `github:acme/ops#7` (the form stored on action items)."""

    tracker: str
    key: str
    url: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.tracker}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> TicketRef:
        match = _REF.fullmatch(text.strip())
        if not match:
            raise ValueError(
                f"not a ticket reference: {text!r} (expected e.g. jira:OPS-12 or github:acme/ops#7)"
            )
        return cls(match["tracker"], match["key"])


class Closing(StrEnum):
    """Why a ticket is closed: its item was done, or dropped (GitHub's `completed` / `not_planned`)."""

    DONE = "done"
    DROPPED = "dropped"


class Tracker(Protocol):
    """An issue tracker that action items are filed to."""

    name: str

    def find(self, idempotency_key: str) -> TicketRef | None:
        """The ticket already filed for this key, if any (the earliest one, should there be several)."""
        ...

    def create(self, item: ActionItem, incident_title: str) -> TicketRef:
        """File one ticket for the item, carrying its idempotency key; does not look for an existing one."""
        ...

    def status(self, ref: TicketRef) -> str:
        """The tracker's own current status of the ticket (e.g. "To Do", "Done", "open", "closed")."""
        ...

    def update(self, ref: TicketRef, item: ActionItem, incident_title: str) -> None:
        """Make the ticket state the item as it is now: title, assignee (unassigned when the owner cannot be
        assigned), due date and the body's facts, keeping its key. Idempotent; never creates a ticket."""
        ...

    def close_ticket(self, ref: TicketRef, closing: Closing) -> str:
        """Close the ticket (a ticket already closed is left as it is) and return its status now."""
        ...

    def close(self) -> None:
        """Release connections; the tracker reconnects if used again."""
        ...


def key_label(key: str, max_length: int) -> str:
    """The label that carries `key`: readable when it fits the tracker's rules, else a stable hash of it."""
    label = key if key.startswith(LABEL_PREFIX) else f"{LABEL_PREFIX}{key}"
    if _SAFE_KEY.fullmatch(key) and len(label) <= max_length:
        return label
    return f"{LABEL_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def marker(key: str) -> str:
    """The marker written into a ticket's body so a person (or a label-less search) can tell it is ours."""
    return f"debrief:{key}"


def owner_handle(owner: str) -> str:
    """A chat handle as a tracker login: `@alice` -> `alice`."""
    return normalise_user(owner)


def details(item: ActionItem) -> list[tuple[str, str]]:
    """The facts every ticket states, as (label, value) pairs each adapter renders in its own markup."""
    rows = [("Owner", owner_handle(item.owner) if item.owner else "unassigned")]
    rows.append(("Due", item.due.isoformat() if item.due else "not set"))
    rows.append(("Kind", item.kind.value))
    if item.success_criteria:
        rows.append(("Success criteria", item.success_criteria))
    return rows


def ticket_title(item: ActionItem) -> str:
    """The item title, redacted and cut to the length every tracker accepts."""
    text = redact(item.title)
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def ticket_body(lines: list[str], key_marker: str) -> str:
    """A ticket body: the text redacted (tickets leave the process), then the key's marker line, untouched."""
    text = redact("\n".join(lines))
    return f"{text}\n\n{key_marker}"


def retryable_status(status: int | None) -> bool:
    """Server-side trouble and throttling are worth retrying; other 4xx (auth, validation) are not."""
    return status is not None and (status >= 500 or status in (408, 429))


def refused_status(status: int | None) -> bool:
    """A 4xx answer: the tracker refused the request (auth, validation, throttling) and changed nothing.

    A 5xx answer (or none) says nothing of the sort: a proxy's 502 or a crash after the commit may follow
    a write that happened.
    """
    return status is not None and 400 <= status < 500


def transport_error(where: str, action: str, exc: requests.RequestException) -> TrackerError:
    """A network-level failure (no usable HTTP answer) as a TrackerError; never includes request headers."""
    if isinstance(exc, requests.Timeout):
        what = "did not answer in time"
    elif isinstance(exc, _RETRYABLE_TRANSPORT):
        what = "could not be reached or cut the connection"
    else:
        what = f"gave an unusable answer ({type(exc).__name__})"
    retryable = isinstance(exc, _RETRYABLE_TRANSPORT)
    message = f"{where} {what} while trying to {action}."
    # Only a connect timeout proves the request never left; a reset or read timeout may follow a write.
    never_sent = isinstance(exc, requests.ConnectTimeout)
    return TrackerError(message, retryable=retryable, changed_nothing=never_sent)


def scrub(text: str, secret: str) -> str:
    """Remove a secret from a message that may echo server text."""
    return text.replace(secret, "***") if secret else text
