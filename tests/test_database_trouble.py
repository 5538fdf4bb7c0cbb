"""A database Debrief cannot use (corrupt, read-only, locked by someone else) stops every command with one clear
line and a non-zero exit: never a traceback, never a bot that stays up with its plugins deactivated."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "run": ["run"],
    "replay": ["replay", "--data-dir", "data", "transcript.json"],
    "health": ["health"],
    "actions": ["actions", "--json"],
    "postmortem": ["postmortem", "--incident", "INC-1"],
}


def debrief(
    tmp_path: Path, *args: str, database_url: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DEBRIEF_", "OPENAI_"))},
        "DEBRIEF_DATA_DIR": str(tmp_path / "data"),
        "DEBRIEF_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "DEBRIEF_TRACKERS": "none",
        "DEBRIEF_HTTP_PORT": str(free_port()),
        "DEBRIEF_DB_LOCK_TIMEOUT": "1",
        "PYTHONPATH": str(REPO),
        **({"DEBRIEF_DATABASE_URL": database_url} if database_url else {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "debrief", *args],
        cwd=tmp_path,
        env=env,
        input="!incident start Should never start\n",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    transcript = {"room": "#inc", "messages": [{"at": "2024-03-01T10:00:00Z", "from": "a", "text": "hi"}]}
    (tmp_path / "transcript.json").write_text(json.dumps(transcript))
    (tmp_path / "data").mkdir()
    return tmp_path


def assert_one_clear_line(result: subprocess.CompletedProcess[str], reason: str) -> None:
    """One `debrief: error` line, or for `debrief health` its one failed check."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("debrief: ")]
    errors += [line for line in result.stdout.splitlines() if line.startswith("fail ")]
    assert len(errors) == 1, result.stderr + result.stdout
    assert reason in errors[0]
    assert "Should never start" not in result.stdout  # the bot never came up to answer


@pytest.mark.parametrize("command", COMMANDS)
def test_a_corrupt_database_stops_every_command_with_one_line(workdir: Path, command: str) -> None:
    (workdir / "data" / "debrief.db").write_bytes(b"this is not a database at all " * 200)

    result = debrief(workdir, *COMMANDS[command])

    assert_one_clear_line(result, "file is not a database")


@pytest.fixture
def existing_database(workdir: Path) -> Path:
    settings = load_settings(DEBRIEF_DATA_DIR=workdir / "data", DEBRIEF_TRACKERS="none")
    Engine.from_settings(settings).close()
    return workdir / "data" / "debrief.db"


@pytest.mark.parametrize("command", ["run", "health"])  # a replay writes to a data dir of its own
def test_a_read_only_database_stops_the_bot_and_the_checks_with_one_line(
    workdir: Path, existing_database: Path, command: str
) -> None:
    result = debrief(
        workdir, *COMMANDS[command], database_url=f"sqlite:///file:{existing_database}?mode=ro&uri=true"
    )

    assert_one_clear_line(result, "readonly database")


@pytest.fixture
def held_lock(existing_database: Path) -> Iterator[None]:
    """Another process (a backup, a stuck filer) holds SQLite's write lock."""
    holder = sqlite3.connect(existing_database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("command", ["run", "replay", "health"])
def test_a_database_locked_by_another_process_stops_the_start_with_one_line(
    workdir: Path, held_lock: None, command: str
) -> None:
    result = debrief(workdir, *COMMANDS[command])

    assert_one_clear_line(result, "database is locked")
