"""Jira adapter: files action items as issues through the `jira` client (Server, Data Center or Cloud).

The idempotency key rides in a label (found again with JQL) and a marker line in the description.
The client is built on first use: `jira.JIRA` calls serverInfo when constructed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from agent.markup import inert_jira
from agent.models import ActionItem
from agent.trackers.tracker import (
    SOURCE_LABEL,
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

MAX_LABEL = 255
# Fields a project's create screen may refuse; the description states them anyway, so we file without them.
OPTIONAL_FIELDS = frozenset({"assignee", "duedate"})
T = TypeVar("T")


class JiraTracker:
    """Files to one Jira project with basic auth (user + API token)."""

    name = "jira"

    def __init__(
        self,
        url: str,
        user: str,
        token: str,
        project: str,
        timeout: float = 10.0,
        *,
        issue_type: str = "Task",
    ) -> None:
        self._url = url.rstrip("/")
        self._user = user
        self._token = token
        self._project = project
        self._timeout = timeout
        self._issue_type = issue_type
        self._client: JIRA | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JiraTracker(url={self._url!r}, project={self._project!r})"

    def find(self, idempotency_key: str) -> TicketRef | None:
        label = key_label(idempotency_key, MAX_LABEL)
        jql = f'project = "{self._project}" AND labels = "{label}" ORDER BY created ASC'
        issues = self._call(
            "look up a ticket", lambda jira: jira.search_issues(jql, maxResults=1, fields="summary")
        )
        return self._ref(issues[0].key) if issues else None

    def create(self, item: ActionItem, incident_title: str) -> TicketRef:
        return self._ref(self._call("create a ticket", lambda jira: self._create(jira, item, incident_title)))

    def status(self, ref: TicketRef) -> str:
        issue = self._call(f"read the status of {ref.key}", lambda jira: jira.issue(ref.key, fields="status"))
        return str(issue.raw["fields"]["status"]["name"])

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]  # jira leaves close() unannotated
                self._client = None

    # -- internals -----------------------------------------------------------------------------
    def _create(self, jira: JIRA, item: ActionItem, incident_title: str) -> str:
        fields = self._fields(item, incident_title)
        if item.owner:
            assignee = self._assignee(jira, owner_handle(item.owner))
            if assignee:
                fields["assignee"] = assignee
        try:
            return str(jira.create_issue(fields=fields, prefetch=False).key)
        except JIRAError as exc:
            refused = _refused_fields(exc)
            if not refused or not refused <= OPTIONAL_FIELDS or not refused & fields.keys():
                raise
        # Nothing was created (HTTP 400): file once more without the fields this project refuses.
        kept = {name: value for name, value in fields.items() if name not in OPTIONAL_FIELDS}
        return str(jira.create_issue(fields=kept, prefetch=False).key)

    def _fields(self, item: ActionItem, incident_title: str) -> dict[str, Any]:
        # What people typed (the incident's title, the success criteria) is inert wiki markup.
        lines = [
            f"Action item from incident {item.incident_id} ({inert_jira(incident_title)}), filed by Debrief.",
            "",
        ]
        lines += [f"*{label}:* {inert_jira(value)}" for label, value in details(item)]
        fields: dict[str, Any] = {
            "project": {"key": self._project},
            "issuetype": {"name": self._issue_type},
            "summary": ticket_title(item),
            "description": ticket_body(lines, marker(item.idempotency_key)),
            "labels": [SOURCE_LABEL, key_label(item.idempotency_key, MAX_LABEL)],
        }
        if item.due:
            fields["duedate"] = item.due.isoformat()
        return fields

    def _assignee(self, jira: JIRA, handle: str) -> dict[str, str] | None:
        """The assignee field for the user `handle` names exactly, or None when no such user is visible."""
        cloud = jira.deploymentType == "Cloud"
        try:
            users = (
                jira.search_users(query=handle, maxResults=20)
                if cloud
                else jira.search_users(user=handle, maxResults=20)
            )
        except JIRAError as exc:
            if retryable_status(exc.status_code):
                raise
            return None  # user search is often forbidden to bots: file unassigned
        for user in users:
            raw: dict[str, Any] = user.raw or {}
            email = str(raw.get("emailAddress") or "")
            names = {
                raw.get("name"),
                raw.get("accountId"),
                raw.get("displayName"),
                email,
                email.split("@")[0],
            }
            if handle.lower() in {str(name).lower() for name in names if name}:
                return {"accountId": raw["accountId"]} if cloud else {"name": raw["name"]}
        return None

    def _jira(self) -> JIRA:
        with self._lock:
            if self._client is None:
                self._client = JIRA(
                    server=self._url,
                    basic_auth=(self._user, self._token),
                    timeout=self._timeout,
                    max_retries=0,
                )
            return self._client

    def _call(self, action: str, run: Callable[[JIRA], T]) -> T:
        """Run one client operation, turning the client's exceptions into a TrackerError."""
        try:
            return run(self._jira())
        except JIRAError as exc:
            raise self._error(action, exc) from None
        except requests.RequestException as exc:
            raise transport_error(f"Jira at {self._url}", action, exc) from None

    def _error(self, action: str, exc: JIRAError) -> TrackerError:
        status = exc.status_code
        reason = {
            401: "the credentials were refused; check JIRA_USER and JIRA_API_TOKEN",
            403: f"the user may not do this in project {self._project}",
            404: "not found",
        }.get(status or 0) or (exc.text or "no details").strip().splitlines()[0][:200]
        message = f"Jira at {self._url} could not {action} (HTTP {status or '?'}: {reason})."
        return TrackerError(
            scrub(message, self._token),
            retryable=retryable_status(status),
            changed_nothing=refused_status(status),
        )

    def _ref(self, key: str) -> TicketRef:
        return TicketRef(self.name, key, url=f"{self._url}/browse/{key}")


def _refused_fields(exc: JIRAError) -> set[str]:
    """The field names a 400 answer to a create complains about."""
    if exc.status_code != 400 or exc.response is None:
        return set()
    try:
        errors = exc.response.json().get("errors") or {}
    except ValueError:
        return set()
    return set(errors) if isinstance(errors, dict) else set()
