"""`debrief ask`: one question from the command line, answered with the JSON contract or as plain text."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.engine import Engine
from agent.incidents import UnknownIncident
from agent.knowledge import open_knowledge_base
from debrief.cli import main
from debrief.cli.assistant import answer as ask
from tests.assistant_fixtures import KNOWLEDGE, make_settings, start_incident
from tests.knowledge_fixtures import write_files


def test_ask_answers_from_the_ingested_knowledge_with_the_json_contract(tmp_path: Path) -> None:
    write_files(tmp_path / "knowledge", KNOWLEDGE)
    settings = make_settings(tmp_path, tmp_path / "knowledge")
    open_knowledge_base(settings).ingest(progress=False)
    engine = Engine.from_settings(settings)
    incident_id = start_incident(engine)
    engine.close()

    payload = ask(settings, "node disk almost full", incident_id=incident_id.lower()).model_dump()

    assert set(payload) == {"answer", "citations", "mode"}
    assert payload["mode"] == "retrieval"
    assert {"source": "runbooks/disk-full.md", "heading": "Mitigation"} in payload["citations"]
    assert {"source": incident_id, "heading": "status"} in payload["citations"]
    assert all(set(citation) == {"source", "heading"} for citation in payload["citations"])


def test_ask_about_an_unknown_incident_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "knowledge")

    with pytest.raises(UnknownIncident, match="there is no incident INC-9"):
        ask(settings, "what happened?", incident_id="INC-9")


def test_ask_prints_the_answer_as_plain_text(tmp_path: Path) -> None:
    write_files(tmp_path / "knowledge", KNOWLEDGE)
    runner = CliRunner(
        env={
            "DEBRIEF_DATA_DIR": str(tmp_path / "data"),
            "DEBRIEF_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
            "DEBRIEF_TRACKERS": "none",
        }
    )

    result = runner.invoke(main, ["ask", "pods keep restarting after the deploy"])

    assert result.exit_code == 0, result.output
    assert "\n\nPods crash looping: Mitigation\n1. Roll back the deploy with `kubectl rollout undo`.\n" in (
        result.stdout
    )
    assert "**" not in result.stdout
