"""`debrief replay` and `debrief health` as users call them (DESIGN.md §3.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from debrief.cli import main

TRANSCRIPT = Path(__file__).parent / "data" / "checkout_transcript.json"


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"DEBRIEF_DATA_DIR": str(tmp_path / "data")})


def test_replay_json_attributes_each_reply_to_its_message(runner: CliRunner) -> None:
    result = runner.invoke(main, ["replay", "--json", str(TRANSCRIPT)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["incident_id"] == "INC-1"
    first = payload["replies"][0]
    assert set(first) == {"to", "text"}
    assert first["to"].startswith("!incident start Checkout 5xx spike")
    assert first["text"].startswith("INC-1 started")


def test_replay_state_is_kept_in_the_data_dir(runner: CliRunner) -> None:
    runner.invoke(main, ["replay", str(TRANSCRIPT)])
    again = json.loads(runner.invoke(main, ["replay", "--json", str(TRANSCRIPT)]).stdout)
    # the room's incident is still open from the first replay: starting another is refused
    assert "already" in again["replies"][0]["text"]
    assert again["incident_id"] == "INC-1"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"room": "#x", "messages": [{"from": "a", "text": "hi"}]}', "messages.0.at"),
    ],
)
def test_bad_transcript_is_one_clear_error(
    runner: CliRunner, tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    result = runner.invoke(main, ["replay", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("debrief: error: ")
    assert error in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_health_opens_the_database(runner: CliRunner) -> None:
    result = runner.invoke(main, ["health"])
    assert (result.exit_code, result.stdout) == (0, "ok\n")


def test_replay_exits_non_zero_when_it_dropped_a_message(runner: CliRunner, tmp_path: Path) -> None:
    transcript = {
        "room": "#inc-drill",
        "messages": [
            {"at": "2024-03-01T10:00:00Z", "from": "alice", "text": "!incident start Drill"},
            {"at": "9999-01-01T00:00:00Z", "from": "bob", "text": "a line from a clock gone wrong"},
            {"at": "2024-03-01T10:02:00Z", "from": "bob", "text": "a line that is fine"},
        ],
    }
    path = tmp_path / "drill.json"
    path.write_text(json.dumps(transcript))

    result = runner.invoke(main, ["replay", "--json", str(path)])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["dropped"] == 1
    assert "debrief: error: 1 messages could not be recorded" in result.stderr
