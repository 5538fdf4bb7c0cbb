"""A real `debrief run` on the Text console in a fresh data dir, driven line by line (for the benches).

    with console_bot(DEBRIEF_WARM_UP="false") as bot:
        bot.send("!incident start Checkout 5xx --sev SEV2")
        bot.wait_for("INC-1 started")

The bot reads the starter knowledge (knowledge/), has no LLM key or trackers, and serves HTTP on a free port;
its console output goes to a file that `wait_for` reads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class ConsoleBot:
    def __init__(self, process: subprocess.Popen[str], output: Path) -> None:
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, count: int = 1, timeout: float = 180) -> None:
        """Until the console has printed `text` `count` times."""
        deadline = time.monotonic() + timeout
        while self.output.read_text(errors="replace").count(text) < count:
            if time.monotonic() > deadline:
                tail = self.output.read_text(errors="replace")[-2000:]
                raise SystemExit(f"{text!r} never appeared:\n{tail}")
            time.sleep(0.02)


@contextmanager
def console_bot(**settings: str) -> Iterator[ConsoleBot]:
    """The bot with `settings` (environment variables) on top of the bench's own; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="debrief-bench-bot-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBRIEF_", "SLACK_", "OPENAI_"))}
        env.update(
            DEBRIEF_DATA_DIR=f"{tmp}/data",
            DEBRIEF_KNOWLEDGE_DIR=str(REPO / "knowledge"),
            DEBRIEF_HTTP_PORT=str(_free_port()),
            DEBRIEF_TRACKERS="none",
            **settings,
        )
        output = Path(tmp) / "console.txt"
        with output.open("w") as stdout:
            process = subprocess.Popen(
                [sys.executable, "-m", "debrief", "run"],
                cwd=tmp,
                env=env,
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                yield ConsoleBot(process, output)
            finally:
                assert process.stdin is not None
                process.stdin.close()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
