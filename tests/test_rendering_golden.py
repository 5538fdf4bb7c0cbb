"""Golden replies per platform: a long retrieval answer with code blocks, `!timeline` and `!actions`, exactly as each
backend sends them, compared with the files in tests/data/rendering/<platform>/.

One incident is typed the same way on the console (Errbot's test backend, which prints what the Text console
prints), on Slack (the real bot process against the fake Slack) and on Teams (the real bot process against the fake
Bot Connector). People type text that Markdown would read as formatting (`kube-*`, `2*3`, `**before**`, a command
in backticks, `<!channel>`); every platform must show it as typed. The answer's runbook leads with steps whose
commands are code blocks inside list items.

A chat line waits until the platform heard that it was recorded (the database's event ids are then in the order
the lines were typed). After an intended change, read the assertion's diff, then update the golden file by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from agent.settings import load_settings
from tests.fakes.slack_server import FakeSlack
from tests.plugin_fixtures import Chat, running_chat
from tests.slack_fixtures import SlackBot, add_workspace, eventually, slack_bot_process

if TYPE_CHECKING:
    from tests.fakes.teams_connector import FakeTeams, Sent
    from tests.teams_fixtures import TeamsBot

DATA = Path(__file__).parent / "data" / "rendering"
ZWSP, ZWSP_SHOWN = "\u200b", "\\u200b"  # Slack's invisible word boundary, written visibly in the golden files
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ANSWER_TIMEOUT = 90.0  # the first answer in a process loads the embedding model

# (who, what, minutes after T0, how many replies, the golden file of the last reply)
SCENARIO: list[tuple[str, str, int, int, str | None]] = [
    (
        "alice",
        "!incident start Checkout 5xx after the 09:55 deploy --sev SEV2 --service checkout-api",
        0,
        1,
        None,
    ),
    ("bob", "5xx from kube-* pods, 2*3 replicas down since the 09:55 deploy", 1, 0, None),
    ("alice", "!note paused argo auto-sync **before** rolling back <!channel>", 3, 1, None),
    ("bob", "!note rolled back with `kubectl -n shop rollout undo deployment/checkout-api`", 5, 1, None),
    ("alice", "!timeline --all", 6, 1, "timeline"),
    ("alice", "!action add Alert on kube-* pod restarts @bob due:2024-03-15", 7, 1, None),
    ("bob", "!action add Add a canary stage to checkout deploys @alice due:2024-03-20", 8, 1, None),
    ("bob", "!actions", 9, 1, "actions"),
    ("alice", "!ask how do we roll back checkout-api after a bad deploy?", 10, 2, "answer"),
]


class Platform(Protocol):
    name: str
    suffix: str  # of its golden files

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        """Deliver `text` from `who` in the incident room; the bot's next `replies` replies as sent."""
        ...


def knowledge(root: Path) -> Path:
    """A copy of the test knowledge base (runbooks, a past incident) for one bot."""
    return Path(shutil.copytree(DATA / "knowledge", root / "knowledge"))


# -- the console ---------------------------------------------------------------------------------------------
class Console:
    name, suffix = "console", "txt"

    def __init__(self, chat: Chat) -> None:
        self.chat = chat

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        self.chat.say(text, frm=who, at=at)
        if not replies:
            eventually(lambda: True if self._recorded(text) else None, what=f"{text!r} on the timeline")
        return [self.chat.next_reply(timeout=ANSWER_TIMEOUT) for _ in range(replies)]

    def _recorded(self, text: str) -> bool:
        engine = self.chat.engine()
        try:
            incident = engine.incidents.latest_in_room("#inc-checkout")
            return incident is not None and any(
                e.text == text for e in engine.timeline.events(incident.id, key_only=False)
            )
        finally:
            engine.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    root = tmp_path_factory.mktemp("golden-console")
    settings = load_settings(
        DEBRIEF_DATA_DIR=root / "data",
        DEBRIEF_KNOWLEDGE_DIR=knowledge(root),
        DEBRIEF_ADMINS="alice",
        DEBRIEF_TRACKERS="none",
    )
    with running_chat(settings, root) as chat:
        yield Console(chat)


# -- Slack ---------------------------------------------------------------------------------------------------
SLACK_IDS = {"alice": "U0ALICE", "bob": "U0BOB"}


class Slack:
    name, suffix = "slack", "txt"
    channel = "C0GOLDEN"

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        fake = self.bot.slack
        seen = len(fake.posted)
        # The Slack client sends a typed @name as the person's id, and @channel as <!channel>.
        text = re.sub(r"@(\w+)", lambda m: f"<@{SLACK_IDS[m[1]]}>" if m[1] in SLACK_IDS else m[0], text)
        self.bot.say(self.channel, SLACK_IDS[who], text, at)
        envelope = fake.pushed[-1]
        if not replies:  # its own ack: an earlier message's may come after that message's reply
            fake.wait_until(lambda: envelope in fake.acks, what=f"the ack of {text!r}")
            return []

        def posts() -> list[dict[str, object]] | None:
            new = [post for post in fake.posted[seen:] if post["channel"] == self.channel]
            return new[:replies] if len(new) >= replies else None

        answered = fake.wait_until(posts, timeout=ANSWER_TIMEOUT, what=f"{replies} replies to {text!r}")
        return [str(post["text"]) for post in answered]


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slack]:
    root = tmp_path_factory.mktemp("golden-slack")
    with FakeSlack() as fake:
        add_workspace(fake, {Slack.channel: "inc-golden"})
        with slack_bot_process(fake, root, knowledge(root)) as bot:
            yield Slack(bot)


# -- Teams ---------------------------------------------------------------------------------------------------
TEAMS_IDS = {"alice": ("29:alice", "Alice"), "bob": ("29:bob", "Bob")}


class Teams:
    name, suffix = "teams", "json"
    channel = "19:golden@thread.tacv2"

    def __init__(self, bot: TeamsBot, fake: FakeTeams) -> None:
        self.bot, self.fake = bot, fake
        self.posted = 0

    def say(self, who: str, text: str, at: datetime, replies: int) -> list[str]:
        self.posted += 1
        activity_id = f"1709287{self.posted:06d}"
        # The Teams client sends a typed @name as `<at>Name</at>` with a mention entity carrying the id.
        mentioned = [TEAMS_IDS[name] for name in re.findall(r"@(\w+)", text) if name in TEAMS_IDS]
        for _, display in mentioned:
            text = text.replace(f"@{display.lower()}", f"<at>{display}</at>")
        activity = self.fake.activity(
            text,
            conversation=f"{self.channel};messageid={activity_id}",
            activity_id=activity_id,
            at=at,
            frm=TEAMS_IDS[who],
            mentions=tuple(mentioned),
        )
        response = self.bot.post(activity, token=self.fake.token())  # 200 once the message is recorded
        assert response.status_code == 200, response.text
        if not replies:
            return []
        sent = self.fake.wait_for_replies(activity_id, count=replies, timeout=ANSWER_TIMEOUT)
        return [as_sent(reply) for reply in sent[:replies]]


def as_sent(reply: Sent) -> str:
    """The activity's text and format, or its Adaptive Card, as JSON."""
    body = reply.body
    shown = (
        {"card": reply.card} if reply.card is not None else {k: body.get(k) for k in ("textFormat", "text")}
    )
    return json.dumps(shown, indent=2, ensure_ascii=False)


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    from tests.fakes.teams_connector import FakeTeams
    from tests.teams_fixtures import teams_bot

    root = tmp_path_factory.mktemp("golden-teams")
    knowledge(root)
    with FakeTeams() as fake, teams_bot(root, fake, authenticated=True) as bot:
        yield Teams(bot, fake)


# -- the goldens ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["console", "slack", "teams"])
def replies(request: pytest.FixtureRequest) -> tuple[Platform, dict[str, str]]:
    """The scenario run once per platform: its golden replies by name."""
    platform: Platform = request.getfixturevalue(request.param)
    golden: dict[str, str] = {}
    for who, text, minutes, count, name in SCENARIO:
        said = platform.say(who, text, T0 + timedelta(minutes=minutes), count)
        if name:
            golden[name] = said[-1]
    return platform, golden


@pytest.mark.parametrize("name", ["answer", "timeline", "actions"])
def test_replies_match_the_golden_files(replies: tuple[Platform, dict[str, str]], name: str) -> None:
    platform, golden = replies
    path = DATA / platform.name / f"{name}.{platform.suffix}"
    if os.environ.get("DEBRIEF_WRITE_GOLDEN") == "1":  # after an intended change: write, then read the diff
        path.write_text((golden[name] + "\n").replace(ZWSP, ZWSP_SHOWN), encoding="utf-8")
    expected = path.read_text(encoding="utf-8")

    assert golden[name] + "\n" == expected.replace(ZWSP_SHOWN, ZWSP)
