"""A bot killed (SIGKILL) during its first run starts again and answers: Errbot's state is committed SQL.

Real processes: `python -m debrief run` on the Text console, on a fresh data dir (and a fresh PostgreSQL schema),
killed at several points of its first run, then started again and asked to start an incident.

Errbot's default Shelf storage fails this: killed once the bot is up, every later start dies reading the Shelf
(`UnpicklingError: pickle data was truncated`) until its files are deleted. The control test runs the same crash on
the Shelf, so a pass here means the kills landed where the Shelf breaks.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.store_fixtures import backend, database_url
from tests.test_bot import debrief_env, free_port

__all__ = ["backend"]

REPO = Path(__file__).resolve().parent.parent
DEBRIEF_RUN = [sys.executable, "-m", "debrief", "run"]
ON_ERRBOTS_SHELF = [sys.executable, str(REPO / "tests" / "shelf_bot_child.py")]
FIRST_ANSWER = "This room has no incident yet"  # to `!incident status` on a fresh bot
AFTER_RESTART = "INC-1 started: Drill after the crash"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class KillPoint:
    name: str
    log_line: str | None = None  # kill as soon as this line is in Errbot's log
    after_first_answer: bool = False


KILL_POINTS = (
    KillPoint("right after the process starts"),
    KillPoint("while the storage opens the database", log_line="for Errbot's state"),
    KillPoint("while plugins activate", log_line="Activate plugin: Debrief"),
    KillPoint("after its first answer", after_first_answer=True),
)


class ConsoleBot:
    """One `debrief run` process on the Text console: stdin is the chat, its output goes to a file."""

    def __init__(self, command: list[str], env: dict[str, str], folder: Path, name: str) -> None:
        self.output = folder / f"{name}.txt"
        self.log = Path(env["DEBRIEF_DATA_DIR"]) / "errbot" / "errbot.log"
        with self.output.open("w") as output:
            self.process = subprocess.Popen(
                command,
                cwd=folder,
                env=env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def say(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{text}\n")
        self.process.stdin.flush()

    def shows(self, text: str) -> bool:
        return text in self.output.read_text(errors="replace")

    def logged(self, line: str) -> bool:
        return self.log.is_file() and line in self.log.read_text(errors="replace")

    def wait_until(self, check: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> bool:
        """True once `check()` holds; False if the process ended or the time ran out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            if self.process.poll() is not None:
                return check()
            time.sleep(0.005)
        return False

    def kill(self) -> int:
        self.process.send_signal(signal.SIGKILL)
        returncode = self.process.wait(timeout=30)
        if self.process.stdin is not None:
            self.process.stdin.close()
        return returncode

    def stop(self) -> int:
        """End of input stops the console; a bot that does not stop is killed."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def crash_then_restart(command: list[str], env: dict[str, str], folder: Path, point: KillPoint) -> ConsoleBot:
    """Kill a fresh bot at `point` of its first run, start it again and ask it to start an incident.

    Returns the restarted bot, stopped (killed, to save the shutdown's time) once it answered or gave up.
    """
    first = ConsoleBot(command, env, folder, "first-run")
    try:
        if point.after_first_answer:
            first.say("!incident status")
            assert first.wait_until(lambda: first.shows(FIRST_ANSWER)), f"{point.name}: no first answer"
        elif point.log_line is not None:
            assert first.wait_until(lambda: first.logged(point.log_line or "")), f"{point.name}: never logged"
        assert first.kill() == -signal.SIGKILL, f"{point.name}: the first run ended before it was killed"
    finally:
        first.stop()
    restart = ConsoleBot(command, env, folder, "restart")
    try:
        restart.say("!incident start Drill after the crash")
        restart.wait_until(lambda: restart.shows(AFTER_RESTART))
    finally:
        restart.kill()
    return restart


def restart_failure(backend: str, folder: Path, point: KillPoint) -> str | None:
    """None when `debrief run`, killed at `point` of its first run, started again and answered; else why not."""
    folder.mkdir()
    with database_url(backend, folder / "data") as url:
        env = {**debrief_env(folder, free_port()), "PYTHONPATH": str(REPO)}
        if backend == "postgres":
            env["DEBRIEF_DATABASE_URL"] = url
        restart = crash_then_restart(DEBRIEF_RUN, env, folder, point)
    if restart.shows(AFTER_RESTART):
        return None
    return f"killed {point.name}, the restart did not answer:\n{restart.output.read_text(errors='replace')[-1500:]}"


def test_a_bot_killed_during_its_first_run_starts_again_and_answers(backend: str, tmp_path: Path) -> None:
    # Each kill point has its own data dir (and database): they run side by side.
    with ThreadPoolExecutor(max_workers=len(KILL_POINTS)) as pool:
        runs = [
            pool.submit(restart_failure, backend, tmp_path / f"kill-{n}", p)
            for n, p in enumerate(KILL_POINTS)
        ]
        failures = [failure for run in runs if (failure := _outcome(run)) is not None]
    assert not failures, "\n\n".join(failures)


def _outcome(run: Future[str | None]) -> str | None:
    """The run's failure, a first run that could not be killed where planned included."""
    try:
        return run.result()
    except AssertionError as exc:
        return str(exc)


def test_control_errbots_shelf_does_not_start_again_after_the_same_crash(tmp_path: Path) -> None:
    env = {**debrief_env(tmp_path, free_port()), "PYTHONPATH": str(REPO)}
    restart = crash_then_restart(ON_ERRBOTS_SHELF, env, tmp_path, KILL_POINTS[-1])
    assert not restart.shows(AFTER_RESTART)
    assert "UnpicklingError" in restart.output.read_text(errors="replace")
    assert list((tmp_path / "data" / "errbot").glob("core.db*")), "the control ran on the Shelf"
