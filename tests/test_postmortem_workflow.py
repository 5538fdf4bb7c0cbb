"""Draft -> Review -> Publish in the store: role rules, audit trail, publish -> ingest -> found by search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from agent.engine import Engine
from agent.identity import NotAllowed
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.models import ActionStatus, PostmortemStatus
from agent.postmortem import NoDraft, PostmortemError, PostmortemWorkflow
from agent.settings import Settings
from tests.postmortem_fixtures import assert_secret_free, settings_in

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
PUBLISHED = "incidents/2024-03-05-inc-1-orders-api-timeouts.md"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = Engine.from_settings(settings)
    yield engine
    engine.close()


@pytest.fixture
def workflow(engine: Engine, settings: Settings) -> PostmortemWorkflow:
    return PostmortemWorkflow(engine, settings)


def incident(engine: Engine, room: str = "#inc-orders", resolve: bool = True) -> str:
    """Started by dana, commanded by frank; a pool exhaustion with one good and one vague action item."""
    started = engine.incidents.start(room, "Orders API timeouts", "dana", at(0), service="orders-api")
    engine.incidents.set_commander(started.id, "frank", "dana", at(1))
    engine.timeline.record(
        started.id,
        at(2),
        "erin",
        "pgbouncer says too many clients; token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    )
    engine.incidents.set_impact(started.id, "30% of order submissions failed", "frank", at(8))
    engine.incidents.set_cause(started.id, "orders-api v3.2 doubled the per-pod DB pool", "frank", at(9))
    engine.incidents.mitigate(started.id, "frank", at(10))
    engine.actions.add(
        started.id, "Alert at 80% of pgbouncer max_client_conn", "erin", date(2024, 3, 20), "frank", at(11)
    )
    engine.actions.add(started.id, "Improve monitoring", None, None, "frank", at(12))
    if resolve:
        engine.incidents.resolve(started.id, "frank", at(20))
    return started.id


def audit_actions(engine: Engine, incident_id: str) -> list[tuple[str, str]]:
    return [
        (e.actor, e.action)
        for e in engine.store.audit_trail(incident_id)
        if e.action.startswith("postmortem")
    ]


def test_draft_is_stored_in_review_with_its_markdown(engine: Engine, workflow: PostmortemWorkflow) -> None:
    incident_id = incident(engine)

    stored = workflow.draft(incident_id, by="dana")

    assert stored.postmortem.status is PostmortemStatus.IN_REVIEW
    assert stored.revision == 1
    assert "**in review**" in stored.markdown
    assert stored.draft_path.read_text(encoding="utf-8") == stored.markdown
    assert_secret_free(stored.markdown)
    assert workflow.show(incident_id).markdown == stored.markdown
    assert audit_actions(engine, incident_id) == [("dana", "postmortem_draft")]


def test_draft_marks_failing_action_items_needs_revision(
    engine: Engine, workflow: PostmortemWorkflow
) -> None:
    incident_id = incident(engine)
    stored = workflow.draft(incident_id, by="dana")
    statuses = {a.title: a.status for a in engine.actions.list(incident_id)}
    assert statuses == {
        "Alert at 80% of pgbouncer max_client_conn": ActionStatus.PENDING,
        "Improve monitoring": ActionStatus.NEEDS_REVISION,
    }
    assert [a.status for a in stored.postmortem.action_items] == [
        ActionStatus.PENDING,
        ActionStatus.NEEDS_REVISION,
    ]


def test_show_and_approve_without_a_draft_say_what_to_do(
    engine: Engine, workflow: PostmortemWorkflow
) -> None:
    incident_id = incident(engine)
    with pytest.raises(NoDraft, match=r"^INC-1 has no postmortem yet; draft one with !postmortem$"):
        workflow.show(incident_id)
    with pytest.raises(NoDraft):
        workflow.approve(incident_id, "frank")


def test_only_the_commander_or_an_admin_approves(engine: Engine, workflow: PostmortemWorkflow) -> None:
    incident_id = incident(engine)
    workflow.draft(incident_id)

    with pytest.raises(NotAllowed, match=r"^only the commander \(frank\) or an admin can approve INC-1's"):
        workflow.approve(incident_id, "dana")
    approved = workflow.approve(incident_id, "@frank")
    also = workflow.approve(incident_id, "root")  # an admin adds a second approval

    assert approved.postmortem.status is PostmortemStatus.APPROVED
    assert also.postmortem.reviewers == ["frank", "root"]
    assert "Approved by frank, root." in also.markdown
    with pytest.raises(PostmortemError, match="you already approved INC-1's postmortem"):
        workflow.approve(incident_id, "frank")


def test_an_open_incident_can_be_drafted_but_not_approved(
    engine: Engine, workflow: PostmortemWorkflow
) -> None:
    incident_id = incident(engine, resolve=False)
    workflow.draft(incident_id)
    with pytest.raises(
        PostmortemError, match=r"^INC-1 is still mitigated; resolve it before approving its postmortem$"
    ):
        workflow.approve(incident_id, "frank")


def test_publish_needs_an_admin_and_an_approval(
    engine: Engine, workflow: PostmortemWorkflow, settings: Settings
) -> None:
    incident_id = incident(engine)
    workflow.draft(incident_id)

    with pytest.raises(NotAllowed, match=r"^only an admin can publish INC-1's postmortem$"):
        workflow.publish(incident_id, "frank")
    with pytest.raises(
        PostmortemError, match=r"^INC-1's postmortem is in review; it can be published only after"
    ):
        workflow.publish(incident_id, "root")
    assert not (settings.knowledge_dir / "incidents").exists()
    assert audit_actions(engine, incident_id) == [("debrief", "postmortem_draft")]


def test_a_new_draft_after_approval_needs_a_new_approval(
    engine: Engine, workflow: PostmortemWorkflow
) -> None:
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.approve(incident_id, "frank")

    redrafted = workflow.draft(incident_id, by="frank")  # the commander

    assert redrafted.postmortem.status is PostmortemStatus.IN_REVIEW
    assert redrafted.postmortem.reviewers == []
    assert redrafted.revision == 2
    assert redrafted.note == "the new draft replaces the approved one, so it needs a new approval"
    with pytest.raises(PostmortemError, match="in review"):
        workflow.publish(incident_id, "root")


def test_only_the_commander_or_an_admin_drafts_an_approved_postmortem_again(
    engine: Engine, workflow: PostmortemWorkflow
) -> None:
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.approve(incident_id, "frank")

    with pytest.raises(
        NotAllowed, match=r"^only the commander \(frank\) or an admin can draft INC-1's approved"
    ):
        workflow.draft(incident_id, by="dana")

    assert workflow.show(incident_id).postmortem.status is PostmortemStatus.APPROVED
    assert workflow.draft(incident_id, by="root").revision == 2


@pytest.fixture
def knowledge(settings: Settings) -> KnowledgeBase:
    return open_knowledge_base(settings)


def test_published_postmortem_is_written_ingested_and_found_by_the_next_incident(
    engine: Engine, settings: Settings, knowledge: KnowledgeBase
) -> None:
    workflow = PostmortemWorkflow(engine, settings, knowledge=lambda: knowledge)
    incident_id = incident(engine)
    workflow.draft(incident_id)
    workflow.approve(incident_id, "frank")

    published = workflow.publish(incident_id, "root")

    path = settings.knowledge_dir / PUBLISHED
    assert published.published_path == path
    assert published.postmortem.status is PostmortemStatus.PUBLISHED
    text = path.read_text(encoding="utf-8")
    assert "status: published" in text and "Approved by frank." in text
    assert_secret_free(text)
    [hit, *_] = knowledge.search("orders api timeouts pgbouncer pool", kind="incident")
    assert hit.source == PUBLISHED
    assert [action for _, action in audit_actions(engine, incident_id)] == [
        "postmortem_draft",
        "postmortem_approve",
        "postmortem_publish",
    ]
    detail = json.loads(engine.store.audit_trail(incident_id)[-1].detail)
    assert detail == {"path": str(path), "revision": 1}

    # The next incident's draft lists it as a similar past incident; its own redraft does not list itself.
    second = incident(engine, room="#inc-orders-2")
    similar = workflow.draft(second).postmortem.similar_incidents
    assert [ref.source for ref in similar][:1] == [PUBLISHED]
    workflow.reopen(incident_id, "root")  # a published postmortem is drafted again only once reopened
    redrafted = workflow.draft(incident_id, by="root")
    assert PUBLISHED not in [ref.source for ref in redrafted.postmortem.similar_incidents]


def test_an_unrelated_incident_lists_no_similar_incident_and_no_runbook(
    engine: Engine, settings: Settings, knowledge: KnowledgeBase
) -> None:
    workflow = PostmortemWorkflow(engine, settings, knowledge=lambda: knowledge)
    published = incident(engine)
    workflow.draft(published)
    workflow.approve(published, "frank")
    workflow.publish(published, "root")  # the knowledge base now holds one past incident, about orders-api
    other = engine.incidents.start(
        "#inc-app", "Android app crashes on launch", "dana", at(30), service="mobile"
    )
    engine.incidents.resolve(other.id, "dana", at(40))

    drafted = workflow.draft(other.id)

    assert drafted.postmortem.similar_incidents == [] and drafted.postmortem.runbooks == []
    assert (
        "## Similar past incidents\n\n_No past incident in the knowledge base is similar enough._"
        in drafted.markdown
    )
    assert "## Runbooks\n\n_No runbook in the knowledge base is relevant enough._" in drafted.markdown
