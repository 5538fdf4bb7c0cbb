"""The body of `POST /api/messages`: bounded before it is read, and an activity only when it is plain JSON.

Reading (`read_body`): at most the limit + 1 bytes come off the WSGI input stream, whatever the headers say. A
Content-Length above the limit is refused before anything is read, a chunked body once it passes the limit; a
Content-Length shorter than what is sent reads no further than it says; a request with neither has no body.

Dropping the rest (`drop_unread`): Werkzeug's development server, which Errbot's Webserver plugin runs, reads what a
client still sends after the response in 10 MB blocks, one per connection, so the client sees the answer rather
than a reset: ten clients sending 50 MB would hold 100 MB. We read that rest first, 64 KB at a time, while the
client keeps sending, and forget it.

Parsing (`parse_activity`): JSON nested deeper than `MAX_DEPTH`, holding a NUL character (raw or `\\u0000`) or a
lone surrogate (`\\ud800`, not Unicode text) is refused with a sentence saying so. Nothing real in a Teams activity
comes close to that depth, PostgreSQL text refuses NULs, and a surrogate cannot be stored at all: the message would
be acknowledged, then dropped.
"""

from __future__ import annotations

import json
import selectors
import socket
from typing import Any

from microsoft_agents.activity import Activity
from pydantic import ValidationError
from werkzeug.wsgi import get_content_length

from agent.errors import DebriefError

MAX_BODY_BYTES = 1_000_000  # DEBRIEF_MAX_BODY_BYTES
MAX_DEPTH = 64  # Adaptive Cards in `attachments` and `value` nest deepest, a dozen levels or so
PIECE = 64 * 1024
DROP_WAIT_S = 0.25  # how long a client may pause before we stop reading what it still sends
DROP_MAX_BYTES = 1 << 30


class BodyTooLarge(DebriefError):
    """The request body is over the limit."""


class BadActivity(DebriefError):
    """The body is not an activity Debrief takes; the message says why, in a sentence for the sender."""


def read_body(environ: dict[str, Any], max_bytes: int) -> bytes:
    """The request body, read from the WSGI input stream, never more than `max_bytes` + 1 bytes of it."""
    length = None if environ.get("wsgi.input_terminated") else get_content_length(environ)
    if length is not None and length > max_bytes:
        raise BodyTooLarge(f"the activity is larger than {max_bytes} bytes")
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
    except (OSError, ValueError):
        raise BadActivity("the request body is malformed") from None
    if size > max_bytes:
        raise BodyTooLarge(f"the activity is larger than {max_bytes} bytes")
    return b"".join(pieces)


def drop_unread(environ: dict[str, Any], wait_s: float = 0.0) -> int:
    """Read and forget what the client is still sending (waiting `wait_s` for it to start); the bytes dropped."""
    sock = environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return 0  # another server: it handles the rest of the request itself
    dropped = 0
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while dropped < DROP_MAX_BYTES and selector.select(wait_s):
            try:
                data = sock.recv(PIECE)
            except OSError:
                break
            if not data:
                break
            dropped += len(data)
            wait_s = DROP_WAIT_S
    return dropped


def parse_activity(raw: bytes) -> Activity:
    """The activity in `raw`, or `BadActivity` saying what is wrong with it."""
    if b"\x00" in raw:
        raise BadActivity("the activity contains a NUL character")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadActivity(f"the activity is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also bytes that are not UTF-8
        raise BadActivity("the body is not JSON") from None
    _check_plain(data)
    if not isinstance(data, dict):
        raise BadActivity("not a Bot Framework activity")
    try:
        return Activity.model_validate(data)
    except ValidationError:
        raise BadActivity("not a Bot Framework activity") from None


def _check_plain(data: object) -> None:
    """No container deeper than `MAX_DEPTH`, only plain text in keys and strings (without recursion)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadActivity(f"the activity is nested deeper than {MAX_DEPTH} levels")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadActivity("the activity contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadActivity("the activity contains text that is not valid Unicode (a lone surrogate)") from None
