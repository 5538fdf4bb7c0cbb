"""A small threaded JSON HTTP server that fakes a vendor API at the wire, with fault injection.

Subclasses route requests; this base logs every request, checks credentials, injects failures
(`fail_next`), drops responses after a create or an update (`lose_next_create`, `lose_next_update`) and delays
answers (`delay_next`).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.loopback import LoopbackFake

LoseMode = Literal["drop", "500"]


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None


class ResponseLost(Exception):
    """Raised by a route after it changed state, to drop or fail the answer (a crash after commit)."""


Route = Callable[[Request, tuple[str, ...]], Response]


class FakeServer(LoopbackFake):
    """Base class: start with `with Server() as server:`; `server.url` is the root URL."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self._failures: list[int] = []
        self._lose: list[LoseMode] = []
        self._lose_update: list[LoseMode] = []
        self._delays: list[float] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # -- fault injection -------------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next `n` requests with `status`, changing nothing."""
        with self.lock:
            self._failures.extend([status] * n)

    def lose_next_create(self, mode: LoseMode = "drop") -> None:
        """Record the next created ticket, then drop the connection ("drop") or answer 500 ("500")."""
        with self.lock:
            self._lose.append(mode)

    def lose_next_update(self, mode: LoseMode = "drop") -> None:
        """Apply the next ticket update (an edit or a transition), then drop the connection or answer 500."""
        with self.lock:
            self._lose_update.append(mode)

    def delay_next(self, seconds: float, n: int = 1) -> None:
        """Sleep before answering the next `n` requests (to trigger client timeouts)."""
        with self.lock:
            self._delays.extend([seconds] * n)

    def calls(self) -> list[str]:
        """Every request so far as "METHOD /path"."""
        with self.lock:
            return [str(request) for request in self.requests]

    # -- for subclasses ----------------------------------------------------------------------------
    def authorized(self, header: str | None) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Response:
        return Response(401, {"message": "Unauthorized"})

    def error(self, status: int) -> Response:
        return Response(status, {"message": f"injected failure {status}"})

    def routes(self) -> list[tuple[str, str, Route]]:
        """(method, path regex, handler) triples; groups of the regex are passed to the handler."""
        raise NotImplementedError

    def created(self) -> None:
        """Call from a route right after it stored a new ticket: may raise `ResponseLost`."""
        with self.lock:
            if self._lose:
                raise ResponseLost(self._lose.pop(0))

    def updated(self) -> None:
        """Call from a route right after it changed a ticket: may raise `ResponseLost`."""
        with self.lock:
            if self._lose_update:
                raise ResponseLost(self._lose_update.pop(0))

    def changes(self) -> list[str]:
        """Every request so far that could change a ticket, as "METHOD /path"."""
        return [call for call in self.calls() if not call.startswith("GET ")]

    # -- dispatch ----------------------------------------------------------------------------------
    def handle(self, request: Request, authorization: str | None) -> Response | None:
        """The response to send, or None to drop the connection without answering."""
        with self.lock:
            self.requests.append(request)
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if delay:
            time.sleep(delay)
        if failure is not None:
            return self.error(failure)
        if not self.authorized(authorization):
            return self.unauthorized()
        for method, pattern, route in self.routes():
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                try:
                    with self.lock:
                        return route(request, tuple(unquote(group) for group in match.groups()))
                except ResponseLost as lost:
                    return Response(500, {"message": "internal error"}) if lost.args[0] == "500" else None
        return Response(404, {"message": "Not Found"})


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        request = Request(self.command, parts.path, parse_qs(parts.query), body)
        response = self.fake.handle(request, self.headers.get("Authorization"))
        if response is None:
            self.close_connection = True
            return
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        # A client that gave up (a timeout test) is no longer listening: nothing to report.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(response.status)
            for name, value in (response.headers or {}).items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeServer.requests` instead of stderr."""
