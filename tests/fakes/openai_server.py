"""A scripted OpenAI-compatible server, so tests and benchmarks drive the real `ChatOpenAI` over HTTP.

`/v1/chat/completions` answers from a script, in order: plain text, tool calls, a malformed body, an HTTP error,
each optionally after a delay (to trigger client timeouts). When the script runs out, a `responder` (for example
`auto_agent`) decides; without one the server answers 500 so an unexpected extra call is visible.
`/v1/embeddings` returns deterministic hashed bag-of-words vectors (texts sharing words are close).
Every request body is recorded, so tests can read the prompts, the offered tools and their size.

    with FakeOpenAI() as llm:
        llm.script(Reply.tool_call("search_runbooks", query="pods restarting"), Reply.text("Restart it [x]"))
        ChatOpenAI(base_url=llm.url, api_key="test", ...)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import math
import re
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackFake

EMBEDDING_DIM = 64
_TAG = re.compile(r"\[(?:runbook|incident|event):[^\]\s][^\]]*\]")


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods."""

    content: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (function name, raw JSON arguments)
    status: int = 200
    raw: bytes | None = None  # sent as is (a malformed body)
    delay_s: float = 0.0

    @classmethod
    def text(cls, content: str, delay_s: float = 0.0) -> Reply:
        return cls(content=content, delay_s=delay_s)

    @classmethod
    def tool_call(cls, name: str, delay_s: float = 0.0, **arguments: Any) -> Reply:
        return cls(tool_calls=((name, json.dumps(arguments)),), delay_s=delay_s)

    @classmethod
    def tool_calls_of(cls, *calls: tuple[str, dict[str, Any]]) -> Reply:
        """Several tool calls in one assistant turn."""
        return cls(tool_calls=tuple((name, json.dumps(args)) for name, args in calls))

    @classmethod
    def bad_arguments(cls, name: str, raw_arguments: str = "{not json") -> Reply:
        """A tool call whose arguments are not JSON (a model glitch)."""
        return cls(tool_calls=((name, raw_arguments),))

    @classmethod
    def malformed(cls) -> Reply:
        """HTTP 200 whose body is not JSON."""
        return cls(raw=b'{"id": "chatcmpl-broken", "choices": [')

    @classmethod
    def error(cls, status: int = 500, delay_s: float = 0.0) -> Reply:
        return cls(status=status, delay_s=delay_s)


Responder = Callable[[dict[str, Any]], Reply]


def estimate_tokens(text: str) -> int:
    """About four characters per token: offline, good enough to compare prompt sizes."""
    return math.ceil(len(text) / 4)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens of a chat request: every message plus the tool schemas."""
    return estimate_tokens(json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", [])))


def auto_agent(body: dict[str, Any]) -> Reply:
    """A tiny deterministic agent: search runbooks for the question once, then answer citing what came back."""
    messages = body.get("messages", [])
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    tool_names = {tool["function"]["name"] for tool in body.get("tools", [])}
    tool_results = [m for m in messages[last_user + 1 :] if m.get("role") == "tool"]
    if not tool_results and "search_runbooks" in tool_names and last_user >= 0:
        question = str(messages[last_user].get("content", ""))[:200]
        return Reply.tool_call("search_runbooks", query=question)
    tags = _TAG.findall(" ".join(str(m.get("content", "")) for m in tool_results))
    cited = " ".join(dict.fromkeys(tags[:2]))
    return Reply.text(  # the shape the answer prompt asks for: the likely cause, then the next step
        f"Likely cause (confidence: medium): the last deploy. {cited}".strip()
        + f"\nNext step: follow the runbook steps. {cited}".rstrip()
    )


def hashed_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A unit vector from hashed lowercase words: deterministic, and texts sharing words point alike."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()) or [""]:
        digest = hashlib.sha1(word.encode()).digest()
        vector[digest[0] % dim] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


@dataclass
class FakeOpenAI(LoopbackFake):
    """Start with `with FakeOpenAI() as llm:`; point clients at `llm.url` (it ends in /v1)."""

    name = "fake-openai"

    responder: Responder | None = None
    api_key: str | None = None  # when set, requests must carry `Authorization: Bearer <api_key>`
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)
    _script: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def stopping(self) -> None:
        self._stopping.set()  # wakes delayed replies

    @property
    def url(self) -> str:
        return f"{super().url}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next chat completion requests, in order."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._script)

    def requests_text(self) -> str:
        """Every chat and embedding request body received, as one string (to look for leaked secrets)."""
        with self._lock:
            return "\n".join(json.dumps(body) for body in self.chat_requests + self.embedding_requests)

    # -- request handling ------------------------------------------------------------------------
    def chat(self, body: dict[str, Any]) -> tuple[int, bytes]:
        with self._lock:
            self.chat_requests.append(body)
            reply = self._script.pop(0) if self._script else None
        if reply is None:
            if self.responder is None:
                return 500, _json({"error": {"message": "the fake has no scripted reply left"}})
            reply = self.responder(body)
        if reply.delay_s and self._stopping.wait(reply.delay_s):
            return 503, _json({"error": {"message": "shutting down"}})
        if reply.raw is not None:
            return reply.status, reply.raw
        if reply.status != 200:
            return reply.status, _json({"error": {"message": f"injected failure {reply.status}"}})
        return 200, _json(self._completion(body, reply))

    def embeddings(self, body: dict[str, Any]) -> tuple[int, bytes]:
        with self._lock:
            self.embedding_requests.append(body)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [_as_text(item) for item in inputs]
        data = []
        for index, text in enumerate(texts):
            vector = hashed_embedding(text)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(estimate_tokens(text) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, _json({"object": "list", "data": data, "model": body.get("model"), "usage": usage})

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        number = next(self._ids)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{number}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": args},
                }
                for i, (name, args) in enumerate(reply.tool_calls)
            ]
        completion = estimate_tokens(json.dumps(message))
        prompt = prompt_tokens(body)
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": 1709287200,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


def _as_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    return " ".join(str(token) for token in item)  # token ids: still deterministic


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        expected = self.fake.api_key
        if expected and self.headers.get("Authorization") != f"Bearer {expected}":
            self._send(401, _json({"error": {"message": "invalid api key"}}))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, _json({"error": {"message": "the request body is not JSON"}}))
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/chat/completions"):
            if body.get("stream"):
                self._send(400, _json({"error": {"message": "the fake does not stream"}}))
                return
            self._send(*self.fake.chat(body))
        elif path.endswith("/embeddings"):
            self._send(*self.fake.embeddings(body))
        else:
            self._send(404, _json({"error": {"message": f"no route {path}"}}))

    def _send(self, status: int, payload: bytes) -> None:
        # A client that gave up (a timeout test) is no longer listening: nothing to report.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead of stderr."""
