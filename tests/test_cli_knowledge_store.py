"""A Chroma store `debrief ingest` and `debrief search` cannot use (damaged, read-only) is one line naming it and
what to do, never a traceback; `debrief ingest` runs started together on a fresh data dir take turns opening it."""

from __future__ import annotations

import fcntl
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.knowledge_fixtures import RUNBOOKS, write_files

REPO = Path(__file__).resolve().parent.parent


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "debrief", *args]


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DEBRIEF_", "CHROMA_"))},
        "DEBRIEF_DATA_DIR": str(tmp_path / "data"),
        "DEBRIEF_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "PYTHONPATH": str(REPO),
    }


def debrief(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    """A data dir whose store holds the runbooks; returns the store's folder."""
    write_files(tmp_path / "knowledge", RUNBOOKS)
    result = debrief(tmp_path, "ingest")
    assert result.returncode == 0, result.stderr
    return tmp_path / "data" / "chroma"


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("debrief: error: ")
    for word in words:
        assert word in line, line


@pytest.mark.parametrize("args", [["search", "node disk is full"], ["ingest"], ["ingest", "--forget", "x"]])
def test_a_damaged_store_is_one_line_saying_how_to_rebuild_it(
    tmp_path: Path, ingested: Path, args: list[str]
) -> None:
    (ingested / "chroma.sqlite3").write_bytes(b"not a database at all " * 500)

    result = debrief(tmp_path, *args)

    assert_one_line(
        result,
        f"the Chroma store at {ingested} is damaged: move {ingested} aside, then `debrief ingest` rebuilds it",
        "file is not a database",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files: no read-only store to test")
def test_a_read_only_store_is_one_line_naming_it(tmp_path: Path, ingested: Path) -> None:
    paths = [ingested, *ingested.rglob("*")]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        searched = debrief(tmp_path, "search", "node disk is full")
        ingested_again = debrief(tmp_path, "ingest")
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)

    for result in (searched, ingested_again):
        assert_one_line(result, f"the Chroma store at {ingested} is read-only here: make {ingested} writable")


def test_ingests_started_together_on_a_fresh_data_dir_take_turns_opening_the_store(tmp_path: Path) -> None:
    """Two processes creating a fresh store's tables at once fail ("table collections already exists", "database
    is locked"): the second waits for the first's lock. Held here, the lock keeps an ingest from touching the
    store until it is released; then the ingest goes on as usual."""
    write_files(tmp_path / "knowledge", RUNBOOKS)
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "chroma.lock").open("a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ingest = subprocess.Popen(
            command("ingest", "--json"),
            cwd=tmp_path,
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            waiting = _first_line_with(
                ingest, "Waiting for another process to finish opening the Chroma store"
            )
            opened = (tmp_path / "data" / "chroma" / "chroma.sqlite3").exists()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        stdout, stderr = ingest.communicate(timeout=120)

    assert waiting is not None, "the ingest never waited for the lock"
    assert not opened  # nothing was made in the store while the lock was held
    assert ingest.returncode == 0, stderr
    assert f'"files": {len(RUNBOOKS)}' in stdout


def test_three_ingests_at_once_on_a_fresh_data_dir_all_succeed(tmp_path: Path) -> None:
    write_files(tmp_path / "knowledge", RUNBOOKS)
    runs = [
        subprocess.Popen(
            command("ingest"),
            cwd=tmp_path,
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(run.communicate(timeout=180), run.returncode) for run in runs]

    assert [code for _, code in results] == [0, 0, 0], [err for (_, err), _ in results]
    assert "Traceback" not in "".join(err for (_, err), _ in results)


def _first_line_with(process: subprocess.Popen[str], words: str, timeout: float = 90) -> str | None:
    """The first line of the process's stderr holding `words`, or None when it ends (or `timeout` passes)
    first. The rest of stderr is left for `communicate`."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in iter(process.stderr.readline, ""):
            lines.put(line)
            if words in line:
                return
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None or words in line:
            return line
