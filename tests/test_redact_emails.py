"""E-mail addresses leave the process only as the installation says (DEBRIEF_REDACT_EMAILS, kept unless set):
in the database, in logs, in the command line's output and on the chat console, from one setting read at start.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.engine import Engine
from agent.models import EventKind
from agent.redact import RedactingFilter, Redactor, redact, redacts_emails, use_policy
from agent.settings import load_settings
from debrief.cli import main
from tests.store_fixtures import at
from tests.test_bot import RUN_BOT

ADDRESS = "oncall@example.com"
REDACTED = "[REDACTED:email]"


@pytest.fixture(autouse=True)
def policy_restored() -> Iterator[None]:
    """The policy is process-wide: each test leaves it as it found it."""
    before = redacts_emails()
    yield
    use_policy(emails=before)


def test_the_setting_is_off_unless_set(tmp_path: Path) -> None:
    assert load_settings(DEBRIEF_DATA_DIR=str(tmp_path)).redact_emails is False
    assert load_settings(DEBRIEF_DATA_DIR=str(tmp_path), DEBRIEF_REDACT_EMAILS="true").redact_emails is True


@pytest.mark.parametrize(("on", "stored"), [(True, f"paged {REDACTED}"), (False, f"paged {ADDRESS}")])
def test_an_address_in_a_chat_note_is_stored_as_the_policy_says(on: bool, stored: str) -> None:
    use_policy(emails=on)
    engine = Engine.open("sqlite://")
    try:
        incident = engine.incidents.start("#inc-mail", "Checkout down", "alice", at(0))
        engine.timeline.record(incident.id, at(1), "bob", f"paged {ADDRESS}", kind=EventKind.NOTE)
        notes = [
            e.text for e in engine.timeline.events(incident.id, key_only=False) if e.kind == EventKind.NOTE
        ]
    finally:
        engine.close()

    assert notes == [stored]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize(("on", "line"), [(True, f"paging {REDACTED}"), (False, f"paging {ADDRESS}")])
def test_an_address_in_a_log_line_is_written_as_the_policy_says(on: bool, line: str) -> None:
    log, capture = logging.getLogger("debrief.test_redact_emails"), Capture()
    capture.addFilter(RedactingFilter())  # built before the policy is set, as at start: it follows it anyway
    log.addHandler(capture)
    log.propagate = False
    try:
        use_policy(emails=on)
        log.warning("paging %s", ADDRESS)
    finally:
        log.removeHandler(capture)
        log.propagate = True

    assert capture.lines == [line]


@pytest.mark.parametrize(("setting", "redacted"), [("true", True), ("false", False)])
def test_an_address_in_the_command_lines_output_is_printed_as_the_setting_says(
    tmp_path: Path, setting: str, redacted: bool
) -> None:
    transcript = tmp_path / "transcript.json"
    transcript.write_text(
        json.dumps(
            {
                "room": "#inc-mail",
                "messages": [
                    {
                        "at": "2024-03-01T10:00:00Z",
                        "from": "alice",
                        "text": f"!incident start Mail to {ADDRESS}",
                    }
                ],
            }
        )
    )
    runner = CliRunner(env={"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_REDACT_EMAILS": setting})

    result = runner.invoke(main, ["replay", "--json", str(transcript)])

    assert result.exit_code == 0, result.output
    (reply,) = json.loads(result.stdout)["replies"]
    assert reply["to"] == f"!incident start Mail to {REDACTED if redacted else ADDRESS}"
    assert (REDACTED in reply["text"], ADDRESS in result.stdout) == (redacted, not redacted)


def test_a_caller_that_chooses_is_not_overruled_by_the_policy() -> None:
    use_policy(emails=True)
    line = f"mail {ADDRESS}"

    assert redact(line) == f"mail {REDACTED}"
    assert redact(line, emails=False) == line
    assert Redactor(emails=False)(line) == line
    use_policy(emails=False)
    assert Redactor(emails=True)(line) == f"mail {REDACTED}"


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_the_bot_started_with_the_setting_on_redacts_addresses_on_the_console_and_in_the_database(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBRIEF_", "SLACK_", "OPENAI_"))}
    env |= {"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_HTTP_PORT": str(port)}
    env["DEBRIEF_REDACT_EMAILS"] = "true"
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
            bot.stdin.write(f"!incident start Mail to {ADDRESS}\n!note paged {ADDRESS}\n!timeline\n")
            bot.stdin.close()
            assert bot.wait(timeout=30) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    engine = Engine.from_settings(load_settings(DEBRIEF_DATA_DIR=tmp_path / "data"))
    try:
        stored = [event.text for event in engine.timeline.events("INC-1", key_only=False)]
    finally:
        engine.close()

    console = output.read_text()
    assert f"Mail to {REDACTED}" in console
    assert f"paged {REDACTED}" in stored
    assert ADDRESS not in console + "".join(stored)
