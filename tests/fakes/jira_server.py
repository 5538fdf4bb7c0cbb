"""A fake Jira (REST API v2) that speaks enough of the wire protocol for the real `jira` client.

Covers: serverInfo, field, issue create/get/edit (`PUT /issue/{key or id}`), transitions (`GET` and `POST
/issue/{key}/transitions`, through a small workflow with done-category statuses `Done` and `Won't Do`), JQL
search (`/search` on Server, `/search/jql` on Cloud) for `project = X AND labels = "Y"`, and user search. Basic
auth is checked on every request.

Like Jira Cloud's search, which is eventually consistent, JQL results can lag writes: with `search_lag`
seconds, an issue shows in searches only that long after it was created (`GET /issue/{key}` shows it at
once). The default, 0, is read-after-write.
"""

from __future__ import annotations

import base64
import copy
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tests.fakes.server import FakeServer, Request, Response, Route

Deployment = Literal["Server", "Cloud"]
API = "/rest/api/2"
STATUSES = {
    "To Do": {"id": "10000", "name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
    "In Progress": {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    "Done": {"id": "10001", "name": "Done", "statusCategory": {"key": "done", "name": "Done"}},
    "Won't Do": {"id": "10002", "name": "Won't Do", "statusCategory": {"key": "done", "name": "Done"}},
}
# status -> the transitions it offers: (id, name, target status); Jira Software's default workflow, roughly.
WORKFLOW: dict[str, list[tuple[str, str, str]]] = {
    "To Do": [
        ("11", "Start Progress", "In Progress"),
        ("31", "Done", "Done"),
        ("51", "Won't Do", "Won't Do"),
    ],
    "In Progress": [("21", "Stop Progress", "To Do"), ("31", "Done", "Done"), ("51", "Won't Do", "Won't Do")],
    "Done": [("41", "Reopen", "To Do")],
    "Won't Do": [("41", "Reopen", "To Do")],
}
FIELDS = (
    "summary",
    "description",
    "labels",
    "duedate",
    "assignee",
    "status",
    "project",
    "issuetype",
    "created",
)
_CLAUSE = re.compile(r'\s*(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*')


@dataclass(frozen=True)
class JiraUser:
    name: str
    display_name: str
    email: str
    account_id: str
    assignable: bool = True

    def json(self, base_url: str, cloud: bool) -> dict[str, Any]:
        query = f"accountId={self.account_id}" if cloud else f"username={self.name}"
        return {
            "self": f"{base_url}{API}/user?{query}",
            "name": self.name,
            "key": self.name,
            "accountId": self.account_id,
            "displayName": self.display_name,
            "emailAddress": self.email,
            "active": True,
        }


class JiraServer(FakeServer):
    """In-memory Jira with one project; `issues` maps issue key -> raw issue JSON."""

    name = "fake-jira"

    def __init__(
        self,
        project: str = "OPS",
        user: str = "bot@example.com",
        token: str = "jira-secret-token",
        deployment: Deployment = "Server",
        search_lag: float = 0.0,
    ) -> None:
        super().__init__()
        self.project = project
        self.user = user
        self.token = token
        self.deployment = deployment
        self.search_lag = search_lag  # seconds before a new issue shows in JQL searches; settable
        self.stale_searches = 0  # searches that missed a matching issue because of the lag
        self.issues: dict[str, dict[str, Any]] = {}
        self._created_at: dict[str, float] = {}  # issue key -> time.monotonic() when it was stored
        self._create_failures: list[int] = []
        self.users: list[JiraUser] = []
        self.issue_types = ("Task", "Bug", "Story")
        self.off_screen: set[str] = set()  # fields the create and edit screens refuse, as some projects do
        self.workflow = copy.deepcopy(WORKFLOW)  # settable: a workflow without a direct way to done

    # -- test helpers --------------------------------------------------------------------------
    def add_user(self, name: str, display_name: str | None = None, assignable: bool = True) -> JiraUser:
        user = JiraUser(
            name=name,
            display_name=display_name or name.title(),
            email=f"{name}@example.com",
            account_id=f"5b10ac8d82e05b22cc7d{len(self.users):04d}",
            assignable=assignable,
        )
        with self.lock:
            self.users.append(user)
        return user

    def fail_next_create(self, status: int = 502) -> None:
        """Answer the next issue create with `status` without storing anything (a create that did not happen)."""
        with self.lock:
            self._create_failures.append(status)

    def status_of(self, key: str) -> str:
        with self.lock:
            return str(self.issues[key]["fields"]["status"]["name"])

    def set_status(self, key: str, status: str) -> None:
        with self.lock:
            self.issues[key]["fields"]["status"] = STATUSES[status]

    def fields(self, key: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.issues[key]["fields"])

    def with_label(self, label: str) -> list[str]:
        with self.lock:
            return [key for key, issue in self.issues.items() if label in issue["fields"]["labels"]]

    # -- FakeServer ----------------------------------------------------------------------------
    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return header == f"Basic {expected}"

    def unauthorized(self) -> Response:
        return Response(401, {"errorMessages": ["Client must be authenticated to access this resource."]})

    def error(self, status: int) -> Response:
        return Response(status, {"errorMessages": [f"Service unavailable (injected {status})"], "errors": {}})

    def routes(self) -> list[tuple[str, str, Route]]:
        search = f"{API}/search/jql" if self.deployment == "Cloud" else f"{API}/search"
        return [
            ("GET", f"{API}/serverInfo", self._server_info),
            ("GET", f"{API}/field", self._fields),
            ("POST", f"{API}/issue", self._create),
            ("GET", f"{API}/issue/([^/]+)", self._get),
            ("PUT", f"{API}/issue/([^/]+)", self._edit),
            ("GET", f"{API}/issue/([^/]+)/transitions", self._transitions),
            ("POST", f"{API}/issue/([^/]+)/transitions", self._transition),
            ("GET", search, self._search),
            ("POST", search, self._search),
            ("GET", f"{API}/user/search", self._user_search),
        ]

    # -- routes --------------------------------------------------------------------------------
    def _server_info(self, request: Request, groups: tuple[str, ...]) -> Response:
        version = [1001, 0, 0] if self.deployment == "Cloud" else [9, 12, 2]
        return Response(
            200,
            {
                "baseUrl": self.url,
                "version": ".".join(map(str, version)),
                "versionNumbers": version,
                "deploymentType": self.deployment,
                "buildNumber": 9120002,
                "serverTitle": "Fake Jira",
            },
        )

    def _fields(self, request: Request, groups: tuple[str, ...]) -> Response:
        return Response(
            200,
            [
                {"id": name, "key": name, "name": name.title(), "custom": False, "clauseNames": [name]}
                for name in FIELDS
            ],
        )

    def _create(self, request: Request, groups: tuple[str, ...]) -> Response:
        if self._create_failures:
            return self.error(self._create_failures.pop(0))
        fields = dict((request.body or {}).get("fields", {}))
        errors = self._validate(fields)
        if errors:
            return Response(400, {"errorMessages": [], "errors": errors})
        number = len(self.issues) + 1
        key = f"{self.project}-{number}"
        issue_id = str(10000 + number)
        self.issues[key] = {
            "id": issue_id,
            "key": key,
            "self": f"{self.url}{API}/issue/{issue_id}",
            "fields": {
                "summary": fields["summary"],
                "description": fields.get("description"),
                "labels": list(fields.get("labels", [])),
                "duedate": fields.get("duedate"),
                "assignee": self._assignee(fields.get("assignee")),
                "status": STATUSES["To Do"],
                "project": {"id": "10000", "key": self.project, "name": self.project},
                "issuetype": {"id": "3", "name": fields["issuetype"]["name"]},
                "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            },
        }
        self._created_at[key] = time.monotonic()
        self.created()
        return Response(201, {"id": issue_id, "key": key, "self": self.issues[key]["self"]})

    def _validate(self, fields: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in fields
            if name in self.off_screen
        }
        if (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "valid project is required"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        for label in fields.get("labels", []):
            if " " in label or len(label) > 255:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        if fields.get("duedate") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["duedate"]):
            errors["duedate"] = "Error parsing date string"
        if fields.get("assignee") and self._assignee(fields["assignee"]) is None:
            errors["assignee"] = "User cannot be assigned issues."
        return errors

    def _assignee(self, ref: dict[str, str] | None) -> dict[str, Any] | None:
        if not ref:
            return None
        for user in self.users:
            if user.assignable and (ref.get("name") == user.name or ref.get("accountId") == user.account_id):
                return user.json(self.url, self.deployment == "Cloud")
        return None

    def _get(self, request: Request, groups: tuple[str, ...]) -> Response:
        issue = self._issue(groups[0])
        return Response(200, issue) if issue is not None else _no_issue()

    def _edit(self, request: Request, groups: tuple[str, ...]) -> Response:
        """`PUT /issue/{key}`: set the given fields (null clears one); 204 like Jira, 400 naming bad fields."""
        issue = self._issue(groups[0])
        if issue is None:
            return _no_issue()
        fields = dict((request.body or {}).get("fields", {}))
        errors: dict[str, str] = {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in fields
            if name in self.off_screen
        }
        if "summary" in fields and not fields["summary"]:
            errors["summary"] = "You must specify a summary of the issue."
        if fields.get("duedate") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["duedate"]):
            errors["duedate"] = "Error parsing date string"
        if fields.get("assignee") and self._assignee(fields["assignee"]) is None:
            errors["assignee"] = "User cannot be assigned issues."
        if errors:
            return Response(400, {"errorMessages": [], "errors": errors})
        for name in ("summary", "description", "duedate", "labels"):
            if name in fields:
                issue["fields"][name] = fields[name]
        if "assignee" in fields:
            issue["fields"]["assignee"] = self._assignee(fields["assignee"])
        self.updated()
        return Response(204)

    def _transitions(self, request: Request, groups: tuple[str, ...]) -> Response:
        issue = self._issue(groups[0])
        if issue is None:
            return _no_issue()
        offered = [
            {
                "id": transition_id,
                "name": name,
                "to": {**STATUSES[target], "self": f"{self.url}{API}/status/{STATUSES[target]['id']}"},
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isConditional": False,
            }
            for transition_id, name, target in self.workflow.get(issue["fields"]["status"]["name"], [])
        ]
        return Response(200, {"expand": "transitions", "transitions": offered})

    def _transition(self, request: Request, groups: tuple[str, ...]) -> Response:
        """`POST /issue/{key}/transitions` with `{"transition": {"id": ...}}`: 204, or 400 if not offered."""
        issue = self._issue(groups[0])
        if issue is None:
            return _no_issue()
        wanted = str(((request.body or {}).get("transition") or {}).get("id"))
        offered = {tid: target for tid, _, target in self.workflow.get(issue["fields"]["status"]["name"], [])}
        if wanted not in offered:
            message = f"Transition id '{wanted}' is not valid for this issue."
            return Response(400, {"errorMessages": [message], "errors": {}})
        issue["fields"]["status"] = STATUSES[offered[wanted]]
        self.updated()
        return Response(204)

    def _issue(self, key_or_id: str) -> dict[str, Any] | None:
        return next((i for i in self.issues.values() if key_or_id in (i["key"], i["id"])), None)

    def _search(self, request: Request, groups: tuple[str, ...]) -> Response:
        params = request.body or {name: values[0] for name, values in request.query.items()}
        try:
            clauses = parse_jql(str(params.get("jql", "")))
        except ValueError as exc:
            return Response(400, {"errorMessages": [str(exc)], "errors": {}})
        indexed_before = time.monotonic() - self.search_lag
        matching = {key: issue for key, issue in self.issues.items() if _matches(issue, clauses)}
        found = [issue for key, issue in matching.items() if self._created_at.get(key, 0.0) <= indexed_before]
        self.stale_searches += len(found) < len(matching)
        if self.deployment == "Cloud":
            return Response(200, {"issues": found, "isLast": True})
        return Response(200, {"startAt": 0, "maxResults": 50, "total": len(found), "issues": found})

    def _user_search(self, request: Request, groups: tuple[str, ...]) -> Response:
        term_param = "query" if self.deployment == "Cloud" else "username"
        term = request.query.get(term_param, [""])[0].lower()
        if not term:
            return Response(400, {"errorMessages": [f"The {term_param} parameter is required"]})
        hits = [
            user.json(self.url, self.deployment == "Cloud")
            for user in self.users
            if term in user.name.lower() or term in user.display_name.lower() or term in user.email.lower()
        ]
        return Response(200, hits)


def _no_issue() -> Response:
    return Response(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]})


def parse_jql(jql: str) -> list[tuple[str, str]]:
    """`a = "x" AND b = y [ORDER BY ...]` -> [("a", "x"), ("b", "y")]; anything else is a JQL error."""
    where = re.split(r"\s+ORDER\s+BY\s+", jql, flags=re.IGNORECASE)[0]
    clauses = []
    for part in re.split(r"\s+AND\s+", where, flags=re.IGNORECASE):
        match = _CLAUSE.fullmatch(part)
        if not match or match.group(1).lower() not in ("project", "labels", "key", "status"):
            raise ValueError(f"Error in the JQL Query: unsupported clause {part.strip()!r}")
        value = match.group(2) if match.group(2) is not None else match.group(3)
        clauses.append((match.group(1).lower(), value.replace('\\"', '"')))
    return clauses


def _matches(issue: dict[str, Any], clauses: list[tuple[str, str]]) -> bool:
    fields = issue["fields"]
    actual = {
        "project": [fields["project"]["key"]],
        "labels": fields["labels"],
        "key": [issue["key"]],
        "status": [fields["status"]["name"]],
    }
    return all(value in actual[name] for name, value in clauses)
