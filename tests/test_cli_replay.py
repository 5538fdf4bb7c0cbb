"""`debrief replay` and `debrief health` as users call them (DESIGN.md §3.1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.engine import Engine
from agent.nudges import due_nudges
from agent.settings import load_settings
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


def test_replay_state_is_kept_in_the_data_dir_it_is_given(runner: CliRunner, tmp_path: Path) -> None:
    kept = ["--data-dir", str(tmp_path / "drill")]
    runner.invoke(main, ["replay", *kept, str(TRANSCRIPT)])
    again = json.loads(runner.invoke(main, ["replay", "--json", *kept, str(TRANSCRIPT)]).stdout)
    # the room's incident is still open from the first replay: starting another is refused
    assert "already" in again["replies"][0]["text"]
    assert again["incident_id"] == "INC-1"


def test_replay_never_touches_the_live_data_unless_told(runner: CliRunner, tmp_path: Path) -> None:
    first = json.loads(runner.invoke(main, ["replay", "--json", str(TRANSCRIPT)]).stdout)
    again = json.loads(runner.invoke(main, ["replay", "--json", str(TRANSCRIPT)]).stdout)

    assert first["replies"][0]["text"].startswith("INC-1 started")
    assert again["replies"][0]["text"].startswith("INC-1 started")  # a fresh temporary data dir each time
    assert not (tmp_path / "data" / "debrief.db").exists()


def test_a_replayed_incident_is_a_drill_no_live_bot_reminds_anyone_of(
    runner: CliRunner, tmp_path: Path
) -> None:
    live = tmp_path / "data"
    runner.invoke(main, ["replay", "--data-dir", str(live), str(TRANSCRIPT)])

    engine = Engine.from_settings(load_settings(DEBRIEF_DATA_DIR=live, DEBRIEF_TRACKERS="none"))
    try:
        incident = engine.incidents.get("INC-1")
        nudges = due_nudges(engine, datetime.now(UTC))
    finally:
        engine.close()
    assert incident.replayed and incident.status.value != "resolved"
    assert nudges == []


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


def test_health_says_what_it_checked(runner: CliRunner) -> None:
    result = runner.invoke(main, ["health"])

    assert result.exit_code == 0, result.output
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["ok", "database"],
        ["ok", "backend"],
        ["ok", "admins"],
        ["ok", "trackers"],
        ["ok", "llm"],
        ["ok", "webhooks"],
    ]


def test_health_fails_on_a_chat_backend_without_admins_and_warns_on_names_for_ids(tmp_path: Path) -> None:
    slack = {
        "DEBRIEF_DATA_DIR": str(tmp_path / "data"),
        "DEBRIEF_BACKEND": "SlackV3",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }

    without = CliRunner(env=slack).invoke(main, ["health"])
    with_names = CliRunner(env={**slack, "DEBRIEF_ADMINS": "@alice"}).invoke(main, ["health"])

    assert without.exit_code == 1
    assert "fail  backend    DEBRIEF_ADMINS: Errbot needs at least one admin on the SlackV3" in without.stdout
    assert with_names.exit_code == 0
    assert "warn  admins     @alice: on SlackV3 give user ids" in with_names.stdout


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


def test_health_json_gives_each_check_and_the_verdict(runner: CliRunner) -> None:
    result = runner.invoke(main, ["health", "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert [(c["name"], c["verdict"]) for c in payload["checks"]] == [
        ("database", "ok"),
        ("backend", "ok"),
        ("admins", "ok"),
        ("trackers", "ok"),
        ("llm", "ok"),
        ("webhooks", "ok"),
    ]
    assert payload["checks"][1]["detail"] == "Text (Errbot backend DebriefText)"


def test_a_transcript_larger_than_the_limit_is_refused_unread(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("debrief.cli.app.MAX_TRANSCRIPT_BYTES", 2_000_000)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"room": "#x", "messages": [], "padding": "x" * 2_000_000}))

    result = runner.invoke(main, ["replay", str(path)])

    assert result.exit_code == 1
    assert result.stderr == f"debrief: error: {path} is larger than 2 MB, the most it may be\n"
