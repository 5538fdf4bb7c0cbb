"""A request body on Errbot's web server (Teams' `/api/messages`, the webhooks): bounded before it is read.

Reading (`read_body`): at most the limit + 1 bytes come off the WSGI input stream, whatever the headers say. A
Content-Length above the limit is refused before anything is read, a chunked body once it passes the limit; a
Content-Length shorter than what is sent reads no further than it says; a request with neither has no body.

Dropping the rest (`drop_unread`): Werkzeug's development server, which Errbot's Webserver plugin runs, reads what a
client still sends after the response in 10 MB blocks, one per connection, so the client sees the answer rather
than a reset: ten clients sending 50 MB would hold 100 MB. We read that rest first, 64 KB at a time, while the
client keeps sending (for DROP_MAX_S at most), and forget it.

Refusing (`refuse_body`): after a body too large or malformed the rest is dropped so the client sees the answer; a
client too slow to send its body before the server's deadline (`debrief.bot.http_server`, DEBRIEF_HTTP_TIMEOUT)
gets no more time: 408, and nothing more is read.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from typing import Any

from werkzeug.wsgi import get_content_length

from agent.errors import DebriefError

MAX_BODY_BYTES = 1_000_000  # DEBRIEF_MAX_BODY_BYTES
PIECE = 64 * 1024
DROP_WAIT_S = (
    2.0  # how long a client may pause (a loaded machine, a slow link) before we stop reading its rest
)
DROP_MAX_BYTES = 1 << 30
DROP_MAX_S = 10.0  # a client trickling its rest cannot hold the thread longer


class BodyTooLarge(DebriefError):
    """The request body is over the limit."""


class MalformedBody(DebriefError):
    """The request body cannot be read (a broken chunked encoding, a connection cut short)."""


class BodyTimedOut(MalformedBody):
    """The request body did not arrive before the server's deadline for the request."""


def read_body(environ: dict[str, Any], max_bytes: int) -> bytes:
    """The request body, read from the WSGI input stream, never more than `max_bytes` + 1 bytes of it."""
    length = None if environ.get("wsgi.input_terminated") else get_content_length(environ)
    if length is not None and length > max_bytes:
        raise BodyTooLarge(f"the request body is larger than {max_bytes} bytes")
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # neither a length nor chunks: HTTP says there is no body
    wanted = max_bytes + 1 if length is None else length
    stream = environ["wsgi.input"]
    pieces: list[bytes] = []
    size = 0
    try:
        while size < wanted and (piece := stream.read(min(PIECE, wanted - size))):
            pieces.append(piece)
            size += len(piece)
    except TimeoutError:
        raise BodyTimedOut("the request body did not arrive in time") from None
    except (OSError, ValueError):
        raise MalformedBody("the request body is malformed") from None
    if size > max_bytes:
        raise BodyTooLarge(f"the request body is larger than {max_bytes} bytes")
    return b"".join(pieces)


def drop_unread(environ: dict[str, Any], wait_s: float = 0.0, *, refused: bool = False) -> int:
    """Read and forget what the client is still sending (waiting `wait_s` for it to start); the bytes dropped.

    After a refusal (`refused`) the connection's reading side is shut once the client pauses: whatever it still
    sends stays in the kernel's buffer, never in ours (the server would otherwise read it, 10 MB at a time).
    """
    sock = environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return 0  # another server: it handles the rest of the request itself
    dropped = 0
    deadline = time.monotonic() + DROP_MAX_S
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while dropped < DROP_MAX_BYTES and (left := deadline - time.monotonic()) > 0:
            if not selector.select(min(wait_s, left)):
                break
            try:
                data = sock.recv(PIECE)
            except OSError:
                break
            if not data:
                break
            dropped += len(data)
            wait_s = DROP_WAIT_S
    if refused:
        _shut_reading(sock)
    return dropped


def refuse_body(environ: dict[str, Any], refusal: BodyTooLarge | MalformedBody) -> int:
    """After `read_body` raised `refusal`: make way for the answer, and the HTTP status to answer with."""
    if isinstance(refusal, BodyTimedOut):
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            _shut_reading(sock)  # the client has had its time: nothing more is read
        return 408
    drop_unread(environ, wait_s=DROP_WAIT_S, refused=True)  # the rest of it
    return 413 if isinstance(refusal, BodyTooLarge) else 400


def _shut_reading(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
