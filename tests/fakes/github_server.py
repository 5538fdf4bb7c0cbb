"""A fake GitHub REST API (v3) that speaks enough of the wire protocol for the real PyGithub client.

Covers: get repository, create / list (by labels and state, paginated with Link headers) / get / edit issues
(`PATCH`: title, body, assignees, labels, state with `state_reason`), and the assignee check. Labels are
created on first use, as GitHub does for writers. `prefix` mimics GitHub Enterprise's `/api/v3` base path.

GitHub documents no read-after-write for listing issues either (reads may come from a replica): with
`listing_lag` seconds, a new issue shows in the listing only that long after it was created
(`GET .../issues/{number}` shows it at once). The default, 0, is read-after-write.
"""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response, Route

MAX_LABEL = 50
DOCS = "https://docs.github.com/rest"


class GitHubServer(FakeServer):
    """In-memory GitHub with one repository; `issues` maps issue number -> raw issue JSON."""

    name = "fake-github"

    def __init__(
        self,
        repository: str = "acme/ops",
        token: str = "ghp_fakeSecretToken",
        prefix: str = "",
        listing_lag: float = 0.0,
    ) -> None:
        super().__init__()
        self.repository = repository
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.listing_lag = listing_lag  # seconds before a new issue shows in the issue listing; settable
        self.stale_listings = 0  # listings that missed a matching issue because of the lag
        self.issues: dict[int, dict[str, Any]] = {}
        self._created_at: dict[int, float] = {}  # issue number -> time.monotonic() when it was stored
        self._create_failures: list[int] = []
        self.labels: dict[str, dict[str, Any]] = {}
        self.assignable: set[str] = set()

    @property
    def api_url(self) -> str:
        return f"{self.url}{self.prefix}"

    # -- test helpers --------------------------------------------------------------------------
    def set_state(self, number: int, state: str) -> None:
        with self.lock:
            issue = self.issues[number]
            issue["state"] = state
            issue["closed_at"] = _now() if state == "closed" else None
            issue["state_reason"] = "completed" if state == "closed" else None

    def fail_next_create(self, status: int = 502) -> None:
        """Answer the next issue create with `status` without storing anything (a create that did not happen)."""
        with self.lock:
            self._create_failures.append(status)

    def with_label(self, label: str) -> list[int]:
        with self.lock:
            return [n for n, issue in self.issues.items() if label in _label_names(issue)]

    # -- FakeServer ----------------------------------------------------------------------------
    def authorized(self, header: str | None) -> bool:
        return header in (f"token {self.token}", f"Bearer {self.token}")

    def unauthorized(self) -> Response:
        return Response(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})

    def error(self, status: int) -> Response:
        if status in (403, 429):
            return Response(
                status, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}
            )
        return Response(status, {"message": f"Server Error (injected {status})", "documentation_url": DOCS})

    def routes(self) -> list[tuple[str, str, Route]]:
        repo = f"{self.prefix}/repos/([^/]+/[^/]+)"
        return [
            ("GET", repo, self._repo),
            ("POST", f"{repo}/issues", self._create),
            ("GET", f"{repo}/issues", self._list),
            ("GET", rf"{repo}/issues/(\d+)", self._get),
            ("PATCH", rf"{repo}/issues/(\d+)", self._edit),
            ("GET", f"{repo}/assignees/([^/]+)", self._assignee),
        ]

    # -- routes --------------------------------------------------------------------------------
    def _known(self, full_name: str) -> bool:
        return full_name.lower() == self.repository.lower()

    def _repo(self, request: Request, groups: tuple[str, ...]) -> Response:
        if not self._known(groups[0]):
            return _not_found()
        owner, name = self.repository.split("/")
        return Response(
            200,
            {
                "id": 1296269,
                "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
                "name": name,
                "full_name": self.repository,
                "owner": self._user(owner),
                "private": False,
                "has_issues": True,
                "url": self._repo_url(),
                "html_url": f"{self.url}/{self.repository}",
                "issues_url": f"{self._repo_url()}/issues{{/number}}",
            },
        )

    def _create(self, request: Request, groups: tuple[str, ...]) -> Response:
        if not self._known(groups[0]):
            return _not_found()
        if self._create_failures:
            return self.error(self._create_failures.pop(0))
        body = request.body or {}
        errors = self._validate(body)
        if errors:
            return Response(
                422, {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}
            )
        number = len(self.issues) + 1
        labels = [self._label(name) for name in body.get("labels", [])]
        assignees = [self._user(login) for login in body.get("assignees", [])]
        self.issues[number] = {
            "id": 1000 + number,
            "node_id": f"I_kwDO{number:06d}",
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "state": "open",
            "state_reason": None,
            "locked": False,
            "labels": labels,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "user": self._user("debrief-bot"),
            "comments": 0,
            "url": f"{self._repo_url()}/issues/{number}",
            "html_url": f"{self.url}/{self.repository}/issues/{number}",
            "repository_url": self._repo_url(),
            "created_at": _now(),
            "updated_at": _now(),
            "closed_at": None,
        }
        self._created_at[number] = time.monotonic()
        self.created()
        return Response(201, self.issues[number])

    def _validate(self, body: dict[str, Any]) -> list[dict[str, str]]:
        errors = []
        if not body.get("title"):
            errors.append({"resource": "Issue", "field": "title", "code": "missing_field"})
        for name in body.get("labels", []):
            if len(name) > MAX_LABEL:
                errors.append({"resource": "Label", "field": "name", "code": "invalid", "value": name})
        for login in body.get("assignees", []):
            if login not in self.assignable:
                errors.append({"resource": "Issue", "field": "assignees", "code": "invalid", "value": login})
        return errors

    def _list(self, request: Request, groups: tuple[str, ...]) -> Response:
        if not self._known(groups[0]):
            return _not_found()
        query = {name: values[0] for name, values in request.query.items()}
        wanted = [name for name in query.get("labels", "").split(",") if name]
        state = query.get("state", "open")
        listed_before = time.monotonic() - self.listing_lag
        matching = [
            issue
            for issue in sorted(self.issues.values(), key=lambda issue: -int(issue["number"]))
            if all(name in _label_names(issue) for name in wanted) and state in ("all", issue["state"])
        ]
        found = [
            issue for issue in matching if self._created_at.get(int(issue["number"]), 0.0) <= listed_before
        ]
        self.stale_listings += len(found) < len(matching)
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = found[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(found):
            next_query = urlencode({**query, "page": page + 1})
            headers["Link"] = f'<{self._repo_url()}/issues?{next_query}>; rel="next"'
        return Response(200, chunk, headers)

    def _get(self, request: Request, groups: tuple[str, ...]) -> Response:
        issue = self.issues.get(int(groups[1]))
        if not self._known(groups[0]) or issue is None:
            return _not_found()
        return Response(200, issue)

    def _edit(self, request: Request, groups: tuple[str, ...]) -> Response:
        """`PATCH .../issues/{n}`: change what the body names; 422 like GitHub for a bad value."""
        issue = self.issues.get(int(groups[1]))
        if not self._known(groups[0]) or issue is None:
            return _not_found()
        body = request.body or {}
        errors = self._validate({"title": issue["title"], **body})
        if body.get("state", "open") not in ("open", "closed"):
            errors.append({"resource": "Issue", "field": "state", "code": "invalid"})
        if body.get("state_reason") not in (None, "completed", "not_planned", "reopened"):
            errors.append({"resource": "Issue", "field": "state_reason", "code": "invalid"})
        if errors:
            return Response(
                422, {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}
            )
        for name in ("title", "body"):
            if name in body:
                issue[name] = body[name]
        if "labels" in body:
            issue["labels"] = [self._label(name) for name in body["labels"]]
        if "assignees" in body:
            issue["assignees"] = [self._user(login) for login in body["assignees"]]
            issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None
        if "state" in body and body["state"] != issue["state"]:
            issue["state"] = body["state"]
            issue["closed_at"] = _now() if body["state"] == "closed" else None
            issue["state_reason"] = body.get("state_reason") or (
                "completed" if body["state"] == "closed" else "reopened"
            )
        issue["updated_at"] = _now()
        self.updated()
        return Response(200, issue)

    def _assignee(self, request: Request, groups: tuple[str, ...]) -> Response:
        if not self._known(groups[0]) or groups[1] not in self.assignable:
            return _not_found()
        return Response(204)

    # -- JSON shapes ---------------------------------------------------------------------------
    def _repo_url(self) -> str:
        return f"{self.api_url}/repos/{self.repository}"

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": zlib.crc32(login.encode()),
            "type": "User",
            "url": f"{self.api_url}/users/{login}",
        }

    def _label(self, name: str) -> dict[str, Any]:
        if name not in self.labels:
            self.labels[name] = {
                "id": 208045946 + len(self.labels),
                "name": name,
                "color": "ededed",
                "default": False,
                "description": None,
                "url": f"{self._repo_url()}/labels/{name}",
            }
        return self.labels[name]


def _label_names(issue: dict[str, Any]) -> list[str]:
    return [label["name"] for label in issue["labels"]]


def _not_found() -> Response:
    return Response(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
