"""How the fakes serve HTTP: a threaded server on 127.0.0.1, on a free port, in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Serves `handler` from construction until `stop()`; `url` is `http://127.0.0.1:<port>`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class LoopbackFake:
    """Mixin for a fake vendor API: `with Fake() as fake:` serves it; `fake.url` is its root URL.

    A fake names its request handler in `handler()`; the handler reaches the fake as `self.fake`.
    """

    name = "fake"  # the serving thread's name
    _server: LoopbackServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def stopping(self) -> None:
        """Called before the server stops (e.g. to wake requests that are waiting)."""

    def __enter__(self) -> Self:
        handler = type("Handler", (self.handler(),), {"fake": self})
        self._server = LoopbackServer(handler, self.name)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self.stopping()
        self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake with `with` first"
        return self._server.url
