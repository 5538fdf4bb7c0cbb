"""GitHub adapter: files action items as issues through PyGithub (github.com or Enterprise via api_url).

The idempotency key rides in a label (listed again with state=all) and a hidden body marker
`<!-- debrief:KEY -->`. The client is built on first use, so constructing a tracker does no I/O. A ticket is
updated and closed (`state_reason` completed or not_planned) with `PATCH /repos/{owner}/{repo}/issues/{n}`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Issue import Issue
from github.NamedUser import NamedUser
from github.Repository import Repository

from agent.markup import inert_markdown
from agent.models import ActionItem
from agent.trackers.tracker import (
    SOURCE_LABEL,
    Closing,
    TicketRef,
    TrackerError,
    details,
    key_label,
    marker,
    owner_handle,
    refused_status,
    retryable_status,
    scrub,
    ticket_body,
    ticket_title,
    transport_error,
)

MAX_LABEL = 50  # GitHub rejects longer label names
STATE_REASONS = {Closing.DONE: "completed", Closing.DROPPED: "not_planned"}
T = TypeVar("T")


class GitHubTracker:
    """Files to one repository (`owner/name`) with a token.

    `throttle` keeps PyGithub's pacing (0.25 s between requests, 1 s between writes), which GitHub asks
    integrations to respect; a local test server does not need it.
    """

    name = "github"

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = "https://api.github.com",
        timeout: float = 10.0,
        *,
        throttle: bool = True,
    ) -> None:
        self._token = token
        self._repository = repository
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._throttle = throttle
        self._client: Github | None = None
        self._repo: Repository | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubTracker(repository={self._repository!r}, api_url={self._api_url!r})"

    def find(self, idempotency_key: str) -> TicketRef | None:
        label = key_label(idempotency_key, MAX_LABEL)

        def earliest(github: Github) -> TicketRef | None:
            issues = list(self._repository_of(github).get_issues(labels=[label], state="all"))
            first = min(issues, key=lambda issue: issue.number, default=None)
            return None if first is None else self._ref(first.number, first.html_url)

        return self._call("look up a ticket", earliest)

    def create(self, item: ActionItem, incident_title: str) -> TicketRef:
        def file(github: Github) -> TicketRef:
            repo = self._repository_of(github)
            extra: dict[str, Any] = {}
            if item.owner and repo.has_in_assignees(owner_handle(item.owner)):
                extra["assignees"] = [owner_handle(item.owner)]
            labels = [SOURCE_LABEL, key_label(item.idempotency_key, MAX_LABEL)]
            issue = repo.create_issue(
                ticket_title(item), body=_body(item, incident_title), labels=labels, **extra
            )
            return self._ref(issue.number, issue.html_url)

        return self._call("create a ticket", file)

    def status(self, ref: TicketRef) -> str:
        return self._call(f"read the status of {ref.key}", lambda github: self._issue(github, ref).state)

    def update(self, ref: TicketRef, item: ActionItem, incident_title: str) -> None:
        def edit(github: Github) -> None:
            issue, repo = self._issue(github, ref), self._repo_of(github, ref)
            handle = owner_handle(item.owner) if item.owner else None
            assignees: list[NamedUser | str] = [handle] if handle and repo.has_in_assignees(handle) else []
            issue.edit(title=ticket_title(item), body=_body(item, incident_title), assignees=assignees)

        self._call(f"update {ref.key}", edit)

    def close_ticket(self, ref: TicketRef, closing: Closing) -> str:
        def close(github: Github) -> str:
            issue = self._issue(github, ref)
            if issue.state != "closed":
                issue.edit(state="closed", state_reason=STATE_REASONS[closing])
            return issue.state

        return self._call(f"close {ref.key}", close)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client, self._repo = None, None

    # -- internals -----------------------------------------------------------------------------
    def _github(self) -> Github:
        with self._lock:
            if self._client is None:
                self._client = Github(
                    base_url=self._api_url,
                    auth=Auth.Token(self._token),
                    timeout=max(1, math.ceil(self._timeout)),  # PyGithub insists on whole seconds
                    retry=None,
                    seconds_between_requests=0.25 if self._throttle else None,
                    seconds_between_writes=1.0 if self._throttle else None,
                )
            return self._client

    def _repository_of(self, github: Github) -> Repository:
        """The configured repository, fetched once (which also proves it exists and the token sees it)."""
        if self._repo is None:
            self._repo = github.get_repo(self._repository)
        return self._repo

    def _repo_of(self, github: Github, ref: TicketRef) -> Repository:
        """The repository a ticket is in: the configured one, or the one its ref names."""
        repository = _issue_number(ref)[0]
        return self._repository_of(github) if repository == self._repository else github.get_repo(repository)

    def _issue(self, github: Github, ref: TicketRef) -> Issue:
        return self._repo_of(github, ref).get_issue(_issue_number(ref)[1])

    def _call(self, action: str, run: Callable[[Github], T]) -> T:
        """Run one client operation, turning the client's exceptions into a TrackerError."""
        try:
            return run(self._github())
        except GithubException as exc:
            raise self._error(action, exc) from None
        except requests.RequestException as exc:
            raise transport_error(f"GitHub at {self._api_url}", action, exc) from None

    def _error(self, action: str, exc: GithubException) -> TrackerError:
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        reason = {
            401: "the token was refused; check GITHUB_TOKEN",
            404: f"repository {self._repository} or the issue was not found, or the token cannot see it",
        }.get(status) or str(data.get("message") or "no details")[:200]
        if status == 422 and data.get("errors"):
            reason += f" {_field_errors(data['errors'])}"
        message = f"GitHub at {self._api_url} could not {action} (HTTP {status}: {reason})."
        retryable = isinstance(exc, RateLimitExceededException) or retryable_status(status)
        return TrackerError(
            scrub(message, self._token), retryable=retryable, changed_nothing=refused_status(status)
        )

    def _ref(self, number: int, url: str) -> TicketRef:
        return TicketRef(self.name, f"{self._repository}#{number}", url=url)


def _issue_number(ref: TicketRef) -> tuple[str, int]:
    """`acme/ops#7` -> ("acme/ops", 7); a ref of another shape is a TrackerError nobody can retry."""
    repository, _, number = ref.key.rpartition("#")
    if not repository or not number.isdigit():
        message = f"{ref} is not a GitHub issue reference (owner/name#number)."
        raise TrackerError(message, retryable=False, changed_nothing=True)
    return repository, int(number)


def _body(item: ActionItem, incident_title: str) -> str:
    """The issue body; what people typed (the incident's title, the success criteria) is inert Markdown."""
    title = inert_markdown(incident_title)
    lines = [f"Action item {item.ref} of incident **{item.incident_id}** ({title}), filed by Debrief.", ""]
    lines += [f"- **{label}:** {inert_markdown(value)}" for label, value in details(item)]
    return ticket_body(lines, f"<!-- {marker(item.idempotency_key)} -->")


def _field_errors(errors: object) -> str:
    if not isinstance(errors, list):
        return ""
    parts = [f"{e.get('field')} {e.get('code')}" for e in errors if isinstance(e, dict)]
    return f"[{', '.join(parts)}]" if parts else ""
