"""tests/data/lifecycle_transcript.json, the README's walkthrough, replayed with `debrief replay` as a user runs
it: start, hand-over, a back-dated start, action items fixed after resolve, the postmortem reviewed in chat and
published, an action item done. The drill stays in its own data dir: the live knowledge dir gains nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from debrief.cli import main

TRANSCRIPT = Path(__file__).parent / "data" / "lifecycle_transcript.json"
PUBLISHED = Path("incidents") / "2024-05-07-inc-1-search-results-empty-for-logged-in-users.md"
RUNBOOK = "# Search index alias switch\n\n## Mitigation\n\nPoint the alias back at the previous index.\n"


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("lifecycle")
    live_knowledge = root / "knowledge"
    (live_knowledge / "runbooks").mkdir(parents=True)
    (live_knowledge / "runbooks" / "search-alias.md").write_text(RUNBOOK, encoding="utf-8")
    runner = CliRunner(
        env={
            "DEBRIEF_DATA_DIR": str(root / "data"),
            "DEBRIEF_KNOWLEDGE_DIR": str(live_knowledge),
            "DEBRIEF_ADMINS": "root",
            "DEBRIEF_TRACKERS": "none",
            "OPENAI_API_KEY": "",
        }
    )
    result = runner.invoke(main, ["replay", "--json", "--data-dir", str(root / "drill"), str(TRANSCRIPT)])
    assert result.exit_code == 0, result.output
    return live_knowledge, root / "drill", json.loads(result.stdout)


def replies_to(payload: dict[str, Any], command: str) -> list[str]:
    return [reply["text"] for reply in payload["replies"] if reply["to"].startswith(command)]


def test_the_back_dated_start_is_in_the_status_after_resolve(
    drill: tuple[Path, Path, dict[str, Any]],
) -> None:
    *_, payload = drill
    status = replies_to(payload, "!incident status")[-1]
    assert status.startswith("INC-1 Search results empty for logged-in users: resolved (SEV2")
    assert "Started: 2024-05-07 13:55:00 UTC" in status
    assert "Resolved: 2024-05-07 14:20:00 UTC (after 25m)" in status
    assert "Commander: omar" in status


def test_a_vague_item_added_after_resolve_is_kept_then_fixed(
    drill: tuple[Path, Path, dict[str, Any]],
) -> None:
    *_, payload = drill
    assert "[needs_revision]" in replies_to(payload, "!action add Improve search monitoring")[0]
    assert replies_to(payload, "!actions")[-1].splitlines() == [
        "INC-1 action items:",
        "A1 Refuse an alias switch to an index with fewer documents than the live one (owner lena, due "
        "2024-05-21) [done]",
        "A2 Alert when the zero-hit rate of search-api exceeds 5% for 5 minutes (owner maya, due 2024-05-24) "
        "[pending]",
    ]


def test_the_published_postmortem_holds_the_review_and_stays_in_the_drill(
    drill: tuple[Path, Path, dict[str, Any]],
) -> None:
    live_knowledge, drill_dir, payload = drill
    published = drill_dir / "knowledge" / PUBLISHED

    assert replies_to(payload, "!postmortem publish")[-1].startswith(
        f"INC-1's postmortem is published: {published}"
    )
    text = published.read_text(encoding="utf-8")
    assert (
        "## Customer impact\n\n40% of searches by logged-in users returned no results for 17 minutes\n"
        in text
    )
    assert "- The 13:52 deploy switched the products alias before the new index finished building\n" in text
    assert "## Lessons learned\n\n- An index switch needs the same checks as a deploy\n" in text
    assert "| Started | 2024-05-07 13:55:00 UTC |" in text
    assert "To be completed" not in text and "The review completes" not in text
    assert not (live_knowledge / "incidents").exists()  # the live knowledge dir gained nothing
    assert (drill_dir / "knowledge" / "runbooks" / "search-alias.md").read_text(encoding="utf-8") == RUNBOOK
