"""A commander hand-over, other responders changing severity and cause, and a back-dated start, replayed from
`tests/data/handover_transcript.json` through the real bot; the postmortem shows the corrected facts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from debrief.cli import main

TRANSCRIPT = Path(__file__).parent / "data" / "handover_transcript.json"


def replayed(tmp_path: Path) -> dict[str, str]:
    """Each command of the transcript and the bot's reply to it."""
    runner = CliRunner(env={"DEBRIEF_DATA_DIR": str(tmp_path / "data")})
    result = runner.invoke(main, ["replay", "--json", "--data-dir", str(tmp_path / "data"), str(TRANSCRIPT)])
    assert result.exit_code == 0, result.output
    replies: dict[str, str] = {}
    for reply in json.loads(result.stdout)["replies"]:
        replies.setdefault(reply["to"], reply["text"])  # a repeated command keeps its first reply
    return replies


def test_after_the_hand_over_others_change_severity_and_cause_and_only_the_commander_leads(
    tmp_path: Path,
) -> None:
    replies = replayed(tmp_path)

    assert replies["!incident commander @carol"] == "carol is now the commander of INC-1."
    assert replies["!incident sev SEV1 card payments in the EU fail too"] == (
        "INC-1 is now SEV1 (card payments in the EU fail too)."
    )
    assert replies["!incident cause the 09:55 config deploy halved the DB connection pool"].startswith(
        "INC-1 cause"
    )
    assert replies["!incident sev SEV2"].startswith("say why")
    assert replies["!incident mitigated"] == "only the commander (carol) or an admin can change INC-1"
    assert replies["!incident set started 09:40"] == "only the commander (carol) or an admin can change INC-1"
    assert replies["!incident set mitigated 10:30"].startswith("mitigated cannot be in the future")
    status = replies["!incident status"]
    assert "Started: 2024-03-01 09:50:00 UTC" in status
    assert "Resolved: 2024-03-01 10:20:00 UTC (after 30m)" in status
    assert "Customer impact: 2024-03-01 09:55:00 UTC to 2024-03-01 10:14:00 UTC (19m)" in status


def test_the_postmortem_json_shows_the_corrected_facts(tmp_path: Path) -> None:
    replayed(tmp_path)
    runner = CliRunner(env={"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_TRACKERS": "none"})

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--format", "json"])

    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    assert (draft["severity"], draft["commander"]) == ("SEV1", "carol")
    assert draft["started_at"].startswith("2024-03-01T09:50:00")
    assert draft["detected_at"].startswith("2024-03-01T10:02:00")  # declared; the first message came after
    assert draft["mitigated_at"].startswith(
        "2024-03-01T10:10:00"
    )  # corrected, not the status event's 10:12:30
    assert (draft["time_to_detect_s"], draft["time_to_mitigate_s"], draft["time_to_resolve_s"]) == (
        12 * 60,
        20 * 60,
        30 * 60,
    )
    assert draft["recorded_cause"] == "the 09:55 config deploy halved the DB connection pool"
    assert any("Corrected started: " in event["text"] for event in draft["timeline"]), draft["timeline"]
