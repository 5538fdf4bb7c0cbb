"""`debrief actions [--file | --overdue]` payloads over the configured database and trackers (fakes at the wire)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.engine import Engine
from agent.filing import FilingError, drop_action, edit_action
from agent.identity import OPERATOR
from agent.incidents import UnknownIncident
from agent.settings import Settings, load_settings
from debrief.cli import main
from debrief.cli.actions import file_actions, list_actions
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import github, jira, open_incident, tracker_settings

__all__ = ["github", "jira"]


@pytest.fixture
def settings(tmp_path: Path, jira: JiraServer, github: GitHubServer) -> Settings:
    settings = load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", **tracker_settings(jira, github))
    engine = Engine.from_settings(settings)
    open_incident(engine, bad=True)
    engine.close()
    return settings


def test_listing_gives_the_contract_fields_before_anything_is_filed(settings: Settings) -> None:
    listed = list_actions(settings, "INC-1")

    first = listed["actions"][0]
    assert {"id", "number", "ref", "title", "owner", "due", "status", "drop_reason", "refs"} <= first.keys()
    assert (first["number"], first["ref"], first["drop_reason"]) == (1, "INC-1/A1", None)
    assert (first["id"], first["owner"], first["due"], first["status"], first["refs"]) == (
        1,
        "bob",
        "2024-03-15",
        "pending",
        [],
    )
    assert json.loads(json.dumps(listed)) == listed


def test_file_then_list_shows_refs_and_the_trackers_current_status(
    settings: Settings, jira: JiraServer, github: GitHubServer
) -> None:
    filed = file_actions(settings, "INC-1")

    assert filed["filing"]["counts"] == {"filed": 4, "needs_revision": 2}
    assert filed["filing"]["summary"].startswith("Filing to jira, github: 4 filed, 2 needs revision.")
    assert [a["refs"] for a in filed["actions"]] == [
        ["jira:OPS-1", "github:acme/ops#1"],
        ["jira:OPS-2", "github:acme/ops#2"],
        [],
        [],
    ]
    assert [a["status"] for a in filed["actions"]] == ["filed", "filed", "needs_revision", "needs_revision"]

    jira.set_status("OPS-1", "Done")
    github.set_state(1, "closed")
    listed = list_actions(settings)

    first = listed["actions"][0]
    assert first["status"] == "done"
    assert [(t["ref"], t["status"]) for t in first["tickets"]] == [
        ("jira:OPS-1", "Done"),
        ("github:acme/ops#1", "closed"),
    ]
    assert file_actions(settings)["filing"]["counts"] == {"already_filed": 4, "needs_revision": 2}
    assert len(jira.issues) == len(github.issues) == 2


def test_filing_an_unknown_incident_or_without_trackers_is_a_clear_error(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(UnknownIncident, match="no incident INC-9"):
        file_actions(settings, "INC-9")
    bare = load_settings(DEBRIEF_DATA_DIR=settings.data_dir, DEBRIEF_TRACKERS="none")
    with pytest.raises(FilingError, match="DEBRIEF_TRACKERS"):
        file_actions(bare, "INC-1")
    assert len(list_actions(bare)["actions"]) == 4


def test_edits_after_filing_update_the_tickets_and_the_listing_says_when_one_is_behind(
    settings: Settings, jira: JiraServer, github: GitHubServer
) -> None:
    file_actions(settings, "INC-1")
    engine = Engine.from_settings(settings)
    try:
        edit_action(engine, settings, "INC-1", 1, owner="carol", by=OPERATOR, at=datetime.now(UTC))
        jira.fail_next(1, status=503)
        drop_action(engine, settings, "INC-1", 2, "superseded", by=OPERATOR)
    finally:
        engine.close()

    listed = list_actions(settings, "INC-1")

    second = listed["actions"][1]
    assert (second["status"], second["drop_reason"]) == ("dropped", "superseded")
    assert [(t["ref"], t["update_pending"]) for t in second["tickets"]] == [
        ("jira:OPS-2", True),
        ("github:acme/ops#2", False),
    ]
    refiled = file_actions(settings, "INC-1")
    assert refiled["filing"]["counts"] == {"already_filed": 4, "needs_revision": 2, "updated": 1}
    assert [r["action_ref"] for r in refiled["filing"]["results"] if r["outcome"] == "updated"] == [
        "INC-1/A2"
    ]
    assert jira.status_of("OPS-2") == "Won't Do"
    assert len(jira.issues) == len(github.issues) == 2


def test_overdue_from_the_shell_lists_every_incidents_late_items(settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner(env={"DEBRIEF_DATA_DIR": str(settings.data_dir), "DEBRIEF_TRACKERS": "none"})

    result = runner.invoke(main, ["actions", "--overdue", "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [a["ref"] for a in payload["actions"]] == ["INC-1/A1", "INC-1/A2", "INC-1/A3", "INC-1/A4"]
    human = runner.invoke(main, ["actions", "--overdue"])
    assert human.stdout.splitlines()[0].startswith(
        "INC-1/A1 [pending] Add a canary stage to checkout deploys @bob"
    )
    refused = runner.invoke(main, ["actions", "--overdue", "--incident", "INC-1"])
    assert refused.exit_code == 2 and "--overdue lists every incident's overdue items" in refused.output


def test_filing_from_the_shell_exits_1_when_a_filing_fails_and_0_when_all_went_through(
    settings: Settings, jira: JiraServer, github: GitHubServer
) -> None:
    env = {"DEBRIEF_DATA_DIR": str(settings.data_dir), **tracker_settings(jira, github)}
    refused = CliRunner(env={**{k: str(v) for k, v in env.items()}, "JIRA_API_TOKEN": "wrong-token"})

    failed = refused.invoke(main, ["actions", "--file", "--incident", "INC-1"])
    failed_json = refused.invoke(main, ["actions", "--file", "--json"])

    assert failed.exit_code == 1, failed.output
    assert "Filing to jira, github: 2 filed, 2 failed, 2 needs revision." in failed.stdout
    assert failed.stderr.splitlines()[-1] == (
        "debrief: error: 2 filings or ticket updates did not go through (said above); pending ones are "
        "retried later"
    )
    assert failed_json.exit_code == 1 and json.loads(failed_json.stdout)["filing"]["counts"]["failed"] == 2
    fixed = CliRunner(env={k: str(v) for k, v in env.items()}).invoke(main, ["actions", "--file"])
    assert fixed.exit_code == 0, fixed.output
    assert "Filing to jira, github: 2 filed, 2 already filed, 2 needs revision." in fixed.stdout
