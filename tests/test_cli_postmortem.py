"""`debrief postmortem`: a transcript is replayed then drafted; an incident id is drafted; bad input is one error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.errors import DebriefError
from agent.postmortem import Postmortem
from debrief.cli.postmortem import postmortem_text as postmortem
from tests.postmortem_fixtures import assert_secret_free, settings_in, transcript


def test_transcript_to_json_postmortem_then_markdown_by_incident_id(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    as_json = postmortem(settings, transcript=transcript(), fmt="json")
    draft = Postmortem.model_validate(json.loads(as_json))
    markdown = postmortem(settings, incident_id="INC-1")

    assert (draft.incident_id, draft.time_to_detect_s, draft.time_to_resolve_s) == ("INC-1", 0, 1800)
    assert markdown.startswith('---\ntitle: "Orders API timeouts"')
    assert_secret_free(as_json)
    assert_secret_free(markdown)
    engine = Engine.from_settings(settings)  # printed, not stored: nothing to review yet
    try:
        assert [
            e.action for e in engine.store.audit_trail("INC-1") if e.action.startswith("postmortem")
        ] == []
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either --incident ID or a transcript file"),
        (
            {"incident_id": "INC-1", "transcript": {"room": "#r"}},
            "give either --incident ID or a transcript file",
        ),
        ({"incident_id": "INC-7"}, "there is no incident INC-7"),
        ({"incident_id": "INC-1", "fmt": "html"}, "unknown format 'html'; use markdown or json"),
        (
            {
                "transcript": {
                    "room": "#r",
                    "messages": [{"at": "2024-03-01T10:00:00Z", "from": "a", "text": "hi"}],
                }
            },
            "the transcript never starts an incident",
        ),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DebriefError, match=f"^{message}"):
        postmortem(settings_in(tmp_path), **kwargs)  # type: ignore[arg-type]
