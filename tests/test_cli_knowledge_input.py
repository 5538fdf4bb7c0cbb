"""What `debrief search` and `debrief ingest` are given, taken as it comes: bytes that are not UTF-8 in a command
line or a pipe, a query of megabytes, an empty query, `--min-score nan`, a path to forget that nothing came from.
Each is answered or refused in one line; one query of `search -` that fails does not stop the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from debrief.cli import main
from tests.knowledge_fixtures import knowledge_dir, write_files

__all__ = ["knowledge_dir"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path, knowledge_dir: Path) -> dict[str, str]:
    return {"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_KNOWLEDGE_DIR": str(knowledge_dir)}


@pytest.fixture
def runner(env: dict[str, str]) -> CliRunner:
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["ingest"]).exit_code == 0
    return runner


def debrief(
    env: dict[str, str], *args: str | bytes, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """The real command line: arguments as bytes reach it as the shell passes them."""
    return subprocess.run(
        [sys.executable, "-m", "debrief", *args],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def test_latin1_bytes_in_a_query_are_searched_as_replacement_characters(runner: CliRunner) -> None:
    piped = runner.invoke(
        main, ["search", "-", "--limit", "1"], input=b"node disk full\n\xe9t\xe9 disk\ntls cert expiring\n"
    )

    assert piped.exit_code == 0, piped.output
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["node disk full", "\ufffdt\ufffd disk", "tls cert expiring"]
    assert lines[2]["results"][0]["source"] == "runbooks/tls-expiry.md"  # the line after it is answered


def test_latin1_bytes_in_the_command_line_are_searched_as_replacement_characters(
    runner: CliRunner, env: dict[str, str]
) -> None:
    result = debrief(env, "search", "--json", "--min-score", "0", b"\xe9t\xe9 disk full")

    assert result.returncode == 0, result.stderr.decode()
    payload = json.loads(result.stdout)
    assert payload["query"] == "\ufffdt\ufffd disk full"
    assert payload["results"][0]["source"] == "runbooks/disk-full.md"


def test_a_query_that_fails_is_reported_on_its_line_and_the_next_ones_are_answered(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    """The store fails for the second query only (its file damaged, then put back): that line says why."""
    search = subprocess.Popen(
        [sys.executable, "-m", "debrief", "search", "-", "--limit", "1"],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert search.stdin is not None and search.stdout is not None
    store = tmp_path / "data" / "chroma"
    sound = (store / "chroma.sqlite3").read_bytes()[:4096]

    def ask(query: str) -> dict[str, object]:
        assert search.stdin is not None and search.stdout is not None
        search.stdin.write(query + "\n")
        search.stdin.flush()
        answer: dict[str, object] = json.loads(search.stdout.readline())
        return answer

    try:
        first = ask("node disk full")
        with (store / "chroma.sqlite3").open("r+b") as database:
            database.write(b"damaged!" * 512)
        second = ask("tls cert expiring")
        with (store / "chroma.sqlite3").open("r+b") as database:
            database.write(sound)
        third = ask("tls cert expiring")
    finally:
        search.stdin.close()
        stderr = search.stderr.read() if search.stderr else ""
        search.wait(timeout=60)
        search.stdout.close()
        if search.stderr:
            search.stderr.close()

    assert "error" not in first and "error" not in third
    assert third["results"]
    assert second["results"] == []
    assert f"the Chroma store at {store} is damaged" in str(second["error"])
    assert search.returncode == 1
    assert stderr.splitlines()[-1] == "debrief: error: 1 of the queries failed (their lines say why)"
    assert "Traceback" not in stderr


def test_a_query_of_megabytes_is_searched_by_its_start_and_says_so(runner: CliRunner) -> None:
    huge = "disk full " * 1_000_000  # 10 MB on one line

    piped = runner.invoke(main, ["search", "-", "--limit", "1"], input=f"{huge}\ntls cert expiring\n")
    argument = runner.invoke(main, ["search", "--json", "disk full " * 5_000])

    assert piped.exit_code == 0, piped.output
    first, second = (json.loads(line) for line in piped.stdout.splitlines())
    assert first["query"] == huge[:4000].strip()  # not echoed whole
    assert first["results"][0]["source"] == "runbooks/disk-full.md"
    assert second["query"] == "tls cert expiring"
    assert "debrief: line 1 is longer than 4000 characters: its start is searched" in piped.stderr
    assert len(json.loads(argument.stdout)["query"]) == 4000
    assert "debrief: the query has 50000 characters; its first 4000 are searched" in argument.stderr


def test_a_query_of_megabytes_does_not_take_gigabytes(runner: CliRunner, env: dict[str, str]) -> None:
    """Peak memory of the process that searches it (the model alone takes about 500 MB); it took 1.6 GB."""
    measure = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "debrief", "search", "-"],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        input=b"disk full " * 1_000_000 + b"\n",
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr.decode()
    assert int(result.stdout) < 1_000_000  # KB


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_is_a_usage_error(runner: CliRunner, query: str) -> None:
    result = runner.invoke(main, ["search", query])

    assert result.exit_code == 2
    assert "the query is empty: give the words to search for" in result.stderr


def test_min_score_must_be_a_number_from_0_to_1(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "--min-score", "nan", "disk full"])

    assert result.exit_code == 2
    assert "'nan' is not a number between 0 and 1" in result.stderr


def test_forgetting_a_path_nothing_came_from_says_so(runner: CliRunner, tmp_path: Path) -> None:
    ops = tmp_path / "ops"
    write_files(ops, {"redis.md": "# Redis evicting keys\n\nRaise maxmemory.\n"})
    runner.invoke(main, ["ingest", str(ops)])

    nothing = runner.invoke(main, ["ingest", "--forget", str(tmp_path / "nonexistent")])
    both = runner.invoke(main, ["ingest", "--forget", "--json", str(ops), str(tmp_path / "typo")])

    assert nothing.exit_code == 1
    assert nothing.stdout.startswith("forgot 0 documents in ")
    assert nothing.stderr.splitlines() == [
        f"debrief: error: nothing in the knowledge base was ingested from {tmp_path / 'nonexistent'}"
    ]
    assert both.exit_code == 1
    report = json.loads(both.stdout)
    assert (report["removed"], report["nothing_from"]) == (1, [str(tmp_path / "typo")])  # ops was forgotten
