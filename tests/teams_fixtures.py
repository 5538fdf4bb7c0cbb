"""The real bot process (`python -m debrief run`, DEBRIEF_BACKEND=Teams) against the fake Teams connector."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from agent.engine import Engine
from agent.models import TimelineEvent
from agent.settings import load_settings
from tests.fakes.teams_connector import APP_ID, APP_PASSWORD, FakeTeams
from tests.knowledge_fixtures import write_files

ADMIN = "29:admin"
START_TIMEOUT_S = 60


@dataclass
class TeamsBot:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    output: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def post(self, activity: dict[str, Any], token: str | None = None, **headers: str) -> requests.Response:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(self.endpoint, json=activity, headers=headers, timeout=10)

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """The bot's database, opened beside it (SQLite in WAL mode)."""
        settings = load_settings(DEBRIEF_DATA_DIR=self.data_dir, DEBRIEF_TRACKERS="none")
        engine = Engine.from_settings(settings)
        try:
            yield engine
        finally:
            engine.close()

    def timeline(self, room: str) -> list[TimelineEvent]:
        """Every event of the room's open incident."""
        with self.engine() as engine:
            incident = engine.incidents.open_in_room(room)
            assert incident is not None, f"no open incident in {room}"
            return engine.timeline.events(incident.id, key_only=False)

    def wait_for_event(self, room: str, text: str, timeout: float = 20) -> TimelineEvent:
        """The room's timeline event with exactly this text, once the bot has committed it."""
        deadline = time.monotonic() + timeout
        while not (found := [event for event in self.timeline(room) if event.text == text]):
            assert time.monotonic() < deadline, f"{text!r} never reached the timeline of {room}"
            time.sleep(0.1)
        return found[0]

    def log(self) -> str:
        return self.output.read_text(errors="replace")


@dataclass(frozen=True)
class RawAnswer:
    """What a hand-made HTTP request got: the status (None if the connection was closed without an answer), the
    body, and how many body bytes the client managed to send before it read the answer or was cut off."""

    status: int | None
    body: bytes
    sent: int


def raw_post(
    port: int,
    headers: dict[str, str],
    body: Iterable[bytes],
    chunked: bool = False,
    timeout: float = 20,
    path: str = "/api/messages",
) -> RawAnswer:
    """POST `body` (pieces) to `path` over a plain socket, with exactly these headers (and no
    Content-Length of its own), in HTTP chunks when `chunked`; then read the answer."""
    head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": "debrief", **headers}.items())
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode())
            for piece in body:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the bot answered and closed early: read what it said
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line.startswith(b"HTTP/") else None
    return RawAnswer(status, rest.partition(b"\r\n\r\n")[2], sent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def bot_env(root: Path, teams: FakeTeams, port: int, authenticated: bool) -> dict[str, str]:
    prefixes = ("DEBRIEF_", "SLACK_", "OPENAI_", "TEAMS_", "JIRA_", "GITHUB_", "CHROMA_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
    env.update(
        DEBRIEF_BACKEND="Teams",
        DEBRIEF_DATA_DIR=str(root / "data"),
        DEBRIEF_KNOWLEDGE_DIR=str(root / "knowledge"),
        DEBRIEF_HTTP_PORT=str(port),
        DEBRIEF_ADMINS=ADMIN,
        DEBRIEF_TRACKERS="none",
        TEAMS_SERVICE_URL_HOSTS="127.0.0.1",  # the fake connector; Microsoft's hosts otherwise
    )
    if authenticated:
        env.update(
            TEAMS_APP_ID=APP_ID,
            TEAMS_APP_PASSWORD=APP_PASSWORD,
            TEAMS_TOKEN_URL=teams.token_url,
            TEAMS_OPENID_METADATA_URL=teams.metadata_url,
        )
    return env


@contextmanager
def teams_bot(
    root: Path,
    teams: FakeTeams,
    authenticated: bool,
    knowledge: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[TeamsBot]:
    """Start the bot (with `env` on top of its usual environment), wait until `/api/messages` listens, stop it
    with SIGTERM afterwards."""
    (root / "knowledge").mkdir(parents=True, exist_ok=True)
    write_files(root / "knowledge", knowledge or {})
    port = free_port()
    output = root / "bot-output.txt"
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "debrief", "run"],
            cwd=root,
            env={**bot_env(root, teams, port, authenticated), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    bot = TeamsBot(process, port, root / "data", output)
    try:
        wait_for(lambda: _listening(port) or process.poll() is not None, START_TIMEOUT_S)
        assert process.poll() is None, f"the bot exited early:\n{bot.log()}"
        yield bot
    finally:
        stop(bot)


def stop(bot: TeamsBot, timeout: float = 30) -> int:
    if bot.process.poll() is None:
        bot.process.send_signal(signal.SIGTERM)
        try:
            bot.process.wait(timeout)
        except subprocess.TimeoutExpired:
            bot.process.kill()
            bot.process.wait()
    return bot.process.returncode
