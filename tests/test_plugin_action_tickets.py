"""Filed items edited, done and dropped in chat after resolve: each ticket is updated or closed in the fake Jira and
GitHub, one ticket per item and tracker, never duplicated, also across an outage and a retry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.settings import Settings, load_settings
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import github, jira, tracker_settings
from tests.plugin_fixtures import ADMIN, T0, Chat, chat

__all__ = ["chat", "github", "jira"]

LATER = T0 + timedelta(hours=2)
CANARY = "Add a canary stage to checkout deploys"


@pytest.fixture
def debrief_settings(tmp_path: Path, jira: JiraServer, github: GitHubServer) -> Settings:
    return load_settings(
        DEBRIEF_DATA_DIR=tmp_path / "data",
        DEBRIEF_KNOWLEDGE_DIR=tmp_path / "knowledge",
        DEBRIEF_BACKEND="Test",
        DEBRIEF_ADMINS=ADMIN,
        **tracker_settings(jira, github),
    )


def filed_and_resolved(chat: Chat, jira: JiraServer, github: GitHubServer) -> None:
    """INC-1 with A1 (bob) and A2 (carol) filed to both trackers, then resolved."""
    for login in ("bob", "carol", "erin"):
        jira.add_user(login)
        github.assignable.add(login)
    chat.ask("!incident start Checkout 5xx spike", at=T0)
    chat.ask(f"!action add {CANARY} @bob due:2024-03-15", at=T0)
    chat.ask("!action add Alert when payment gateway p99 exceeds 2s @carol due:2024-03-20", at=T0)
    assert chat.ask("!actions file", at=T0).startswith("Filing INC-1's action items")
    assert chat.next_reply(timeout=30).startswith("Filing to jira, github: 4 filed.")
    assert chat.ask("!incident resolve", at=T0 + timedelta(minutes=30)).startswith("INC-1 resolved")


def tickets(jira: JiraServer, github: GitHubServer) -> tuple[list[str], list[int]]:
    with jira.lock, github.lock:
        return list(jira.issues), list(github.issues)


def test_an_edit_after_resolve_updates_both_tickets_in_place(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    filed_and_resolved(chat, jira, github)

    ack = chat.ask(
        f"!action edit A1 {CANARY} with automatic rollback @erin due:2024-04-02", frm="dave", at=LATER
    )
    reply = chat.next_reply(timeout=30).splitlines()

    assert ack == "Updating INC-1/A1's tickets: jira:OPS-1, github:acme/ops#1…"
    assert (
        reply[0]
        == "Edited INC-1/A1: text was 'Add a canary stage to checkout deploys', owner bob -> erin, due 2024-03-15 -> 2024-04-02"
    )
    assert reply[-1] == "Tickets: jira:OPS-1 updated, github:acme/ops#1 updated"
    fields = jira.fields("OPS-1")
    assert (fields["summary"], fields["assignee"]["name"], fields["duedate"]) == (
        f"{CANARY} with automatic rollback",
        "erin",
        "2024-04-02",
    )
    assert (github.issues[1]["title"], github.issues[1]["assignee"]["login"]) == (
        f"{CANARY} with automatic rollback",
        "erin",
    )
    assert tickets(jira, github) == (["OPS-1", "OPS-2"], [1, 2])


def test_done_and_drop_close_the_tickets_and_actions_shows_it(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    filed_and_resolved(chat, jira, github)

    assert chat.ask("!action done A1", frm="bob", at=LATER).startswith("Updating INC-1/A1's tickets")
    assert chat.next_reply(timeout=30).splitlines()[-1] == (
        "Tickets: jira:OPS-1 updated (closed: Done), github:acme/ops#1 updated (closed)"
    )
    chat.ask("!action drop A2 the gateway is replaced next month", frm="carol", at=LATER)
    assert chat.next_reply(timeout=30).splitlines()[-1] == (
        "Tickets: jira:OPS-2 updated (closed: Won't Do), github:acme/ops#2 updated (closed)"
    )

    assert chat.ask("!actions", at=LATER).startswith("Reading the status of 4 tickets")
    assert chat.next_reply(timeout=30).splitlines()[1:] == [
        f"A1 {CANARY} (owner bob, due 2024-03-15) [done] jira:OPS-1 (Done), github:acme/ops#1 (closed)",
        "A2 Alert when payment gateway p99 exceeds 2s (owner carol, due 2024-03-20) "
        "[dropped: the gateway is replaced next month] jira:OPS-2 (Won't Do), github:acme/ops#2 (closed)",
    ]
    assert (github.issues[1]["state_reason"], github.issues[2]["state_reason"]) == (
        "completed",
        "not_planned",
    )
    assert tickets(jira, github) == (["OPS-1", "OPS-2"], [1, 2])


def test_an_update_that_meets_an_outage_is_finished_by_the_next_run_never_duplicated(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    filed_and_resolved(chat, jira, github)
    jira.fail_next(1, status=503)

    chat.ask("!action edit A2 due:2024-03-27", at=LATER)
    reply = chat.next_reply(timeout=30).splitlines()

    assert reply[-1].startswith("Tickets: jira:OPS-2 update pending (Jira at")
    assert reply[-1].endswith(", github:acme/ops#2 updated")
    assert chat.ask("!actions", at=LATER).startswith("Reading the status")
    assert "jira:OPS-2 (To Do; update pending: Jira at" in chat.next_reply(timeout=30)

    assert chat.ask("!actions file", at=LATER).startswith("Filing INC-1's action items")
    summary = chat.next_reply(timeout=30)

    assert summary.splitlines()[0] == "Filing to jira, github: 4 already filed, 1 updated."
    assert jira.fields("OPS-2")["duedate"] == "2024-03-27"
    assert tickets(jira, github) == (["OPS-1", "OPS-2"], [1, 2])


def test_a_ticket_closed_in_the_tracker_shows_the_item_done(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    filed_and_resolved(chat, jira, github)
    jira.set_status("OPS-1", "Done")
    github.set_state(1, "closed")

    chat.ask("!actions", at=LATER)

    assert "A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15) [done]" in chat.next_reply(
        timeout=30
    )
    assert chat.ask("!action done A1", at=LATER) == "INC-1/A1 is already done, so it cannot be marked done"
