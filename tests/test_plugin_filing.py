"""`!actions file` and the ticket refs and statuses in `!actions`, through the real bot and real tracker clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings, load_settings
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.filing_fixtures import github, jira, tracker_settings
from tests.plugin_fixtures import ADMIN, T0, Chat, chat

__all__ = ["chat", "github", "jira"]


@pytest.fixture
def trackers(request: pytest.FixtureRequest) -> str:
    """`jira,github` unless a test parametrizes it (indirectly) to something else."""
    return str(getattr(request, "param", "jira,github"))


@pytest.fixture
def debrief_settings(tmp_path: Path, jira: JiraServer, github: GitHubServer, trackers: str) -> Settings:
    """The bot's settings, with the trackers pointing at the fake servers."""
    return load_settings(
        DEBRIEF_DATA_DIR=tmp_path / "data",
        DEBRIEF_KNOWLEDGE_DIR=tmp_path / "knowledge",
        DEBRIEF_BACKEND="Test",
        DEBRIEF_ADMINS=ADMIN,
        **{**tracker_settings(jira, github), "DEBRIEF_TRACKERS": trackers},
    )


def start_with_items(chat: Chat) -> None:
    assert chat.ask("!incident start Checkout 5xx spike", at=T0).startswith("INC-1 started")
    chat.ask("!action add Add a canary stage to checkout deploys @bob due:2024-03-15")
    chat.ask("!action add Alert when payment gateway p99 exceeds 2s @carol due:2024-03-20")
    chat.ask("!action add Improve monitoring of checkout @dave due:2024-03-20")


def tickets(chat: Chat, jira: JiraServer, github: GitHubServer) -> list[list[int]]:
    """How many Jira and GitHub issues carry the keys of INC-1's A1 and A2."""
    engine = chat.engine()
    try:
        keys = [engine.actions.get(n).idempotency_key for n in (1, 2)]
    finally:
        engine.close()
    return [[len(jira.with_label(key)), len(github.with_label(key))] for key in keys]


def test_actions_file_acknowledges_then_reports_each_item(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    start_with_items(chat)

    assert chat.ask("!actions file") == "Filing INC-1's action items to jira, github…"
    summary = chat.next_reply(timeout=30).splitlines()

    assert summary[0] == "Filing to jira, github: 4 filed, 1 needs revision."
    assert (
        summary[1] == "A1 Add a canary stage to checkout deploys: jira:OPS-1 filed, github:acme/ops#1 filed"
    )
    assert summary[3].startswith("A3 Improve monitoring of checkout: needs revision: the title is vague")
    assert tickets(chat, jira, github) == [[1, 1], [1, 1]]
    assert len(jira.issues) == len(github.issues) == 2


def test_repeating_actions_file_never_duplicates(chat: Chat, jira: JiraServer, github: GitHubServer) -> None:
    start_with_items(chat)
    chat.ask("!actions file")
    chat.next_reply(timeout=30)

    chat.ask("!actions file")
    again = chat.next_reply(timeout=30).splitlines()

    assert again[0] == "Filing to jira, github: 4 already filed, 1 needs revision."
    assert tickets(chat, jira, github) == [[1, 1], [1, 1]]


def test_two_concurrent_actions_file_commands_file_each_item_once(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    start_with_items(chat)
    jira.delay_next(0.1, n=10)

    chat.say("!actions file", frm="alice")
    chat.say("!actions file", frm=ADMIN)
    replies = [chat.next_reply(timeout=30) for _ in range(4)]

    assert sum(reply == "Filing INC-1's action items to jira, github…" for reply in replies) == 2
    summaries = [reply for reply in replies if reply.startswith("Filing to")]
    assert len(summaries) == 2
    assert tickets(chat, jira, github) == [[1, 1], [1, 1]]
    assert len(jira.issues) == len(github.issues) == 2


def test_only_the_commander_or_an_admin_may_file(chat: Chat, jira: JiraServer, github: GitHubServer) -> None:
    start_with_items(chat)
    assert chat.ask("!actions file", frm="mallory") == (
        "Only whoever started it or an admin can file INC-1's action items."
    )
    chat.assert_silent()
    assert jira.issues == {} and github.issues == {}


@pytest.mark.parametrize("trackers", ["none"], indirect=True)
def test_actions_file_without_a_tracker_says_how_to_configure_one(chat: Chat) -> None:
    start_with_items(chat)
    assert (
        chat.ask("!actions file")
        == "No tracker is configured: set DEBRIEF_TRACKERS to jira and/or github first."
    )


def test_actions_file_with_bad_arguments_explains(chat: Chat) -> None:
    start_with_items(chat)
    assert (
        chat.ask("!actions file everything")
        == "Use !actions file, or !actions file INC-n for another incident"
    )
    assert "no incident INC-9" in chat.ask("!actions file INC-9")


def test_actions_shows_refs_and_the_trackers_current_status(
    chat: Chat, jira: JiraServer, github: GitHubServer
) -> None:
    start_with_items(chat)
    jira.fail_next(3, status=503)  # A1 stays pending on Jira for now
    chat.ask("!actions file")
    chat.next_reply(timeout=30)
    github.set_state(1, "closed")

    assert chat.ask("!actions") == "Reading the status of 3 tickets from github, jira…"
    listing = chat.next_reply(timeout=30).splitlines()

    assert listing[1].startswith("A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15)")
    error = f"Jira at {jira.url} could not look up a ticket (HTTP 503: Service unavailable (injected 503))"
    assert listing[1].endswith(f"[filed] jira pending: {error}, github:acme/ops#1 (closed)")
    assert listing[2].endswith("[filed] jira:OPS-1 (To Do), github:acme/ops#2 (open)")
    assert listing[3].endswith("[needs_revision]")

    chat.ask("!actions file")
    chat.next_reply(timeout=30)
    jira.set_status("OPS-2", "Done")
    assert chat.ask("!actions").startswith("Reading the status of")
    listing = chat.next_reply(timeout=30).splitlines()
    assert listing[1].endswith("[done] jira:OPS-2 (Done), github:acme/ops#1 (closed)")
