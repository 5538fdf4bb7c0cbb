"""The bot's HTTP port: Errbot's Webserver plugin, serving on a server that no client can hold for long.

Errbot's Webserver plugin builds Werkzeug's development server itself (`ThreadedWSGIServer(host, port, app)`): a
thread per connection, no socket timeout, no limit on connections, and Errbot's `/echo` webhook, which reads a body
of any size and sends it back as HTML. Thousands of clients sending a byte now and then each held a thread, and
the chat stopped answering too. Errbot offers no setting for any of this, and a Debrief subclass cannot take the
plugin's place (Errbot keeps the name of a core plugin left out of CORE_PLUGINS, and `!plugin config Webserver`
must keep working). So `bound_webserver` rebinds the one name the plugin builds its server from, in the plugin's
own module, to `BoundedServer`; Errbot's code is otherwise untouched:

- a request (its line, headers and body) must arrive within DEBRIEF_HTTP_TIMEOUT seconds of the connection,
  however the client spaces its bytes; slower and idle connections are closed, and so are clients that do not
  read the answer;
- at most DEBRIEF_HTTP_MAX_CONNECTIONS connections are served at once; the next ones get a 503 and are closed
  at once, without a thread;
- `/echo` answers 404 before anything of its body is read, and Flask's MAX_CONTENT_LENGTH (DEBRIEF_MAX_BODY_BYTES)
  bounds what any route reads through Flask (Debrief's own routes read through `backends.request_body`).

`debrief run` bounds the plugin before it first serves. A hand-run Errbot (`errbot -c config.py`) does not, and
`!plugin reload Webserver` loads Errbot's module afresh: unbounded until the next `debrief run`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import NotFound
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from agent.settings import Settings
from debrief.bot.config import BotConfigError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# Errbot's Webserver plugin: its name, and the name in its module that it builds its server from.
WEBSERVER_PLUGIN, SERVER_CLASS_NAME = "Webserver", "ThreadedWSGIServer"
# Errbot's `echo` webhook: any body, of any size, sent back as text/html.
NOT_SERVED = ("/echo",)
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
BUSY_WARNING_EVERY_S = 60.0


@dataclass(frozen=True)
class HttpLimits:
    timeout_s: float = 30.0  # DEBRIEF_HTTP_TIMEOUT
    max_connections: int = 100  # DEBRIEF_HTTP_MAX_CONNECTIONS

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(timeout_s=settings.http_timeout_s, max_connections=settings.http_max_connections)


def bound_webserver(bot: Any, settings: Settings) -> None:
    """From its next start, Errbot's Webserver plugin of `bot` serves on a `BoundedServer`; its Flask app reads no
    body over DEBRIEF_MAX_BODY_BYTES. Call it before the plugin first serves: `debrief run` does, before it
    configures the plugin."""
    webserver = bot.plugin_manager.get_plugin_obj_by_name(WEBSERVER_PLUGIN)
    module = sys.modules.get(type(webserver).__module__) if webserver is not None else None
    builds = getattr(module, SERVER_CLASS_NAME, None)
    ours = isinstance(builds, partial) and builds.func is BoundedServer
    if module is None or not (builds is ThreadedWSGIServer or ours) or not hasattr(module, "flask_app"):
        raise BotConfigError(
            f"Errbot's {WEBSERVER_PLUGIN} plugin is missing or no longer builds a {SERVER_CLASS_NAME}: "
            "the HTTP port cannot be bounded"
        )
    setattr(module, SERVER_CLASS_NAME, partial(BoundedServer, limits=HttpLimits.from_settings(settings)))
    module.flask_app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes


class BoundedServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, with a deadline for each request and a cap on the connections served at once."""

    def __init__(
        self, host: str, port: int, app: WSGIApplication, *, limits: HttpLimits, ssl_context: Any = None
    ) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._refused = 0
        self._warned_at = -BUSY_WARNING_EVERY_S
        super().__init__(
            host, port, _not_serving(NOT_SERVED, app), handler=BoundedRequestHandler, ssl_context=ssl_context
        )

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """A free slot for the connection, or a 503 (on the accepting thread, which then closes the connection)."""
        if self._slots.acquire(blocking=False):
            return True
        self._busy(request)
        return False

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request(request, client_address)  # the connection's thread
        except BaseException:
            self._slots.release()  # no thread started
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _busy(self, connection: socket.socket) -> None:
        if self.ssl_context is None:
            with contextlib.suppress(OSError):
                connection.setblocking(False)  # never wait on a client here
                connection.send(BUSY)
        self._refused += 1
        now = time.monotonic()
        if now - self._warned_at >= BUSY_WARNING_EVERY_S:
            log.warning(
                "HTTP port: all %d connections (DEBRIEF_HTTP_MAX_CONNECTIONS) are busy; %d refused since the "
                "last warning",
                self.limits.max_connections,
                self._refused,
            )
            self._warned_at, self._refused = now, 0


class BoundedRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, reading its request before the connection's deadline."""

    server: BoundedServer

    def setup(self) -> None:
        super().setup()
        timeout_s = self.server.limits.timeout_s
        self.connection.settimeout(timeout_s)  # sending the answer too
        self.rfile.close()  # the base class's reader; this one keeps the deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, timeout_s))


class _DeadlineReader(io.RawIOBase):
    """What a connection receives until its deadline. A socket timeout alone starts again with every byte received,
    so one byte every few seconds would keep a connection, and its thread, forever."""

    def __init__(self, connection: socket.socket, timeout_s: float) -> None:
        super().__init__()
        self._connection = connection
        self._timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the request did not arrive within {self._timeout_s:g} s")
        self._connection.settimeout(left)
        try:
            return self._connection.recv_into(buffer)
        finally:
            self._connection.settimeout(self._timeout_s)


def _not_serving(paths: tuple[str, ...], app: WSGIApplication) -> WSGIApplication:
    """`app`, except for `paths` (trailing slashes ignored, as Errbot's routes do): 404, nothing read."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).rstrip("/") in paths:
            return NotFound()(environ, start_response)
        return app(environ, start_response)

    return serve
