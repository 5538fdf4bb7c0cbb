"""A fake Slack: the Web API methods errbot-backend-slackv3 calls, and a Socket Mode websocket that pushes events.

The real backend and slack_sdk talk to it as they would to slack.com: `auth.test` (with the `x-oauth-scopes` header
the backend reads to choose Events API over RTM), `users.info`, `team.info`, `conversations.info`/`list`,
`chat.postMessage`, and `apps.connections.open`, which hands out this server's own `ws://` URL. On that socket the
fake says `hello`, pushes Events API envelopes (`push`), and records the client's acknowledgements. Tokens are
checked as Slack does (`invalid_auth` in a 200 answer), and so are scopes: the app has exactly those of
docs/slack-manifest.yaml (`missing_scope` otherwise) and gets only the events it subscribes to; `used_scopes`
says which were needed. `sign` makes the Events API's request signature.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import yaml
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

TEAM = {"id": "T0ACME", "name": "Acme", "domain": "acme"}
APP_ID = "A0DEBRIEF"
MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-manifest.yaml"
APP_TOKEN_METHODS = ("apps.connections.open",)
# The bot scope each Web API method needs (conversations.* by the kind of channel: C public, G private).
METHOD_SCOPES = {
    "users.info": "users:read",
    "users.list": "users:read",
    "team.info": "team:read",
    "chat.postMessage": "chat:write",
    "conversations.list": "channels:read",
}
CHANNEL_READ_SCOPES = {"C": "channels:read", "G": "groups:read"}
# The subscription that delivers an event, and the scope that subscription needs.
EVENT_SUBSCRIPTIONS = {
    ("message", "C"): ("message.channels", "channels:history"),
    ("message", "G"): ("message.groups", "groups:history"),
    ("reaction_added", None): ("reaction_added", "reactions:read"),
    ("pin_added", None): ("pin_added", "pins:read"),
}


def manifest() -> dict[str, Any]:
    """Debrief's Slack app manifest (docs/slack-manifest.yaml): the scopes and events the fake grants."""
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


def slack_ts(at: datetime, sequence: int = 0) -> str:
    """Slack's `ts` for a moment: seconds.microseconds (`sequence` keeps messages in one second apart)."""
    return f"{int(at.timestamp())}.{at.microsecond + sequence:06d}"


def message_event(
    channel: str, user: str, text: str, ts: str, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A `message` event as `message.channels` / `message.groups` deliver it."""
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
    event["channel_type"] = "group" if channel.startswith("G") else "channel"
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {**event, "team": TEAM["id"], **extra}


def reaction_event(channel: str, user: str, reaction: str, ts: str, item_user: str) -> dict[str, Any]:
    """A `reaction_added` event on the message `ts` in `channel`."""
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }


def event_callback(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The Events API wrapper around one event (the body of an HTTP request, the payload of an envelope)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM["id"],
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
    }


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs an Events API request with (v0 HMAC-SHA256 of `v0:timestamp:body`)."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point SLACK_API_URL at `slack.api_url`."""

    def __init__(self, bot_token: str = "xoxb-fake-bot", app_token: str = "xapp-fake-app") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        app = manifest()
        self.scopes: set[str] = set(app["oauth_config"]["scopes"]["bot"])
        self.events: set[str] = set(app["settings"]["event_subscriptions"]["bot_events"])
        self.used_scopes: set[str] = set()
        self.bot_user = "U0DEBRIEF"
        self.users: dict[str, str] = {self.bot_user: "debrief"}
        self.published_users: dict[str, dict[str, Any]] = {}  # `users.info` answered as a sample has it
        self.channels: dict[str, str] = {}
        self.calls: list[str] = []
        self.posted: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self.pushed: list[str] = []
        self._rate_limited: list[str] = []
        self.lock = threading.Condition()
        self._sockets: list[ServerConnection] = []
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._http: ThreadingHTTPServer | None = None
        self._ws: Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        handler = type("Handler", (_ApiHandler,), {"slack": self})
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.daemon_threads = True
        self._ws = serve(self._socket_session, "127.0.0.1", 0, compression=None)
        for name, target in (
            ("fake-slack-api", self._http.serve_forever),
            ("fake-slack-ws", self._ws.serve_forever),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._http is not None and self._ws is not None
        with self.lock:
            sockets = list(self._sockets)
        for socket in sockets:
            socket.close()
        self._ws.shutdown()
        self._http.shutdown()
        self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def api_url(self) -> str:
        assert self._http is not None, "start the fake with `with` first"
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    @property
    def socket_url(self) -> str:
        assert self._ws is not None, "start the fake with `with` first"
        host, port = self._ws.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake-ticket"

    # -- the workspace -----------------------------------------------------------------------------
    def add_user(self, user_id: str, name: str) -> None:
        self.users[user_id] = name

    def add_published_user(self, answer: dict[str, Any]) -> str:
        """A person whose `users.info` answer is `answer['user']` as published (a sample); their id."""
        user = answer["user"]
        self.users[user["id"]] = user["name"]
        self.published_users[user["id"]] = user
        return str(user["id"])

    def add_channel(self, channel_id: str, name: str) -> None:
        self.channels[channel_id] = name

    # -- test helpers ------------------------------------------------------------------------------
    def subscribed(self, event: dict[str, Any]) -> None:
        """Slack sends only the events the app subscribes to: fail a test that pushes another one."""
        channel = event.get("channel")
        key = (event["type"], str(channel)[0] if channel else None)
        subscription, scope = EVENT_SUBSCRIPTIONS.get(key, (event["type"], None))
        assert subscription in self.events and scope in self.scopes, (
            f"the app does not get {subscription} events"
        )
        with self.lock:
            self.used_scopes.add(scope)

    def push(self, event: dict[str, Any]) -> str:
        """Send one Events API envelope to every connected Socket Mode client; its envelope id."""
        self.subscribed(event)
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": event_callback(event, f"Ev{envelope_id}"),
        }
        with self.lock:
            sockets = list(self._sockets)
            self.pushed.append(envelope_id)
        assert sockets, "no Socket Mode client is connected"
        for socket in sockets:
            socket.send(json.dumps(envelope))
        return envelope_id

    def wait_until(self, check: Callable[[], Any], timeout: float = 30, what: str = "the fake Slack") -> Any:
        """Block until `check()` (called under the lock) is truthy; its value."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not (result := check()):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}"
                self.lock.wait(min(left, 0.5))
            return result

    def wait_for_post(self, check: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """The first `chat.postMessage` (so far or to come) for which `check` is true."""

        def found() -> dict[str, Any] | None:
            return next((post for post in self.posted if check(post)), None)

        result: dict[str, Any] = self.wait_until(found, timeout, "a chat.postMessage")
        return result

    def rate_limit_next(self, method: str) -> None:
        """Answer the next call of `method` with HTTP 429 and Retry-After: 1, as Slack does when limited."""
        with self.lock:
            self._rate_limited.append(method)

    def connected(self) -> bool:
        with self.lock:
            return bool(self._sockets)

    # -- Web API -----------------------------------------------------------------------------------
    def api(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON body of one Web API call."""
        with self.lock:
            self.calls.append(method)
            self.lock.notify_all()
            if method in self._rate_limited:
                self._rate_limited.remove(method)
                return 429, {"ok": False, "error": "ratelimited"}
        return 200, self._answer(method, token, args)

    def _answer(self, method: str, token: str | None, args: dict[str, Any]) -> dict[str, Any]:
        expected = self.app_token if method in APP_TOKEN_METHODS else self.bot_token
        if token != expected:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        route = getattr(self, "_" + method.replace(".", "_"), None)
        if route is None:
            return {"ok": False, "error": "unknown_method"}
        needed = self._scope_for(method, args)
        if needed is not None and method not in APP_TOKEN_METHODS:
            if needed not in self.scopes:
                return {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(self.scopes),
                }
            with self.lock:
                self.used_scopes.add(needed)
        result: dict[str, Any] = route(args)
        return result

    @staticmethod
    def _scope_for(method: str, args: dict[str, Any]) -> str | None:
        if method == "conversations.info":
            return CHANNEL_READ_SCOPES.get(str(args.get("channel", "C"))[0], "channels:read")
        return METHOD_SCOPES.get(method)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM['domain']}.slack.com/",
            "team": TEAM["name"],
            "user": self.users[self.bot_user],
            "team_id": TEAM["id"],
            "user_id": self.bot_user,
            "bot_id": "B0DEBRIEF",
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user"))
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user(user_id)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [self._user(user_id) for user_id in self.users]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": dict(TEAM)}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel"))
        if channel_id not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel(channel_id)}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [self._channel(channel_id) for channel_id in self.channels]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "user": self.bot_user, "bot_id": "B0DEBRIEF", "ts": ts, **args}
        with self.lock:
            self.posted.append(message)
            self.lock.notify_all()
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id in self.published_users:
            return self.published_users[user_id]
        name = self.users[user_id]
        profile = {"display_name": name, "real_name": name.title()}
        return {
            "id": user_id,
            "team_id": TEAM["id"],
            "name": name,
            "is_bot": user_id == self.bot_user,
            "profile": profile,
        }

    def _channel(self, channel_id: str) -> dict[str, Any]:
        private = channel_id.startswith("G")
        return {
            "id": channel_id,
            "name": self.channels[channel_id],
            "is_channel": not private,
            "is_group": private,
            "is_private": private,
            "is_im": False,
            "is_mpim": False,
            "is_member": True,
            "is_archived": False,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    # -- Socket Mode -------------------------------------------------------------------------------
    def _socket_session(self, socket: ServerConnection) -> None:
        socket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        with self.lock:
            self._sockets.append(socket)
            self.lock.notify_all()
        try:
            for raw in socket:
                ack = json.loads(raw)
                with self.lock:
                    self.acks.append(str(ack.get("envelope_id")))
                    self.lock.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self._sockets.remove(socket)


class _ApiHandler(BaseHTTPRequestHandler):
    """`/api/<method>`: arguments from the query, a form body or a JSON body, as slack_sdk sends them."""

    slack: FakeSlack
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        args: dict[str, Any] = dict(parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw.decode()))
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or args.get("token")
        method = parts.path.removeprefix("/api/")
        status, body = self.slack.api(method, token, args)
        payload = json.dumps(body).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("x-oauth-scopes", ",".join(sorted(self.slack.scopes)))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeSlack.calls` instead of stderr."""
