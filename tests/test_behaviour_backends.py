"""One incident, typed the same way on every chat platform, gives the same answers.

The scenario runs against Text (Errbot's in-memory test backend, the console's stand-in), Slack (the real bot
process on SlackV3 against the fake Slack) and Teams (the real bot process on our backend against the fake Bot
Connector). Each platform names people its own way (Slack `U0ALICE`, Teams `29:alice`); a backend's `names` maps
those ids back to the people, the backticks of `code` (which Slack and Teams render, and the console shows) are
dropped, and a Teams message's blank lines read as the line breaks Teams shows; nothing else is normalised. Times
come from the platforms' own timestamps, so every backend must give exactly the same replies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import pytest

from agent.settings import load_settings
from tests.fakes.slack_server import FakeSlack
from tests.plugin_fixtures import Chat, running_chat
from tests.slack_fixtures import SlackBot, add_workspace, slack_bot_process

if TYPE_CHECKING:  # the Teams backend and its fakes may not be in the tree: imported where used
    from tests.fakes.teams_connector import FakeTeams, Sent
    from tests.teams_fixtures import TeamsBot

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)

# (who, what, when, how many replies)
SCENARIO: list[tuple[str, str, timedelta, int]] = [
    ("alice", "!incident start Checkout 5xx spike --sev SEV2 --service checkout-api", timedelta(0), 1),
    ("bob", "error rate 12% on checkout-api since the 09:55 deploy", timedelta(minutes=1), 0),
    ("alice", "!note rolled back the 09:55 deploy", timedelta(minutes=5), 1),
    ("alice", "!timeline", timedelta(minutes=6), 1),
    ("alice", "!timeline --all", timedelta(minutes=6, seconds=30), 1),
    (
        "alice",
        "!action add Add a canary stage to checkout deploys @bob due:2024-03-15",
        timedelta(minutes=7),
        1,
    ),
    ("bob", "!actions", timedelta(minutes=8), 1),
]
EXPECTED = [
    "INC-1 started: Checkout 5xx spike (SEV2, service checkout-api). alice runs it until !incident commander @user "
    "names a commander; everything said here goes on its timeline.",
    "Noted on the INC-1 timeline at 2024-03-01 10:05:00 UTC.",
    "INC-1 key events:\n"
    "E1  2024-03-01 10:00:00 UTC  alice  [status]  Incident started (SEV2): Checkout 5xx spike\n"
    "E3  2024-03-01 10:05:00 UTC  alice  [note]  rolled back the 09:55 deploy",
    "INC-1 events:\n"
    "E1  2024-03-01 10:00:00 UTC  alice  [status]  Incident started (SEV2): Checkout 5xx spike\n"
    "E2  2024-03-01 10:01:00 UTC  bob  [message]  error rate 12% on checkout-api since the 09:55 deploy\n"
    "E3  2024-03-01 10:05:00 UTC  alice  [note]  rolled back the 09:55 deploy",
    "Added to INC-1: A1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15) [pending]",
    "INC-1 action items:\nA1 Add a canary stage to checkout deploys (owner bob, due 2024-03-15) [pending]",
]


class Backend(Protocol):
    """A chat platform with the bot running on it, one room, and the people alice (an admin) and bob."""

    names: dict[str, str]  # the platform's id of a person -> the person

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        """Deliver `text` from `who` at `at` in the incident room; the bot's next `replies` replies, as a person
        reads them on that platform (formatting marks aside)."""
        ...


# -- Text -------------------------------------------------------------------------------------------------------
class TextBackend:
    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.names: dict[str, str] = {}  # the console names people as they are

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        self.chat.say(text, frm=who, at=at)
        return [without_code_marks(self.chat.next_reply()) for _ in range(replies)]


@pytest.fixture(scope="module")
def text_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextBackend]:
    root = tmp_path_factory.mktemp("behaviour-text")
    settings = load_settings(
        DEBRIEF_DATA_DIR=root / "data",
        DEBRIEF_KNOWLEDGE_DIR=root / "knowledge",
        DEBRIEF_ADMINS="alice",
        DEBRIEF_TRACKERS="none",
    )
    with running_chat(settings, root) as chat:
        yield TextBackend(chat)


# -- Slack ------------------------------------------------------------------------------------------------------
SLACK_IDS = {"alice": "U0ALICE", "bob": "U0BOB"}
TEAMS_IDS = {"alice": ("29:alice", "Alice"), "bob": ("29:bob", "Bob")}


class SlackBackend:
    channel = "C0BEHAVE"

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self.ids = SLACK_IDS
        self.names = {user_id: name for name, user_id in SLACK_IDS.items()}

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        seen = len(self.bot.slack.posted)
        # The Slack client turns a typed @name into the person's id before sending.
        text = re.sub(r"@(\w+)", lambda m: f"<@{self.ids[m[1]]}>" if m[1] in self.ids else m[0], text)
        self.bot.say(self.channel, self.ids[who], text, at)
        if not replies:
            return []

        def posts() -> list[dict[str, object]] | None:
            new = [post for post in self.bot.slack.posted[seen:] if post["channel"] == self.channel]
            return new[:replies] if len(new) >= replies else None

        answered = self.bot.slack.wait_until(posts, what=f"{replies} replies to {text!r}")
        return [without_code_marks(str(post["text"])) for post in answered]


@pytest.fixture(scope="module")
def slack_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackBackend]:
    root = tmp_path_factory.mktemp("behaviour-slack")
    (root / "knowledge").mkdir()
    with FakeSlack() as slack:
        add_workspace(slack, {SlackBackend.channel: "inc-behaviour"})
        with slack_bot_process(slack, root, root / "knowledge") as bot:
            yield SlackBackend(bot)


# -- Teams ------------------------------------------------------------------------------------------------------
class TeamsBackend:
    channel = "19:behaviour@thread.tacv2"

    def __init__(self, bot: TeamsBot, teams: FakeTeams) -> None:
        self.bot, self.teams = bot, teams
        self.ids = TEAMS_IDS
        # Commands act as the Teams id (roles); chat lines and notes are recorded under the display name.
        self.names = {user_id: name for name, (user_id, _) in TEAMS_IDS.items()}
        self.names.update({display: name for name, (_, display) in TEAMS_IDS.items()})
        self.posted = 0

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        self.posted += 1
        activity_id = f"1709287{self.posted:06d}"
        # The Teams client sends a typed @name as `<at>Name</at>` with a mention entity carrying the id.
        mentioned = [self.ids[name] for name in re.findall(r"@(\w+)", text) if name in self.ids]
        for _, display in mentioned:
            text = text.replace(f"@{display.lower()}", f"<at>{display}</at>")
        activity = self.teams.activity(
            text,
            conversation=f"{self.channel};messageid={activity_id}",
            activity_id=activity_id,
            at=at,
            frm=self.ids[who],
            mentions=tuple(mentioned),
        )
        response = self.bot.post(activity, token=self.teams.token())
        assert response.status_code == 200, response.text
        if not replies:
            return []
        sent = self.teams.wait_for_replies(activity_id, count=replies)[:replies]
        return [without_code_marks(as_teams_shows(reply)) for reply in sent]


@pytest.fixture(scope="module")
def teams_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamsBackend]:
    """Teams through our backend (backends/teams/) and the fake connector."""
    from tests.fakes.teams_connector import FakeTeams
    from tests.teams_fixtures import teams_bot

    with FakeTeams() as teams, teams_bot(tmp_path_factory.mktemp("behaviour-teams"), teams, True) as bot:
        yield TeamsBackend(bot, teams)


# -- the suite --------------------------------------------------------------------------------------------------
@pytest.fixture(params=["text", "slack", "teams"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture: Backend = request.getfixturevalue(f"{request.param}_backend")
    return fixture


def run_scenario(backend: Backend) -> list[str]:
    replies: list[str] = []
    for who, text, offset, count in SCENARIO:
        for reply in backend.say(who, text, T0 + offset, count):
            replies.append(in_names(reply, backend.names))
    return replies


def without_code_marks(text: str) -> str:
    """What a person reads where the platform renders `code` (Slack, Teams): the text without its backticks."""
    return text.replace("`", "")


def as_teams_shows(reply: Sent) -> str:
    """A Markdown message's lines as Teams shows them: Teams needs a blank line for a line break. A card's text is
    its plain-text fallback."""
    return reply.text.replace("\n\n", "\n") if reply.body.get("textFormat") == "markdown" else reply.text


def in_names(text: str, names: dict[str, str]) -> str:
    """The reply with each platform id of a person (bare or as a `<@id>` mention) written as the person."""
    for platform_id, name in names.items():
        text = text.replace(f"<@{platform_id}>", name).replace(platform_id, name)
    return text


def without_event_ids(text: str) -> str:
    """Event ids are the database's insertion order, which a chat line and a command may take in either order."""
    return re.sub(r"(?m)^E\d+  ", "E?  ", text)


def test_the_same_incident_gives_the_same_replies_on_every_platform(backend: Backend) -> None:
    replies = run_scenario(backend)

    assert [without_event_ids(reply) for reply in replies] == [without_event_ids(reply) for reply in EXPECTED]
