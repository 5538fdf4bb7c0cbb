"""`debrief ingest` and `debrief search` as users call them (DESIGN.md §3.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from debrief.cli import main
from tests.knowledge_fixtures import RUNBOOKS, knowledge_dir

__all__ = ["knowledge_dir"]


@pytest.fixture
def runner(tmp_path: Path, knowledge_dir: Path) -> CliRunner:
    return CliRunner(
        env={"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_KNOWLEDGE_DIR": str(knowledge_dir)}
    )


def test_ingest_json_reports_counts_then_skips_unchanged(runner: CliRunner) -> None:
    first = runner.invoke(main, ["ingest", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert set(report) >= {"files", "chunks", "unchanged", "removed", "seconds"}
    assert (report["files"], report["unchanged"]) == (len(RUNBOOKS), 0)
    again = json.loads(runner.invoke(main, ["ingest", "--json"]).stdout)
    assert (again["files"], again["unchanged"], again["chunks"]) == (0, len(RUNBOOKS), 0)


def test_ingest_reports_broken_files_on_stderr(runner: CliRunner, knowledge_dir: Path) -> None:
    (knowledge_dir / "runbooks" / "broken.md").write_bytes(b"\xff\xfe\x00")
    result = runner.invoke(main, ["ingest"])
    assert result.exit_code == 0
    assert "broken.md: binary file, not Markdown" in result.stderr
    assert f"ingested {len(RUNBOOKS)} files" in result.stdout


def test_ingest_with_explicit_kind_and_missing_path(runner: CliRunner, knowledge_dir: Path) -> None:
    result = runner.invoke(main, ["ingest", "--json", "--kind", "incident", str(knowledge_dir / "runbooks")])
    assert json.loads(result.stdout)["files"] == 3
    missing = runner.invoke(main, ["ingest", str(knowledge_dir / "nope")])
    assert missing.exit_code == 1
    assert missing.stderr.strip().startswith("debrief: error: no such file or folder:")


def test_search_json_contract(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    result = runner.invoke(
        main, ["search", "--json", "--kind", "runbook", "--limit", "2", "node disk is full"]
    )
    payload = json.loads(result.stdout)
    assert payload["query"] == "node disk is full"
    assert len(payload["results"]) == 2
    assert set(payload["results"][0]) == {"source", "kind", "title", "heading", "score", "snippet"}
    assert payload["results"][0]["source"] == "runbooks/disk-full.md"


def test_search_reads_one_query_per_line_from_stdin(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    result = runner.invoke(
        main, ["search", "-", "--limit", "1"], input="node disk full\n\ntls cert expiring\n"
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["node disk full", "tls cert expiring"]
    assert [line["results"][0]["source"] for line in lines] == [
        "runbooks/disk-full.md",
        "runbooks/tls-expiry.md",
    ]


def test_search_human_output_names_source_and_section(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    result = runner.invoke(main, ["search", "certificate expires soon", "--limit", "1"])
    assert result.stdout.startswith("1. runbooks/tls-expiry.md  [runbook]  TLS certificate expiring > ")
    empty = runner.invoke(main, ["search", "zzzz qqqq", "--kind", "incident"])
    assert empty.exit_code == 0


def test_ask_without_an_llm_answers_from_retrieval_with_citations(runner: CliRunner) -> None:
    # no `debrief ingest` first: ask ingests the knowledge dir itself
    result = runner.invoke(main, ["ask", "--json", "the node disk is almost full, what now?"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"answer", "citations", "mode"}
    assert payload["mode"] == "retrieval"
    assert "runbooks/disk-full.md" in [citation["source"] for citation in payload["citations"]]
    assert "crictl" in payload["answer"]


def test_ask_about_an_unknown_incident_is_one_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "--incident", "INC-99", "what happened?"])
    assert result.exit_code == 1
    assert result.stderr.startswith("debrief: error: ")
    assert "INC-99" in result.stderr
