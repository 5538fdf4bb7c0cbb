"""The real bot process (`python -m debrief run`) on the SlackV3 backend, talking to a `FakeSlack` on 127.0.0.1.

`slack_bot_process` starts it with SLACK_API_URL pointing at the fake, in Socket Mode (SLACK_APP_TOKEN) or on the
Events API (SLACK_SIGNING_SECRET: Slack POSTs signed events to Errbot's webserver at `/slack/events`), and stops it
with SIGTERM as `docker stop` does. `SlackBot.say` delivers a message the way Slack would in that mode.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import requests

from agent.settings import Settings, load_settings
from tests.fakes.slack_server import FakeSlack, event_callback, message_event, sign, slack_ts

REPO = Path(__file__).resolve().parent.parent
ADMIN = "U0ALICE"
PEOPLE = {ADMIN: "alice", "U0BOB": "bob", "U0CAROL": "carol"}
PROBE_CHANNEL = "C0PROBE"
SIGNING_SECRET = "fake-signing-secret-8f2d"
START_TIMEOUT_S = 90.0
ACTIVATED = "Plugin activation done."  # Errbot's log line once every plugin is active
T = TypeVar("T")


@dataclass
class SlackBot:
    """A running bot process, the fake it talks to, and how events reach it."""

    slack: FakeSlack
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path
    port: int
    events_api: bool
    sequence: int = 0

    def say(self, channel: str, user: str, text: str, at: datetime, thread_ts: str | None = None) -> str:
        """Deliver `text` as `user`'s message in `channel` at `at`; its Slack `ts`."""
        self.sequence += 1  # distinct ts for messages in the same second
        ts = slack_ts(at, self.sequence)
        self.deliver(message_event(channel, user, text, ts, thread_ts=thread_ts))
        return ts

    def deliver(self, event: dict[str, Any]) -> None:
        """One event, over the Socket Mode websocket or as a signed Events API request."""
        if not self.events_api:
            self.slack.push(event)
            return
        self.slack.subscribed(event)
        response = self.post_event(event_callback(event, f"Ev{self.sequence}"))
        assert response.status_code == 200, response.text

    def post_event(
        self, payload: dict[str, Any], secret: str = SIGNING_SECRET, timestamp: int | None = None
    ) -> requests.Response:
        """POST `payload` to the bot's Events API endpoint, signed with `secret` at `timestamp` (default: now)."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **sign(secret, body, timestamp)}
        return requests.post(
            f"http://127.0.0.1:{self.port}/slack/events", data=body, headers=headers, timeout=10
        )

    def replies(self, channel: str) -> list[dict[str, Any]]:
        """What the bot posted to `channel` so far."""
        with self.slack.lock:
            return [post for post in self.slack.posted if post["channel"] == channel]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_workspace(slack: FakeSlack, channels: dict[str, str]) -> None:
    """The people of `PEOPLE`, the probe channel and `channels` (id -> name)."""
    for user_id, name in PEOPLE.items():
        slack.add_user(user_id, name)
    for channel_id, name in {PROBE_CHANNEL: "debrief-probe", **channels}.items():
        slack.add_channel(channel_id, name)


def bot_environment(
    slack: FakeSlack, data_dir: Path, knowledge_dir: Path, events_api: bool
) -> dict[str, str]:
    """The process environment: only the settings given here (nothing from the developer's shell)."""
    prefixes = ("DEBRIEF_", "SLACK_", "OPENAI_", "JIRA_", "GITHUB_", "CHROMA_", "TEAMS_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
    receiving = (
        {"SLACK_SIGNING_SECRET": SIGNING_SECRET} if events_api else {"SLACK_APP_TOKEN": slack.app_token}
    )
    return {
        **env,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "DEBRIEF_BACKEND": "SlackV3",
        "DEBRIEF_DATA_DIR": str(data_dir),
        "DEBRIEF_KNOWLEDGE_DIR": str(knowledge_dir),
        "DEBRIEF_ADMINS": ADMIN,
        "DEBRIEF_TRACKERS": "none",
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url.rstrip("/"),
        **receiving,
    }


@contextmanager
def slack_bot_process(
    slack: FakeSlack, root: Path, knowledge_dir: Path, events_api: bool = False
) -> Iterator[SlackBot]:
    """A started bot that answers; on exit it is stopped with SIGTERM and must exit cleanly."""
    port = free_port()
    data_dir = root / "data"
    env = {**bot_environment(slack, data_dir, knowledge_dir, events_api), "DEBRIEF_HTTP_PORT": str(port)}
    log = root / "bot-output.txt"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "debrief", "run"],
            cwd=root,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    settings = load_settings(
        DEBRIEF_DATA_DIR=data_dir, DEBRIEF_KNOWLEDGE_DIR=knowledge_dir, DEBRIEF_TRACKERS="none"
    )
    bot = SlackBot(slack, settings, process, log, port, events_api)
    try:
        wait_until_answering(bot)
        yield bot
    finally:
        code = stop(process)
    assert code == 0, f"the bot did not stop cleanly on SIGTERM (exit {code}):\n{bot.output()[-3000:]}"


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as `docker stop` and Kubernetes send it: Errbot shuts down and the plugins flush."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def eventually(check: Callable[[], T | None], timeout: float = 30, what: str = "a condition") -> T:
    """Poll `check` until it returns something other than None (for state outside the fake, e.g. the database)."""
    deadline = time.monotonic() + timeout
    while (result := check()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def wait_until_answering(bot: SlackBot) -> None:
    """Errbot activates its plugins once connected, while events may already flow: wait for the end of the
    activation (its log line), then check the round trip with `!echo`."""
    eventually(
        lambda: True if ACTIVATED in bot.output() or bot.process.poll() is not None else None,
        START_TIMEOUT_S,
        "the plugins to activate",
    )
    assert bot.process.poll() is None, f"the bot exited:\n{bot.output()}"
    bot.say(PROBE_CHANNEL, ADMIN, "!echo ready", datetime.now().astimezone())
    bot.slack.wait_for_post(lambda post: post["channel"] == PROBE_CHANNEL and post["text"] == "ready")
