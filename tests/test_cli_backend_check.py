"""A DEBRIEF_BACKEND that cannot start (a name no backend has, a chat backend without its credential) fails
`debrief health`, the container's health check, and stops `debrief run` before Errbot starts: the same one line,
naming the variable, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def debrief(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEBRIEF_", "OPENAI_", "SLACK_", "TEAMS_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "debrief", *args],
        cwd=tmp_path,
        env={
            **clean,
            "DEBRIEF_DATA_DIR": str(tmp_path / "data"),
            "DEBRIEF_TRACKERS": "none",
            "DEBRIEF_ADMINS": "U0ADMIN",
            "DEBRIEF_HTTP_PORT": str(free_port()),
            "PYTHONPATH": str(REPO),
            **env,
        },
        input="!incident start Should never start\n",
        capture_output=True,
        text=True,
        timeout=90,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"DEBRIEF_BACKEND": "Nonsense"},
            "DEBRIEF_BACKEND: unknown backend 'Nonsense'; use Text, SlackV3 or Teams (or an installed Errbot "
            "backend: ",
        ),
        (
            {"DEBRIEF_BACKEND": "text"},
            "DEBRIEF_BACKEND: unknown backend 'text'; names are case-sensitive: use Text",
        ),
        (
            {"DEBRIEF_BACKEND": "SlackV3", "SLACK_APP_TOKEN": "xapp-1-A1-1-ab"},
            "SLACK_BOT_TOKEN is not set: the SlackV3 backend connects with the Slack app's bot token",
        ),
    ],
    ids=["unknown", "lowercase", "slack-without-bot-token"],
)
def test_a_backend_that_cannot_start_fails_health_and_stops_run_with_one_line(
    tmp_path: Path, env: dict[str, str], line: str
) -> None:
    health = debrief(tmp_path, env, "health")
    run = debrief(tmp_path, env, "run")

    assert health.returncode == 1
    [failed] = [check for check in health.stdout.splitlines() if check.startswith("fail")]
    _, check, detail = failed.split(None, 2)
    assert check == "backend" and detail.startswith(line)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "Should never start" not in run.stdout
    assert run.stderr.splitlines() == [f"debrief: configuration error: {detail}"]  # the very same line


def test_a_slack_bot_with_its_tokens_passes_the_backend_check(tmp_path: Path) -> None:
    env = {"DEBRIEF_BACKEND": "SlackV3", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}

    health = debrief(tmp_path, env, "health")

    assert health.returncode == 0, health.stdout
    assert "ok    backend    SlackV3 (Errbot backend DebriefSlack)" in health.stdout
