"""The review in the store: people's sections survive a new draft (an LLM only fills what is still empty), each
change is a revision with who and what, an approval is reset by a change, and publishing is refused while a
required section (DEBRIEF_REQUIRED_SECTIONS) is empty or a placeholder is left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.errors import SettingsError
from agent.models import PostmortemStatus
from agent.postmortem import PostmortemError, PostmortemWorkflow
from agent.postmortem.sections import SECTIONS, SectionError
from agent.settings import POSTMORTEM_SECTIONS, Settings
from tests.fakes.chat_model import ScriptedChatModel
from tests.postmortem_fixtures import narrative_call, settings_in

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = Engine.from_settings(settings)
    yield engine
    engine.close()


def incident(engine: Engine) -> str:
    started = engine.incidents.start("#inc-orders", "Orders API timeouts", "dana", T0, service="orders-api")
    engine.incidents.set_commander(started.id, "frank", "dana", T0 + timedelta(minutes=1))
    engine.timeline.record(started.id, T0 + timedelta(minutes=2), "erin", "p99 8s, too many clients")
    engine.incidents.resolve(started.id, "frank", T0 + timedelta(minutes=20))
    return started.id


def llm_reply(**sections: object) -> ScriptedChatModel:
    arguments: dict[str, object] = {"summary": {"text": "LLM summary.", "evidence": ["E1"]}, **sections}
    return ScriptedChatModel(replies=[narrative_call(**arguments)])


def test_a_new_draft_with_an_llm_keeps_peoples_text_and_fills_only_what_is_still_empty(
    engine: Engine, settings: Settings
) -> None:
    models = [
        llm_reply(went_well=[{"text": "Quick rollback.", "evidence": ["E3"]}]),
        llm_reply(
            summary={"text": "A second summary.", "evidence": ["E1"]},
            went_well=[{"text": "Another view of what went well.", "evidence": ["E3"]}],
            went_poorly=[{"text": "Nobody was paged.", "evidence": ["E3"]}],
            root_causes=[{"cause": "An LLM guess.", "evidence": ["E3"], "confidence": 0.4}],
        ),
    ]
    workflow = PostmortemWorkflow(engine, settings, model=lambda: models.pop(0))
    incident_id = incident(engine)
    workflow.draft(incident_id, by="dana")
    workflow.edit(incident_id, "root-cause", "v3.2 doubled the per-pod DB pool", "frank")
    workflow.add(incident_id, "lesson", "Canary config pushes", "erin")

    redrafted = workflow.draft(incident_id, by="dana").postmortem

    assert redrafted.generation.narrative == "llm"
    assert [(c.cause, c.by, c.confidence) for c in redrafted.root_causes] == [
        ("v3.2 doubled the per-pod DB pool", "frank", 1.0)
    ]
    assert [(f.text, f.by) for f in redrafted.lessons] == [("Canary config pushes", "erin")]
    assert redrafted.summary.text == "LLM summary."  # not empty: kept as the reviewers read it
    assert [f.text for f in redrafted.went_well] == ["Quick rollback."]
    assert [f.text for f in redrafted.went_poorly] == ["Nobody was paged."]  # was empty: filled
    assert [(e.section, e.by) for e in redrafted.reviewed] == [("root-cause", "frank"), ("lessons", "erin")]


def test_every_change_is_a_revision_with_who_and_what_and_in_the_audit_trail(
    engine: Engine, settings: Settings
) -> None:
    workflow = PostmortemWorkflow(engine, settings)
    incident_id = incident(engine)
    workflow.draft(incident_id, by="dana")

    workflow.add(incident_id, "poorly", "Nobody was paged for 8 minutes", "@erin")
    workflow.edit(incident_id, "impact", "30% of orders failed", "frank")

    assert [(r.revision, r.by, r.change, r.section, r.text) for r in workflow.history(incident_id)] == [
        (1, "dana", "draft", None, None),
        (2, "erin", "add", "poorly", "Nobody was paged for 8 minutes"),
        (3, "frank", "edit", "impact", "30% of orders failed"),
    ]
    audit = [(e.actor, e.action, json.loads(e.detail)) for e in engine.store.audit_trail(incident_id)]
    assert audit[-2:] == [
        ("erin", "postmortem_add", {"revision": 2, "sections": ["poorly"]}),
        ("frank", "postmortem_edit", {"revision": 3, "sections": ["impact"]}),
    ]


def test_an_edit_resets_an_approval_and_a_published_postmortem_is_not_edited(
    engine: Engine, settings: Settings
) -> None:
    workflow = PostmortemWorkflow(engine, settings)
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.approve(incident_id, "frank")

    changed = workflow.edit(incident_id, "summary", "Pool exhaustion after the v3.2 deploy.", "erin")

    assert changed.postmortem.status is PostmortemStatus.IN_REVIEW and changed.postmortem.reviewers == []
    assert changed.note == "the approval by frank is reset: the text changed, so it needs a new approval"


def test_required_sections_are_a_setting(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, DEBRIEF_REQUIRED_SECTIONS="summary,lessons")
    engine = Engine.from_settings(settings)
    try:
        workflow = PostmortemWorkflow(engine, settings)
        incident_id = incident(engine)
        workflow.draft(incident_id)
        workflow.approve(incident_id, "frank")

        before = workflow.unfinished(incident_id)  # impact and root cause are not required here
        workflow.add(incident_id, "lesson", "Canary config pushes", "erin")
        after = workflow.unfinished(incident_id)
    finally:
        engine.close()

    assert (before, after) == (["lessons learned is empty"], [])
    assert settings_in(tmp_path, DEBRIEF_REQUIRED_SECTIONS="none").required_sections == []
    with pytest.raises(SettingsError, match="DEBRIEF_REQUIRED_SECTIONS: unknown section 'rootcause'"):
        settings_in(tmp_path, DEBRIEF_REQUIRED_SECTIONS="summary,rootcause")
    assert tuple(section.name for section in SECTIONS) == POSTMORTEM_SECTIONS


@pytest.mark.parametrize(
    "text", ["TODO", "see FIXME below", "XXX", "???", "<fill in>", "To be completed in the review."]
)
def test_a_placeholder_left_in_any_section_stops_publishing(
    engine: Engine, settings: Settings, text: str
) -> None:
    workflow = PostmortemWorkflow(engine, settings)
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.edit(incident_id, "impact", "30% of orders failed", "frank")
    workflow.edit(incident_id, "root-cause", "pool doubled", "frank")
    workflow.add(incident_id, "detection", text, "erin")
    workflow.approve(incident_id, "frank")

    with pytest.raises(PostmortemError, match=r"cannot be published yet: detection gaps still says"):
        workflow.publish(incident_id, "root")


def test_a_teams_own_template_placeholder_stops_publishing_too(engine: Engine, settings: Settings) -> None:
    templates = settings.data_dir / "templates"
    templates.mkdir(parents=True)
    (templates / "postmortem.md.j2").write_text(
        "# {{ pm.title }}\n\n## Timeline review\n\n_To be completed in the review._\n"
    )
    workflow = PostmortemWorkflow(engine, settings)
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.edit(incident_id, "impact", "30% of orders failed", "frank")
    workflow.edit(incident_id, "root-cause", "pool doubled", "frank")

    assert workflow.unfinished(incident_id) == ["the document still says '_To be completed in the review._'"]


def test_unknown_sections_and_empty_text_change_nothing(engine: Engine, settings: Settings) -> None:
    workflow = PostmortemWorkflow(engine, settings)
    incident_id = incident(engine)
    workflow.draft(incident_id)

    with pytest.raises(SectionError, match="there is no postmortem section 'timeline'"):
        workflow.edit(incident_id, "timeline", "x", "erin")
    with pytest.raises(SectionError, match="the new text of lessons learned is empty"):
        workflow.edit(incident_id, "lessons", " \n - \n", "erin")
    with pytest.raises(SectionError, match="cannot add a 'impact'; add one of: well, poorly, factor, lesson"):
        workflow.add(incident_id, "impact", "x", "erin")

    assert [r.change for r in workflow.history(incident_id)] == ["draft"]
