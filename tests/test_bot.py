"""Errbot's configuration from Debrief's settings, and `run_bot` on the Text console end to end."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from agent.engine import Engine
from agent.settings import Settings, load_settings
from debrief.bot.config import BotConfigError, errbot_config
from debrief.bot.runner import webserver_config

REPO = Path(__file__).resolve().parent.parent
SECRET = "hunter2-Xq93kLmz"
# `debrief run` as a process of its own, on the settings of its environment.
RUN_BOT = [
    sys.executable,
    "-c",
    "from agent.settings import load_settings; from debrief.bot.runner import run_bot; run_bot(load_settings())",
]


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_TRACKERS="none", **overrides)


def test_errbot_runs_offline_from_the_data_dir(tmp_path: Path) -> None:
    config = errbot_config(settings_for(tmp_path))

    assert config["BACKEND"] == "DebriefText"  # Errbot's Text console, every reply redacted
    assert config["BOT_DATA_DIR"] == str((tmp_path / "data" / "errbot").resolve())
    assert config["BOT_LOG_FILE"] == str((tmp_path / "data" / "errbot" / "errbot.log").resolve())
    assert config["BOT_EXTRA_PLUGIN_DIR"] == str(REPO / "plugins")
    assert config["BOT_PLUGIN_INDEXES"] == ()
    assert config["AUTOINSTALL_DEPS"] is False
    assert "VersionChecker" not in config["CORE_PLUGINS"]  # type: ignore[operator]
    assert config["BOT_PREFIX"] == "!"


def test_text_console_has_a_default_admin_and_configured_admins_win(tmp_path: Path) -> None:
    assert errbot_config(settings_for(tmp_path))["BOT_ADMINS"] == ("@localuser",)
    configured = errbot_config(settings_for(tmp_path, DEBRIEF_ADMINS="alice,@bob"))
    assert configured["BOT_ADMINS"] == ("@alice", "@bob")  # the console's people are @names, however given
    assert configured["ACCESS_CONTROLS"]["Plugins:*"] == {"allowusers": ("@alice", "@bob")}  # type: ignore[index]


def test_chat_backend_without_admins_fails_with_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(
        BotConfigError, match="DEBRIEF_ADMINS: Errbot needs at least one admin on the SlackV3"
    ):
        errbot_config(settings_for(tmp_path, DEBRIEF_BACKEND="SlackV3"))


def test_slack_tokens_become_the_bot_identity(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        DEBRIEF_BACKEND="SlackV3",
        DEBRIEF_ADMINS="U012ADMIN",
        SLACK_BOT_TOKEN=SecretStr("xoxb-1"),
        SLACK_APP_TOKEN=SecretStr("xapp-1"),
    )
    assert errbot_config(settings)["BOT_IDENTITY"] == {"token": "xoxb-1", "app_token": "xapp-1"}


def test_webhooks_listen_locally_for_the_console_and_on_all_interfaces_for_chat(tmp_path: Path) -> None:
    assert webserver_config(settings_for(tmp_path, DEBRIEF_HTTP_PORT=4000))["HOST"] == "127.0.0.1"
    chat = webserver_config(settings_for(tmp_path, DEBRIEF_BACKEND="SlackV3", DEBRIEF_HTTP_PORT=4000))
    assert (chat["HOST"], chat["PORT"]) == ("0.0.0.0", 4000)


def debrief_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBRIEF_", "SLACK_", "OPENAI_"))}
    return {**env, "DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_HTTP_PORT": str(port)}


def test_config_py_is_what_errbot_loads(tmp_path: Path) -> None:
    script = "import config, json; print(json.dumps([config.BACKEND, config.BOT_DATA_DIR, list(config.BOT_ADMINS)]))"
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=debrief_env(tmp_path, 3978),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        "DebriefText",
        str((tmp_path / "data" / "errbot").resolve()),
        ["@localuser"],
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_run_bot_serves_the_console_and_the_webhooks_until_end_of_input(tmp_path: Path) -> None:
    port = free_port()
    env = debrief_env(tmp_path, port)
    output = tmp_path / "console.txt"
    with output.open("w") as stdout:
        bot = subprocess.Popen(
            RUN_BOT,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert bot.stdin is not None
            wait_for(lambda: listening(port))
            bot.stdin.write("!incident start Console drill --service checkout-api\n")
            bot.stdin.flush()
            settings = load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_TRACKERS="none")
            engine = Engine.from_settings(settings)
            try:
                wait_for(lambda: engine.incidents.open_in_room("#testroom") is not None)
            finally:
                engine.close()
            alert = {
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "Drill", "service": "checkout-api"},
                        "startsAt": "2024-03-01T09:58:00Z",
                    }
                ]
            }
            response = requests.post(f"http://127.0.0.1:{port}/debrief/alertmanager", json=alert, timeout=5)
            assert response.json()["incidents"] == ["INC-1"]
            bot.stdin.write(f"!note rotated the key, old one was password={SECRET}\n")
            bot.stdin.write("!timeline\n")
            bot.stdin.close()
            assert bot.wait(timeout=30) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    console = output.read_text()
    assert "INC-1 started: Console drill (service checkout-api)" in console
    assert "Alert firing: Drill" in console
    assert "password=[REDACTED:password]" in console
    logs = "".join(path.read_text() for path in (tmp_path / "data").rglob("*.log"))
    assert logs, "the bot wrote no log file"
    assert SECRET not in console + logs


def test_the_console_starts_in_a_room_with_admins_given_without_at_and_answers_to_its_name(
    tmp_path: Path,
) -> None:
    """`DEBRIEF_ADMINS=localuser` once crashed start-up; a mention uses `DEBRIEF_BOT_NAME`."""
    port = free_port()
    env = {**debrief_env(tmp_path, port), "DEBRIEF_ADMINS": "localuser", "DEBRIEF_BOT_NAME": "sre-bot"}
    console = subprocess.run(
        RUN_BOT,
        cwd=tmp_path,
        env=env,
        input="!incident start Console room drill\n@sre-bot is there a runbook for payment timeouts?\n",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert console.returncode == 0, console.stdout + console.stderr
    shown = re.sub(r"\x1b\[[0-9;]*m", "", console.stdout)  # the console's colours
    assert "You are in the room #testroom" in shown
    assert "`@sre-bot QUESTION` asks the assistant" in shown
    assert "INC-1 started: Console room drill" in shown
    assert "[#testroom/localuser ➡ #testroom]" in shown  # in the room from the first line on
    assert "Sources:" in shown  # the mention was answered
    engine = Engine.from_settings(load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_TRACKERS="none"))
    try:
        incident = engine.incidents.latest_in_room("#testroom")
    finally:
        engine.close()
    assert incident is not None and incident.title == "Console room drill"
