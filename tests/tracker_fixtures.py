"""Fixtures for the tracker tests: an action item to file, and one object per vendor that starts its fake server,
builds the real adapter against it and reads back what the fake stored, so one contract suite runs against
both (tests/test_tracker_contract.py). Vendor-only behaviour is tested in tests/test_trackers_<vendor>.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Generic, Self, TypeVar

from agent.models import ActionItem
from agent.trackers import GitHubTracker, JiraTracker, TicketRef
from agent.trackers.tracker import Tracker
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.fakes.server import FakeServer

INCIDENT = "Checkout 5xx spike"
KEY = "debrief-INC-7-A1"  # the shape agent.actions.idempotency_key gives; it is already a valid label

S = TypeVar("S", bound=FakeServer)


def action(**overrides: object) -> ActionItem:
    fields: dict[str, object] = {
        "id": 1,
        "incident_id": "INC-7",
        "title": "Alert on payment gateway timeouts",
        "owner": "@alice",
        "due": date(2024, 3, 15),
        "success_criteria": "page fires within 2 minutes of p99 > 2s",
        "idempotency_key": KEY,
    }
    fields.update(overrides)
    return ActionItem.model_validate(fields)


@dataclass(frozen=True)
class Stored:
    """A ticket as the fake tracker stored it, in the same terms for every vendor."""

    title: str
    body: str
    labels: list[str]
    assignees: list[str]
    due: str | None  # the due-date field, where the tracker has one


class TrackerVendor(ABC, Generic[S]):
    """One vendor's adapter and fake: build the tracker, steer the fake, read what it stored.

    Tickets are numbered from 1 in the order the fake stored them.
    """

    name: ClassVar[str]  # as in TicketRef: "jira", "github"
    token_setting: ClassVar[str]  # the setting a refused-credentials error tells the operator to check
    wrong_token: ClassVar[str]  # a refused token shaped like a real one
    statuses: ClassVar[tuple[str, str]]  # the tracker's status of a new ticket, then of a closed one
    dropped: ClassVar[tuple[str, str]]  # a ticket closed because its item was dropped: status, `closed_as`
    slow: ClassVar[tuple[float, float]]  # a client timeout, and a server delay that exceeds it
    empty_title_refusal: ClassVar[tuple[str, ...]]  # what refusing an empty title says
    has_due_date: ClassVar[bool]  # a due-date field (else the due date is only in the body)

    def __init__(self, server: S) -> None:
        self.server = server

    @classmethod
    @abstractmethod
    def fake(cls) -> S:
        """A new fake server of this tracker, not started yet."""

    @classmethod
    @contextmanager
    def serving(cls) -> Iterator[Self]:
        with cls.fake() as server:
            yield cls(server)

    @abstractmethod
    def tracker(self, token: str | None = None, timeout: float = 5.0, url: str | None = None) -> Tracker:
        """The real adapter pointed at the fake (or at `url`), with the fake's credentials unless `token`."""

    def dead_url(self) -> str:
        """A URL where a fake of this tracker listened and nothing listens now."""
        with self.fake() as gone:
            return gone.url

    @abstractmethod
    def make_assignable(self, login: str) -> None: ...

    @abstractmethod
    def lag_lookups(self, seconds: float) -> None:
        """Make the lookup `find` uses show a new ticket only `seconds` after it was created (0: at once)."""

    @abstractmethod
    def close_ticket(self, number: int) -> None: ...

    @abstractmethod
    def closed_as(self, number: int) -> str:
        """How the tracker says a ticket ended: Jira's status, GitHub's `closed (state_reason)`."""

    @abstractmethod
    def transitions(self) -> list[str]:
        """The requests ("METHOD /path") so far that opened or closed a ticket."""

    @abstractmethod
    def ticket_key(self, number: int) -> str: ...

    def ref(self, number: int) -> TicketRef:
        return TicketRef(self.name, self.ticket_key(number))

    @abstractmethod
    def ticket_url(self, number: int) -> str: ...

    @abstractmethod
    def stored(self, number: int) -> Stored: ...

    @abstractmethod
    def tickets(self) -> list[str]:
        """The keys of every stored ticket."""

    @abstractmethod
    def labelled(self, label: str) -> list[str]:
        """The keys of the stored tickets that carry `label`."""

    @abstractmethod
    def marker(self, key: str) -> str:
        """The line of a ticket's body that carries the idempotency key."""

    @abstractmethod
    def owner_line(self, owner: str) -> str:
        """How a ticket's body names its owner."""

    @abstractmethod
    def owner_lookup(self, login: str) -> str:
        """The request ("METHOD /path") the tracker makes to see whether `login` can be assigned."""

    @abstractmethod
    def last_search(self) -> dict[str, list[str]]:
        """The query parameters that selected tickets in the tracker's last search."""

    @abstractmethod
    def search_for(self, label: str) -> dict[str, list[str]]:
        """What `last_search` should be after looking up the tickets carrying `label`, open or closed."""


class JiraVendor(TrackerVendor[JiraServer]):
    name = "jira"
    token_setting = "JIRA_API_TOKEN"
    wrong_token = "wrong-token-ATATT3xFfGF0"
    statuses = ("To Do", "Done")
    dropped = ("Won't Do", "Won't Do")
    slow = (0.3, 1.0)
    empty_title_refusal = ("HTTP 400", "You must specify a summary of the issue.")
    has_due_date = True

    @classmethod
    def fake(cls) -> JiraServer:
        return JiraServer()

    def tracker(self, token: str | None = None, timeout: float = 5.0, url: str | None = None) -> JiraTracker:
        server = self.server
        return JiraTracker(
            url or server.url, server.user, token or server.token, server.project, timeout=timeout
        )

    def make_assignable(self, login: str) -> None:
        self.server.add_user(login)

    def lag_lookups(self, seconds: float) -> None:
        self.server.search_lag = seconds

    def close_ticket(self, number: int) -> None:
        self.server.set_status(self.ticket_key(number), "Done")

    def closed_as(self, number: int) -> str:
        return self.server.status_of(self.ticket_key(number))

    def transitions(self) -> list[str]:
        return [
            call for call in self.server.calls() if call.startswith("POST") and call.endswith("/transitions")
        ]

    def ticket_key(self, number: int) -> str:
        return f"{self.server.project}-{number}"

    def ticket_url(self, number: int) -> str:
        return f"{self.server.url}/browse/{self.ticket_key(number)}"

    def stored(self, number: int) -> Stored:
        fields = self.server.fields(self.ticket_key(number))
        assignee = fields["assignee"]
        return Stored(
            title=fields["summary"],
            body=fields["description"],
            labels=fields["labels"],
            assignees=[assignee["name"]] if assignee else [],
            due=fields["duedate"],
        )

    def tickets(self) -> list[str]:
        with self.server.lock:
            return list(self.server.issues)

    def labelled(self, label: str) -> list[str]:
        return self.server.with_label(label)

    def marker(self, key: str) -> str:
        return f"debrief:{key}"

    def owner_line(self, owner: str) -> str:
        return f"*Owner:* {owner}"

    def owner_lookup(self, login: str) -> str:
        return "GET /rest/api/2/user/search"

    def last_search(self) -> dict[str, list[str]]:
        searches = [r for r in self.server.requests if r.path == "/rest/api/2/search"]
        return {"jql": searches[-1].query["jql"]}

    def search_for(self, label: str) -> dict[str, list[str]]:
        return {"jql": [f'project = "{self.server.project}" AND labels = "{label}" ORDER BY created ASC']}


class GitHubVendor(TrackerVendor[GitHubServer]):
    name = "github"
    token_setting = "GITHUB_TOKEN"
    wrong_token = "ghp_wrongTokenAbC123xyz"
    statuses = ("open", "closed")
    dropped = ("closed", "closed (not_planned)")
    slow = (1, 1.5)  # PyGithub takes whole seconds
    empty_title_refusal = ("HTTP 422", "title missing_field")
    has_due_date = False

    @classmethod
    def fake(cls) -> GitHubServer:
        return GitHubServer()

    def tracker(
        self, token: str | None = None, timeout: float = 5.0, url: str | None = None
    ) -> GitHubTracker:
        server = self.server
        return GitHubTracker(
            token or server.token, server.repository, url or server.api_url, timeout, throttle=False
        )

    def make_assignable(self, login: str) -> None:
        self.server.assignable.add(login)

    def lag_lookups(self, seconds: float) -> None:
        self.server.listing_lag = seconds

    def close_ticket(self, number: int) -> None:
        self.server.set_state(number, "closed")

    def closed_as(self, number: int) -> str:
        with self.server.lock:
            issue = self.server.issues[number]
            return f"{issue['state']} ({issue['state_reason']})" if issue["state_reason"] else issue["state"]

    def transitions(self) -> list[str]:
        """GitHub opens and closes with the same PATCH that edits: every PATCH that carried a state."""
        with self.server.lock:
            return [str(r) for r in self.server.requests if r.method == "PATCH" and "state" in (r.body or {})]

    def ticket_key(self, number: int) -> str:
        return f"{self.server.repository}#{number}"

    def ticket_url(self, number: int) -> str:
        return f"{self.server.url}/{self.server.repository}/issues/{number}"

    def stored(self, number: int) -> Stored:
        with self.server.lock:
            issue = self.server.issues[number]
            return Stored(
                title=issue["title"],
                body=issue["body"],
                labels=[label["name"] for label in issue["labels"]],
                assignees=[user["login"] for user in issue["assignees"]],
                due=None,
            )

    def tickets(self) -> list[str]:
        with self.server.lock:
            return [self.ticket_key(number) for number in self.server.issues]

    def labelled(self, label: str) -> list[str]:
        return [self.ticket_key(number) for number in self.server.with_label(label)]

    def marker(self, key: str) -> str:
        return f"<!-- debrief:{key} -->"

    def owner_line(self, owner: str) -> str:
        return f"**Owner:** {owner}"

    def owner_lookup(self, login: str) -> str:
        return f"GET {self.server.prefix}/repos/{self.server.repository}/assignees/{login}"

    def last_search(self) -> dict[str, list[str]]:
        path = f"{self.server.prefix}/repos/{self.server.repository}/issues"
        listing = [r for r in self.server.requests if r.method == "GET" and r.path == path][-1]
        return {"labels": listing.query["labels"], "state": listing.query["state"]}

    def search_for(self, label: str) -> dict[str, list[str]]:
        return {"labels": [label], "state": ["all"]}
