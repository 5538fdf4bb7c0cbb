"""A fake of Microsoft's side of a Teams bot, at the wire: the Bot Connector (`serviceUrl`), the Entra ID token
endpoint and the OpenID metadata / JWKS endpoint, with a locally generated RSA key set to sign channel tokens.

`FakeTeams.token(...)` signs a token the way the Bot Connector does (iss, aud, exp, nbf, serviceurl claim, kid);
`FakeTeams.activity(...)` builds a Teams message activity; `FakeTeams.sent` holds what the bot posted back.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.loopback import LoopbackFake

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
APP_ID = "00000000-0000-4000-8000-00000000b07a"
APP_PASSWORD = "fake-client-secret"
BOT_ID = f"28:{APP_ID}"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)
    endorsements: tuple[str, ...] = ("msteams",)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or uuid.uuid4().hex, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)}


@dataclass(frozen=True)
class Sent:
    """One activity the bot posted to the connector."""

    conversation_id: str
    reply_to_id: str | None
    authorization: str | None
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text, or the card's fallback text for a card."""
        cards = [
            a["content"] for a in self.body.get("attachments") or [] if isinstance(a.get("content"), dict)
        ]
        return str(self.body.get("text") or (cards[0].get("fallbackText") if cards else "") or "")

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        return None


class FakeTeams(LoopbackFake):
    """Start with `with FakeTeams() as teams:`; `teams.url` is its root."""

    name = "fake-teams"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys = [SigningKey.generate()]
        self.sent: list[Sent] = []
        self.token_requests: list[dict[str, str]] = []
        self.metadata_requests = 0
        self.metadata_down = False  # the OpenID endpoint answers 503
        self.failures: list[int] = []  # statuses for the next activity posts, in order
        self.access_token = f"bot-access-{uuid.uuid4().hex}"
        self._next_id = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def service_url(self) -> str:
        return f"{self.url}/svc/"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/botframework/openid"

    @property
    def token_url(self) -> str:
        return f"{self.url}/tenant/oauth2/v2.0/token"

    # -- what the channel sends ------------------------------------------------------------------
    def token(self, key: SigningKey | None = None, **claims: Any) -> str:
        """A channel token; override or drop (value None) any claim."""
        now = int(time.time())
        values: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": APP_ID,
            "exp": now + 3600,
            "nbf": now - 60,
            "serviceurl": self.service_url,
        }
        values.update(claims)
        payload = {name: value for name, value in values.items() if value is not None}
        signer = key or self.keys[0]
        return jwt.encode(payload, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def activity(
        self,
        text: str,
        *,
        conversation: str,
        activity_id: str,
        at: datetime,
        frm: tuple[str, str] = ("29:alice", "Alice"),
        mentions: tuple[tuple[str, str], ...] = (),
        conversation_type: str = "channel",
    ) -> dict[str, Any]:
        """A Teams message activity; `mentions` are (id, name) pairs whose `<at>name</at>` is in `text`."""
        return {
            "type": "message",
            "id": activity_id,
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": frm[0], "name": frm[1], "aadObjectId": f"aad-{frm[1].lower()}"},
            "conversation": {
                "id": conversation,
                "conversationType": conversation_type,
                "tenantId": "tenant-1",
            },
            "recipient": {"id": BOT_ID, "name": "Debrief"},
            "text": text,
            "textFormat": "plain",
            "entities": [
                {"type": "mention", "mentioned": {"id": who, "name": name}, "text": f"<at>{name}</at>"}
                for who, name in mentions
            ],
            "channelData": {"tenant": {"id": "tenant-1"}},
        }

    # -- what the bot sent -------------------------------------------------------------------------
    def replies_to(self, activity_id: str) -> list[Sent]:
        with self.lock:
            return [sent for sent in self.sent if sent.reply_to_id == activity_id]

    def wait_for_replies(self, activity_id: str, count: int = 1, timeout: float = 30) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(replies := self.replies_to(activity_id)) < count:
            assert time.monotonic() < deadline, (
                f"{len(replies)} of {count} replies to {activity_id}: {replies}"
            )
            time.sleep(0.05)
        return replies

    # -- serving -------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        if method == "GET" and path == "/botframework/openid":
            with self.lock:
                self.metadata_requests += 1
            if self.metadata_down:
                return 503, {"error": "unavailable"}
            return 200, {"issuer": BOT_FRAMEWORK_ISSUER, "jwks_uri": f"{self.url}/botframework/keys"}
        if method == "GET" and path == "/botframework/keys":
            return 200, {"keys": [key.jwk() for key in self.keys]}
        if method == "POST" and path == "/tenant/oauth2/v2.0/token":
            return self._token(raw)
        if method == "POST" and path.startswith("/svc/v3/conversations/"):
            return self._activity(path.removeprefix("/svc/v3/conversations/"), headers, raw)
        return 404, {"error": "not found"}

    def _token(self, raw: bytes) -> tuple[int, Any]:
        form = {name: values[0] for name, values in parse_qs(raw.decode()).items()}
        with self.lock:
            self.token_requests.append(form)
        if (form.get("client_id"), form.get("client_secret")) != (APP_ID, APP_PASSWORD):
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret",
            }
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scope") != "https://api.botframework.com/.default"
        ):
            return 400, {"error": "invalid_request"}
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": self.access_token}

    def _activity(self, rest: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        conversation, _, tail = unquote(rest).partition("/activities")
        sent = Sent(conversation, tail.strip("/") or None, headers.get("authorization"), json.loads(raw))
        with self.lock:
            if self.failures:
                return self.failures.pop(0), {"error": {"code": "injected", "message": "injected failure"}}
            self.sent.append(sent)
            self._next_id += 1
            return 200, {"id": f"bot-{self._next_id}"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTeams
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body = self.fake.handle(self.command, self.path.split("?")[0], headers, raw)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeTeams.sent` instead."""
