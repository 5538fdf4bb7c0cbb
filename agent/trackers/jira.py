"""Jira adapter: files action items as issues through the `jira` client (Server, Data Center or Cloud).

The idempotency key rides in a label (found again with JQL) and a marker line in the description.
The client is built on first use: `jira.JIRA` calls serverInfo when constructed. A ticket is updated with
`PUT /issue/{key}` and closed through the transitions its workflow offers (`GET /issue/{key}/transitions`), to
a status in the done category.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from agent.markup import inert_jira
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

MAX_LABEL = 255
# Fields a project's create screen may refuse; the description states them anyway, so we file without them.
OPTIONAL_FIELDS = frozenset({"assignee", "duedate"})
DONE_CATEGORY = "done"
# A done-category status or transition that says the work was not done: preferred when an item is dropped.
_NOT_DONE = re.compile(r"won.?t|cancel|declin|reject|not planned|obsolete|abandon|invalid|duplicate", re.I)
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

    def update(self, ref: TicketRef, item: ActionItem, incident_title: str) -> None:
        self._call(f"update {ref.key}", lambda jira: self._update(jira, ref.key, item, incident_title))

    def close_ticket(self, ref: TicketRef, closing: Closing) -> str:
        return self._call(f"close {ref.key}", lambda jira: self._close(jira, ref.key, closing))

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

    def _update(self, jira: JIRA, key: str, item: ActionItem, incident_title: str) -> None:
        """PUT the fields Debrief owns; an owner Jira cannot assign leaves the ticket unassigned."""
        fields: dict[str, Any] = {
            "summary": ticket_title(item),
            "description": _description(item, incident_title),
            "duedate": item.due.isoformat() if item.due else None,
            "assignee": self._assignee(jira, owner_handle(item.owner)) if item.owner else None,
        }
        issue = jira.issue(key, fields="summary")
        try:
            issue.update(fields=fields)
        except JIRAError as exc:
            refused = _refused_fields(exc)
            if not refused or not refused <= OPTIONAL_FIELDS:
                raise
            # Nothing was changed (HTTP 400): update once more without the fields the edit screen refuses.
            issue.update(
                fields={name: value for name, value in fields.items() if name not in OPTIONAL_FIELDS}
            )

    def _close(self, jira: JIRA, key: str, closing: Closing) -> str:
        """Transition to a done-category status unless the ticket is in one already; its status name after."""
        status = jira.issue(key, fields="status").raw["fields"]["status"]
        if _category(status) == DONE_CATEGORY:
            return str(status["name"])
        offered: list[dict[str, Any]] = jira.transitions(key)
        done = [transition for transition in offered if _category(transition.get("to")) == DONE_CATEGORY]
        if not done:
            names = ", ".join(str(transition.get("name")) for transition in offered) or "none"
            raise TrackerError(
                f"Jira at {self._url} could not close {key}: from {status['name']} its workflow offers no "
                f"transition to a done status (offered: {names}); close it in Jira.",
                retryable=False,
                changed_nothing=True,
            )
        chosen = _closing_transition(done, closing)
        jira.transition_issue(key, str(chosen["id"]))
        return str(chosen["to"]["name"])

    def _fields(self, item: ActionItem, incident_title: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": self._project},
            "issuetype": {"name": self._issue_type},
            "summary": ticket_title(item),
            "description": _description(item, incident_title),
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


def _description(item: ActionItem, incident_title: str) -> str:
    """The description: what people typed (the incident's title, the success criteria) is inert wiki markup."""
    lines = [
        f"Action item {item.ref} of incident {item.incident_id} ({inert_jira(incident_title)}), filed by Debrief.",
        "",
    ]
    lines += [f"*{label}:* {inert_jira(value)}" for label, value in details(item)]
    return ticket_body(lines, marker(item.idempotency_key))


def _category(status: object) -> str | None:
    """The status category key (`new`, `indeterminate`, `done`) of a status JSON object."""
    category = status.get("statusCategory") if isinstance(status, dict) else None
    return str(category.get("key")) if isinstance(category, dict) else None


def _closing_transition(done: list[dict[str, Any]], closing: Closing) -> dict[str, Any]:
    """A done-category transition that says what happened: `Won't Do` for a dropped item, `Done` otherwise
    (the first offered when none says so)."""

    def says_not_done(transition: dict[str, Any]) -> bool:
        return bool(_NOT_DONE.search(f"{transition.get('name')} {(transition.get('to') or {}).get('name')}"))

    fitting = [t for t in done if says_not_done(t) == (closing is Closing.DROPPED)]
    return (fitting or done)[0]


def _refused_fields(exc: JIRAError) -> set[str]:
    """The field names a 400 answer to a create complains about."""
    if exc.status_code != 400 or exc.response is None:
        return set()
    try:
        errors = exc.response.json().get("errors") or {}
    except ValueError:
        return set()
    return set(errors) if isinstance(errors, dict) else set()
