"""tests/data/review_transcript.json replayed through the real bot: an incident, its postmortem finished in chat
(additions, a replaced summary, a placeholder left), publishing refused and named, completed, then accepted; the
published file and `debrief postmortem --format json` hold the reviewed text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.postmortem import Postmortem
from agent.settings import Settings
from debrief.bot.replay import ReplayResult, replay
from debrief.cli.postmortem import postmortem_text
from tests.postmortem_fixtures import settings_in

TRANSCRIPT = Path(__file__).parent / "data" / "review_transcript.json"
SUMMARY = (
    "A config push halved the PSP connection pool of payments-api; 18% of payments failed with 502 until it was "
    "rolled back."
)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, ReplayResult]:
    settings = settings_in(tmp_path_factory.mktemp("review"))
    transcript: dict[str, Any] = json.loads(TRANSCRIPT.read_text(encoding="utf-8"))
    return settings, replay(settings, transcript)


def replies_to(result: ReplayResult, command: str) -> list[str]:
    return [reply.text for reply in result.replies if reply.to.startswith(command)]


def test_review_edits_in_chat_are_revisions_and_a_wrong_kind_is_refused(
    replayed: tuple[Settings, ReplayResult],
) -> None:
    _, result = replayed

    assert replies_to(result, "!postmortem add well") == [
        "INC-1's postmortem: added to what went well (revision 2, by bob). Before it can be published: customer "
        "impact is empty; root cause is empty."
    ]
    assert replies_to(result, "!postmortem edit summary")[0].startswith(
        "INC-1's postmortem: replaced summary (revision 4, by dave)."
    )
    assert replies_to(result, "!postmortem add kudos") == [
        "cannot add a 'kudos'; add one of: well, poorly, factor, lesson, detection"
    ]


def test_publish_is_refused_with_placeholders_then_accepted_then_already_published(
    replayed: tuple[Settings, ReplayResult],
) -> None:
    settings, result = replayed
    path = settings.knowledge_dir / "incidents" / "2024-04-02-inc-1-payments-api-502s.md"

    refused, acknowledged, published, again = replies_to(result, "!postmortem publish")

    assert refused == (
        "INC-1's postmortem cannot be published yet: customer impact is empty; root cause is empty; lessons "
        "learned still says 'TODO'. Complete it with !postmortem edit SECTION TEXT (or export and import it), "
        "then approve it again."
    )
    assert replies_to(result, "!postmortem edit impact")[0].startswith(
        "INC-1's postmortem: replaced customer impact (revision 5, by carol). Note: the approval by carol is "
        "reset: the text changed, so it needs a new approval."
    )
    assert acknowledged == "Publishing INC-1's postmortem…"
    assert published.startswith(f"INC-1's postmortem is published: {path}.")
    assert again.startswith(f"INC-1's postmortem is already published: {path}.")


def test_the_published_file_and_the_json_postmortem_hold_the_reviewed_text(
    replayed: tuple[Settings, ReplayResult],
) -> None:
    settings, _ = replayed
    text = (settings.knowledge_dir / "incidents" / "2024-04-02-inc-1-payments-api-502s.md").read_text("utf-8")

    document = Postmortem.model_validate(json.loads(postmortem_text(settings, "INC-1", fmt="json")))

    assert f"## Summary\n\n{SUMMARY}\n" in text
    assert "## Customer impact\n\n18% of payment attempts failed with HTTP 502 for 17 minutes\n" in text
    assert "- The 08:50 config push set the PSP pool to 10 connections per pod" in text
    assert "- The rollback took 5 minutes from decision to recovery\n" in text
    assert "## Lessons learned\n\n- Config pushes need the same canary as code deploys\n" in text
    assert "To be completed" not in text and "TODO" not in text
    assert "bob [message] p99 back to 300ms, 502s gone" in text  # the story, not only key events
    assert "[message] thanks" not in text
    assert document.summary.text == SUMMARY and document.summary.by == "dave"
    assert [f.text for f in document.lessons] == ["Config pushes need the same canary as code deploys"]
    assert [e.section for e in document.reviewed] == ["summary", "impact", "root-cause", "well", "lessons"]
    assert document.status == "published"
