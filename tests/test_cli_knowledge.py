"""`debrief ingest` and `debrief search` as users call them (DESIGN.md §3.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from debrief.cli import main
from tests.knowledge_fixtures import RUNBOOKS, knowledge_dir, write_files

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


def test_ingest_forget_removes_a_folder_that_is_gone(runner: CliRunner, tmp_path: Path) -> None:
    ops = tmp_path / "ops"
    write_files(ops, {"redis.md": "# Redis evicting keys\n\nRaise maxmemory.\n"})
    assert runner.invoke(main, ["ingest", str(ops)]).exit_code == 0
    (ops / "redis.md").unlink()
    ops.rmdir()
    missing = runner.invoke(main, ["ingest", str(ops)])
    assert missing.exit_code == 1
    assert f"1 document came from it: debrief ingest --forget {ops}" in missing.stderr
    forgot = runner.invoke(main, ["ingest", "--forget", "--json", str(ops)])
    assert forgot.exit_code == 0, forgot.output
    assert json.loads(forgot.stdout)["removed"] == 1
    assert runner.invoke(main, ["ingest", "--forget"]).exit_code == 2  # nothing named: a usage error


def test_search_json_contract(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    result = runner.invoke(
        main, ["search", "--json", "--kind", "runbook", "--limit", "2", "node disk is full"]
    )
    payload = json.loads(result.stdout)
    assert payload["query"] == "node disk is full"
    assert len(payload["results"]) == 1  # the other runbooks are below the relevance floor
    fields = {"source", "kind", "title", "heading", "score", "relevance", "similarity", "snippet"}
    assert set(payload["results"][0]) == fields
    assert payload["results"][0]["source"] == "runbooks/disk-full.md"


def test_min_score_zero_shows_every_candidate_with_its_relevance(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    command = ["search", "--kind", "runbook", "--min-score", "0", "node disk is full"]
    scored = json.loads(runner.invoke(main, [*command, "--json"]).stdout)["results"]
    assert scored[0]["source"] == "runbooks/disk-full.md"
    assert len(scored) == 3 and all(0 <= hit["relevance"] <= 1 for hit in scored)
    human = runner.invoke(main, command).stdout
    assert "(relevance 0.00)" in human and human.count("relevance") == 3


def test_a_question_the_knowledge_base_does_not_cover_finds_nothing(runner: CliRunner) -> None:
    runner.invoke(main, ["ingest"])
    result = runner.invoke(main, ["search", "why is etcd slow"])
    assert result.exit_code == 0
    assert result.stdout.startswith("nothing in the knowledge base matches 'why is etcd slow'")
    assert "--min-score 0" in result.stdout
    payload = json.loads(runner.invoke(main, ["search", "--json", "why is etcd slow"]).stdout)
    assert payload["results"] == []


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


def test_search_of_a_knowledge_base_never_ingested_ingests_the_knowledge_dir_first(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "certificate expires soon", "--limit", "1"])

    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"the knowledge base was empty: ingested {len(RUNBOOKS)} files from ")
    assert result.stdout.startswith("1. runbooks/tls-expiry.md  [runbook]  ")


def test_search_with_nothing_to_ingest_says_where_knowledge_goes(tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    env = {"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_KNOWLEDGE_DIR": str(tmp_path / "knowledge")}

    result = CliRunner(env=env).invoke(main, ["search", "certificate expires soon"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"debrief: error: the knowledge base is empty: put Markdown runbooks and postmortems in "
        f"{tmp_path / 'knowledge'} (DEBRIEF_KNOWLEDGE_DIR) or run `debrief ingest PATH`"
    )


def test_ask_without_an_llm_answers_from_retrieval_with_citations(runner: CliRunner) -> None:
    # no `debrief ingest` first: ask ingests the knowledge dir itself
    result = runner.invoke(main, ["ask", "--json", "the node disk is almost full, what now?"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"answer", "citations", "mode"}
    assert payload["mode"] == "retrieval"
    assert "runbooks/disk-full.md" in [citation["source"] for citation in payload["citations"]]
    assert "crictl" in payload["answer"]


def test_ask_with_no_match_says_so_and_what_was_searched(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "--json", "why is etcd slow?"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["citations"] == []
    answer = payload["answer"]
    assert "no runbook or past incident in the knowledge base matches this question" in answer
    assert 'No runbook matches (searched 3 runbooks for "why is etcd slow?"' in answer
    assert "No similar past incident was found (searched 1 past incident" in answer
    assert "crictl" not in answer and "pgbouncer" not in answer


def test_ask_about_an_unknown_incident_is_one_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "--incident", "INC-99", "what happened?"])
    assert result.exit_code == 1
    assert result.stderr.startswith("debrief: error: ")
    assert "INC-99" in result.stderr


@pytest.mark.parametrize("question", ["what should I do first?", "what now"])
def test_a_question_that_names_nothing_finds_nothing_in_the_starter_knowledge(
    tmp_path: Path, question: str
) -> None:
    # Its one content word ("first", "now") is in some runbook: coverage alone would show that runbook.
    starter = Path(__file__).resolve().parent.parent / "knowledge"
    env = {"DEBRIEF_DATA_DIR": str(tmp_path / "data"), "DEBRIEF_KNOWLEDGE_DIR": str(starter)}

    result = CliRunner(env=env).invoke(main, ["search", "--json", question])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"] == []
