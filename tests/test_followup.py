"""Follow-through: an open action item past its due date gets one reminder to its owner in its incident's room and,
still open after the grace period, one escalation to the commander; never a flood, never repeated, even on
restart. Through the engine on SQLite and PostgreSQL; the poller in tests/test_plugin_nudges.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from agent.engine import Engine
from agent.filing import Filer
from agent.followup import FollowUpPolicy, due_followups
from agent.models import ActionStatus
from agent.settings import load_settings
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import github, jira, tracker_settings
from tests.store_fixtures import at, backend, db_url, engine

__all__ = ["backend", "db_url", "engine", "github", "jira"]

DUE = date(2024, 3, 15)
CANARY = "Add a canary stage to checkout deploys"
GRACE = FollowUpPolicy(escalate_after=timedelta(days=2))


def day(n: int, hour: int = 9) -> datetime:
    """`n` days after the due date, at `hour` UTC."""
    return datetime(2024, 3, 15, hour, tzinfo=UTC) + timedelta(days=n)


@pytest.fixture
def items(engine: Engine) -> Iterator[Engine]:
    """INC-1 in #inc-checkout (commander carol) with A1 (bob) and A2 (no owner), both due on DUE; resolved."""
    incident = engine.incidents.start("#inc-checkout", "Checkout 5xx", "alice", at(0))
    engine.incidents.set_commander(incident.id, "carol", "alice", at(1))
    engine.actions.add(incident.id, CANARY, "bob", DUE, "alice", at(2))
    engine.actions.add(incident.id, "Write the checkout rollback runbook", None, DUE, "alice", at(3))
    engine.incidents.resolve(incident.id, "carol", at(30))
    yield engine


def test_nothing_is_said_until_the_due_date_has_passed(items: Engine) -> None:
    assert due_followups(items, day(0, hour=23), GRACE) == []


def test_an_overdue_item_gets_one_reminder_naming_its_owner_in_the_incidents_room(items: Engine) -> None:
    [reminder] = due_followups(items, day(1), GRACE)

    assert (reminder.room, reminder.incident_id) == ("#inc-checkout", "INC-1")
    assert reminder.text.splitlines() == [
        "Action items past their due date and still open:",
        f"- INC-1/A1 {CANARY} (due 2024-03-15; @bob). Done: `!action done INC-1/A1`; "
        "more time: `!action edit INC-1/A1 due:YYYY-MM-DD`; not needed: `!action drop INC-1/A1 REASON`.",
        "- INC-1/A2 Write the checkout rollback runbook (due 2024-03-15; nobody owns it yet). Done: "
        "`!action done INC-1/A2`; more time: `!action edit INC-1/A2 due:YYYY-MM-DD`; not needed: "
        "`!action drop INC-1/A2 REASON`.",
    ]
    assert due_followups(items, day(1, hour=10), GRACE) == []


def test_after_the_grace_period_the_commander_hears_once(items: Engine) -> None:
    due_followups(items, day(1), GRACE)
    items.actions.done("INC-1", 2, by="alice")

    assert due_followups(items, day(3, hour=8), GRACE) == []  # not two days since the reminder yet
    [escalation] = due_followups(items, day(3), GRACE)

    assert escalation.text.splitlines() == [
        "@carol: as commander, these action items are still open after a reminder:",
        f"- INC-1/A1 {CANARY} (owner bob, due 2024-03-15, 3 days overdue). Reassign: "
        "`!action edit INC-1/A1 @someone`; or move the date, or drop it with a reason.",
    ]
    assert due_followups(items, day(30), GRACE) == []


def test_an_item_long_overdue_when_first_seen_is_reminded_before_it_is_escalated(items: Engine) -> None:
    first = due_followups(items, day(60), GRACE)
    assert [n.text.splitlines()[0] for n in first] == ["Action items past their due date and still open:"]
    assert due_followups(items, day(61), GRACE) == []
    assert len(due_followups(items, day(62), GRACE)) == 1


def test_a_restart_repeats_nothing(items: Engine, db_url: str) -> None:
    due_followups(items, day(1), GRACE)
    due_followups(items, day(3), GRACE)

    again = Engine.open(db_url)
    try:
        assert due_followups(again, day(4), GRACE) == []
    finally:
        again.close()


def test_moving_the_due_date_earns_a_new_reminder_when_it_passes(items: Engine) -> None:
    due_followups(items, day(1), GRACE)
    items.actions.edit("INC-1", 1, due=date(2024, 3, 20), by="bob", at=day(1))
    items.actions.drop("INC-1", 2, "covered by the canary", by="carol")

    assert due_followups(items, day(5, hour=23), GRACE) == []  # 2024-03-20: due today
    [reminder] = due_followups(items, day(6), GRACE)
    assert "INC-1/A1" in reminder.text and "(due 2024-03-20; @bob)" in reminder.text


def test_each_room_gets_one_message_for_its_items(items: Engine) -> None:
    other = items.incidents.start("#inc-db", "DB slow", "dana", at(0))
    items.actions.add(other.id, "Raise the pgbouncer pool to 200", "erin", DUE, "dana", at(5))

    reminders = due_followups(items, day(1), GRACE)

    assert [(n.room, len(n.text.splitlines())) for n in reminders] == [("#inc-checkout", 3), ("#inc-db", 2)]
    escalations = due_followups(items, day(3), GRACE)
    assert (
        [n.text.splitlines()[0] for n in escalations]
        == [
            "@carol: as commander, these action items are still open after a reminder:",
            "@dana: as commander, these action items are still open after a reminder:",  # no commander: the starter
        ]
    )


def test_done_and_dropped_items_are_left_alone(items: Engine) -> None:
    items.actions.done("INC-1", 1, by="bob")
    items.actions.drop("INC-1", 2, "not needed", by="carol")

    assert due_followups(items, day(10), GRACE) == []


def test_an_item_whose_ticket_was_closed_in_the_tracker_is_not_reminded(
    items: Engine, jira: JiraServer, github: GitHubServer
) -> None:
    settings = load_settings(**{**tracker_settings(jira, github), "DEBRIEF_TRACKERS": "jira"})
    items.actions.edit("INC-1", 2, owner="erin", by="carol", at=at(40))
    filer = Filer.from_settings(items, settings)
    filer.file_pending("INC-1")
    filer.close()
    jira.set_status("OPS-1", "Done")

    [reminder] = due_followups(items, day(1), GRACE, settings)

    assert "INC-1/A1" not in reminder.text and "INC-1/A2" in reminder.text
    assert items.actions.get(1).status is ActionStatus.DONE
