"""Planted secrets, typed into an incident every way a responder types, found in none of the places text goes.

One incident through the real bot (Errbot's test backend) with the LLM, Jira and GitHub as local fakes: chat lines,
notes, impact, cause, title, an action item and a question, each holding secrets of the shapes people paste; then
the postmortem (drafted with the LLM, approved, published and ingested), filing, and the command line. Searched:
the database's bytes, the draft and the published file and their names, the vector store's files, every request
to the LLM, every ticket, every reply, the logs and the command line's output.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.redact import install_log_redaction
from agent.settings import Settings
from debrief.cli import main
from tests.assistant_fixtures import bot_with_knowledge
from tests.fakes.github_server import GitHubServer
from tests.fakes.jira_server import JiraServer
from tests.fakes.openai_server import FakeOpenAI, auto_agent
from tests.filing_fixtures import github, jira, tracker_settings
from tests.plugin_fixtures import ADMIN, T0, Chat, chat

__all__ = ["chat", "github", "jira"]

ANSWER_TIMEOUT = 90


def pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
SECRETS = {
    "github token": f"ghp_{pick(ALNUM, 36)}",
    "slack token": f"xoxb-{pick(string.digits, 12)}-{pick(string.digits, 12)}-{pick(ALNUM, 24)}",
    "aws key id": f"AKIA{pick(string.ascii_uppercase + string.digits, 16)}",
    "mysql password": f"Mq{pick(ALNUM, 12)}",
    "prose password": f"Pz{pick(ALNUM, 12)}",
    "cookie": f"sess{pick(ALNUM, 24)}",
    "url password": f"Up{pick(ALNUM, 12)}",
}
LINES = [
    f"I used {SECRETS['github token']} to query the API",
    f"bot token is {SECRETS['slack token']} btw",
    f"the debug dump had {SECRETS['aws key id']} in it",
    f"ran mysql -u root -p{SECRETS['mysql password']} orders",
    f"the password is {SECRETS['prose password']}",
    f"Cookie: session={SECRETS['cookie']}",
    f"DATABASE_URL=postgres://orders:{SECRETS['url password']}@orders-db:5432/orders",
]


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=auto_agent) as server:
        yield server


@pytest.fixture
def debrief_settings(
    tmp_path: Path, fake_llm: FakeOpenAI, jira: JiraServer, github: GitHubServer
) -> Settings:
    return bot_with_knowledge(
        tmp_path,
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=fake_llm.url,
        DEBRIEF_LLM_TIMEOUT=10,
        **tracker_settings(jira, github),
    )


def files_under(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(folder)), path.read_bytes()


def leaks(where: str, content: str | bytes) -> list[str]:
    data = content if isinstance(content, bytes) else content.encode()
    return [f"{name} in {where}" for name, value in SECRETS.items() if value.encode() in data]


def test_planted_secrets_are_found_nowhere(
    chat: Chat, tmp_path: Path, fake_llm: FakeOpenAI, jira: JiraServer, github: GitHubServer
) -> None:
    install_log_redaction()  # as `debrief run` does once Errbot has set up its logs
    replies: list[str] = []

    def ask(text: str, **kwargs: object) -> None:
        replies.append(chat.ask(text, **kwargs))  # type: ignore[arg-type]

    ask(f"!incident start Leak of {SECRETS['github token']}", at=T0)
    for n, line in enumerate(LINES):
        chat.say(line, frm="bob", at=T0 + timedelta(minutes=1, seconds=n))
    ask(f"!note {LINES[3]}")
    ask(f"!incident impact {LINES[4]}")
    ask(f"!incident cause {LINES[6]}")
    ask(f"!action add Rotate the key {SECRETS['aws key id']} in the vault @bob due:2030-01-15")
    chat.say(f"@debrief what do we do about the leaked {LINES[5]}?", frm="carol")
    replies += [chat.next_reply(), chat.next_reply(timeout=ANSWER_TIMEOUT)]
    ask("!incident resolve rotated everything", at=T0 + timedelta(minutes=30))
    ask("!postmortem")
    replies.append(chat.next_reply(timeout=ANSWER_TIMEOUT))
    ask("!postmortem approve")
    ask("!postmortem publish", frm=ADMIN)
    replies.append(chat.next_reply(timeout=ANSWER_TIMEOUT))
    ask("!actions file INC-1")  # resolved: the room's commands name it
    replies.append(chat.next_reply(timeout=ANSWER_TIMEOUT))
    ask("!timeline --all INC-1")
    ask("!actions INC-1")
    replies.append(chat.next_reply(timeout=ANSWER_TIMEOUT))

    cli = CliRunner()
    env = {
        "DEBRIEF_DATA_DIR": str(chat.settings.data_dir),
        "DEBRIEF_KNOWLEDGE_DIR": str(chat.settings.knowledge_dir),
    }
    outputs = [
        cli.invoke(main, args, env={**env, **{k: str(v) for k, v in tracker_env(jira, github).items()}})
        for args in (
            ["actions", "--json"],
            ["actions"],
            ["postmortem", "--incident", "INC-1", "--format", "json"],
            ["search", "--json", "rotate the key"],
        )
    ]

    published = list((chat.settings.knowledge_dir / "incidents").glob("*"))
    found = [leak for text in replies for leak in leaks("a reply", text)]
    found += [
        leak for name, data in files_under(chat.settings.data_dir) for leak in leaks(f"data/{name}", data)
    ]
    found += [
        leak
        for path in published
        for leak in leaks(f"published file {path.name}", path.name + path.read_text())
    ]
    found += leaks("LLM requests", fake_llm.requests_text())
    found += leaks("Jira tickets", json.dumps(jira.issues, default=str))
    found += leaks("GitHub issues", json.dumps(github.issues, default=str))
    found += leaks("the log", (tmp_path / "errbot.log").read_bytes())
    found += [leak for result in outputs for leak in leaks("command output", result.output)]

    assert published, "the postmortem was published"
    assert fake_llm.chat_requests and jira.issues and github.issues, "the LLM and both trackers were reached"
    assert all(result.exit_code == 0 for result in outputs), [result.output for result in outputs]
    assert found == [], "\n".join(found)


def tracker_env(jira: JiraServer, github: GitHubServer) -> dict[str, object]:
    return tracker_settings(jira, github)
