"""The HTTP port holds no client for long: a deadline per request, a cap on connections, no `/echo`.

Real bots, real sockets: an in-memory bot whose Errbot Webserver is bounded and configured as `debrief run` does it
(small limits, so the tests are quick), and `debrief run` itself on the console.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import errbot.core_plugins
import flask
import pytest
import requests

from debrief.bot.http_server import bound_webserver
from tests.plugin_fixtures import Chat, bot_settings, running_chat
from tests.test_bot import RUN_BOT, debrief_env, listening, wait_for
from tests.test_plugin_webhooks import free_port, post, start

EVENT = {"service": "checkout-api", "text": "feature flag new-checkout on"}


@contextmanager
def bounded_bot(tmp_path: Path, timeout_s: float, max_connections: int) -> Iterator[tuple[Chat, int]]:
    """A started bot whose Webserver serves on a free local port, bounded as `debrief run` bounds it."""
    settings = bot_settings(
        tmp_path, DEBRIEF_HTTP_TIMEOUT=str(timeout_s), DEBRIEF_HTTP_MAX_CONNECTIONS=str(max_connections)
    )
    with running_chat(settings, tmp_path) as chat:
        bound_webserver(chat.testbot.bot, settings)
        port = free_port()
        ssl = {"enabled": False, "host": "127.0.0.1", "port": free_port(), "certificate": "", "key": ""}
        config = {"HOST": "127.0.0.1", "PORT": port, "SSL": ssl}
        chat.testbot.push_message(f"!plugin config Webserver {config!r}")
        assert chat.next_reply() == "Plugin configuration done."
        wait_for(lambda: listening(port), timeout=10)
        yield chat, port


def connect(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def request_head(path: str, length: int) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: debrief\r\nContent-Length: {length}\r\n\r\n".encode()


def answer(conn: socket.socket, within_s: float) -> bytes:
    """What the server sends until it closes the connection (b"" for a close without an answer)."""
    conn.settimeout(within_s)
    received = b""
    try:
        while data := conn.recv(4096):
            received += data
    except ConnectionResetError:
        pass
    return received


def closed_after(conn: socket.socket, first: bytes, trickled: bytes, give_up_s: float) -> tuple[float, bytes]:
    """Send `first`, then `trickled` a byte every 0.2 s; when the server closed the connection, and its answer."""
    started = time.monotonic()
    conn.sendall(first)
    conn.settimeout(0.2)
    pending, received = iter(trickled), b""
    while time.monotonic() - started < give_up_s:
        try:
            data = conn.recv(4096)
        except TimeoutError:
            byte = next(pending, None)
            if byte is not None:
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    return time.monotonic() - started, received
            continue
        except ConnectionResetError:
            return time.monotonic() - started, received
        if not data:
            return time.monotonic() - started, received
        received += data
    pytest.fail(f"the server held the connection for {give_up_s} s (it answered {received!r})")


def test_echo_is_not_served_and_nothing_of_its_body_is_read(tmp_path: Path) -> None:
    with bounded_bot(tmp_path, timeout_s=10, max_connections=5) as (_, port), connect(port) as conn:
        # Errbot's /echo read a body of any size, then sent it back as HTML; 100 MB are promised, 8 bytes sent.
        conn.sendall(request_head("/echo", 100_000_000) + b"<script>")
        reply = answer(conn, within_s=3)

        assert reply.startswith(b"HTTP/1.1 404"), reply[:200]  # at once: not after the 100 MB
        assert b"<script>" not in reply
        assert requests.get(f"http://127.0.0.1:{port}/echo/?<b>hi</b>", timeout=5).status_code == 404


def test_a_route_reading_its_body_through_flask_reads_no_more_than_the_body_limit(tmp_path: Path) -> None:
    # Debrief's routes read through `read_body`; others (Slack's Events API, any Errbot webhook) through Flask.
    def read_through_flask() -> str:
        return str(len(flask.request.get_data()))

    errbot.core_plugins.flask_app.add_url_rule("/flask-reads", view_func=read_through_flask, methods=["POST"])
    with bounded_bot(tmp_path, timeout_s=10, max_connections=5) as (chat, port), connect(port) as conn:
        conn.sendall(request_head("/flask-reads", chat.settings.max_body_bytes + 1) + b"{")
        reply = answer(conn, within_s=3)

        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]  # at once: not after the body
        assert requests.post(f"http://127.0.0.1:{port}/flask-reads", data=b"{}", timeout=5).text == "2"


@pytest.mark.parametrize(
    ("first", "trickled", "answered"),
    [
        pytest.param(request_head("/debrief/events", 1000), b"", b"HTTP/1.1 408", id="headers-then-silence"),
        pytest.param(
            request_head("/debrief/events", 1000), b"x" * 100, b"HTTP/1.1 408", id="body-a-byte-at-a-time"
        ),
        pytest.param(
            b"POST /debrief/events HTTP/1.1\r\nX-Slow: ", b"x" * 100, b"", id="headers-a-byte-at-a-time"
        ),
    ],
)
def test_a_client_too_slow_to_send_its_request_is_closed_after_the_timeout(
    tmp_path: Path, first: bytes, trickled: bytes, answered: bytes
) -> None:
    with bounded_bot(tmp_path, timeout_s=1, max_connections=5) as (_, port):
        with connect(port) as conn:
            held_s, reply = closed_after(conn, first, trickled, give_up_s=6)

        assert 0.8 < held_s < 3.5  # the 1 s deadline, however often a byte arrives
        assert reply.startswith(answered), reply[:200]
        assert post(f"http://127.0.0.1:{port}/debrief/events", EVENT).status_code == 200  # the port serves on


def test_connections_over_the_cap_are_refused_at_once_and_the_chat_keeps_answering(tmp_path: Path) -> None:
    cap = 3
    with bounded_bot(tmp_path, timeout_s=20, max_connections=cap) as (chat, port):
        start(chat)
        held = [connect(port) for _ in range(cap)]
        try:
            for conn in held:
                conn.sendall(b"POST /debrief/events HTTP/1.1\r\n")  # and never the rest
            started, body = time.monotonic(), json.dumps(EVENT).encode()
            for _ in range(30):
                with connect(port) as conn:
                    conn.sendall(request_head("/debrief/events", len(body)) + body)
                    reply = answer(conn, within_s=2)
                    assert reply == b"" or reply.startswith(b"HTTP/1.1 503"), reply[:200]
            assert time.monotonic() - started < 5  # each refused at once, none waited for a thread

            assert "INC-1" in chat.ask("!incidents")  # the chat answers while the port is full
        finally:
            for conn in held:  # the flood ends
                conn.close()

        deadline = time.monotonic() + 5
        while (response := post(f"http://127.0.0.1:{port}/debrief/events", EVENT)).status_code == 503:
            assert time.monotonic() < deadline, "the held connections' slots were not freed"
            time.sleep(0.1)
        assert response.status_code == 200, response.text
        [signal] = response.json()["signals"]
        assert (signal["status"], signal["incident"]) == ("recorded", "INC-1")
        assert signal["signal"] == "S1"  # the first: nothing of the refused requests was recorded


def test_debrief_run_bounds_its_http_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**debrief_env(tmp_path, port), "DEBRIEF_HTTP_TIMEOUT": "1", "DEBRIEF_HTTP_MAX_CONNECTIONS": "4"}
    bot = subprocess.Popen(
        RUN_BOT,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for(lambda: listening(port))
        assert requests.post(f"http://127.0.0.1:{port}/echo", data=b"<script>", timeout=5).status_code == 404
        with connect(port) as conn:
            held_s, reply = closed_after(conn, request_head("/debrief/events", 1000), b"x" * 100, give_up_s=6)
        assert held_s < 3.5 and reply.startswith(b"HTTP/1.1 408"), (held_s, reply[:200])
    finally:
        assert bot.stdin is not None
        bot.stdin.close()
        try:
            bot.wait(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
