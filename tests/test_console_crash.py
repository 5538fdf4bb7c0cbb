"""Chat lines are committed within a bounded delay of reaching the bot (bench/capture_delay.py measures it: p99
a few ms at a steady pace, about 0.1-0.3 s at the end of a 2,000-line burst), so a kill -9 after that delay
loses none. A real `debrief run` on the Text console, its input a pipe."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.engine import Engine
from agent.models import EventKind
from agent.settings import load_settings
from tests.test_bot import debrief_env, free_port

LINES = 12  # Errbot's Text console reads one line every half second
BOUND_S = 1.0  # several times the worst capture-to-commit delay measured for a burst


def wait_for_text(path: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} never appeared"
        time.sleep(0.05)


def test_chat_lines_are_committed_within_the_bound_so_a_kill_9_after_it_loses_none(tmp_path: Path) -> None:
    output = tmp_path / "console.txt"
    with output.open("w") as stdout:
        bot = subprocess.Popen(
            [sys.executable, "-m", "debrief", "run"],
            cwd=tmp_path,
            env={**debrief_env(tmp_path, free_port()), "DEBRIEF_TRACKERS": "none"},
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert bot.stdin is not None
            bot.stdin.write("!incident start Console crash drill\n")
            bot.stdin.flush()
            wait_for_text(output, "INC-1 started")
            bot.stdin.write(
                "".join(f"line {n} before the crash\n" for n in range(LINES)) + "!echo all read\n"
            )
            bot.stdin.flush()
            wait_for_text(output, "all read")  # the console reads in order: every line has reached the bot
            time.sleep(BOUND_S)
            os.kill(bot.pid, signal.SIGKILL)
            bot.wait(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
            with contextlib.suppress(OSError):
                bot.stdin.close()  # type: ignore[union-attr]

    engine = Engine.from_settings(load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_TRACKERS="none"))
    try:
        lines = [
            e.text for e in engine.timeline.events("INC-1", key_only=False) if e.kind is EventKind.MESSAGE
        ]
    finally:
        engine.close()
    lost = sorted(set(f"line {n} before the crash" for n in range(LINES)) - set(lines))
    assert (lost, len(lines)) == ([], LINES)
