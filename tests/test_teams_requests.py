"""The HTTP edge of `/api/messages`, on the real bot process: request bodies are bounded before they are read,
and what is not a plain, shallow activity gets a clear 400. Nothing refused is recorded.

The bot here reads at most 64 KB (DEBRIEF_MAX_BODY_BYTES); the memory test runs a bot with the default limit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.teams_connector import FakeTeams
from tests.teams_fixtures import RawAnswer, TeamsBot, raw_post, teams_bot, wait_for

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
LIMIT = 64 * 1024
ROOM = "19:edge@thread.tacv2"


@pytest.fixture(scope="module")
def teams() -> Iterator[FakeTeams]:
    with FakeTeams() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, teams: FakeTeams) -> Iterator[TeamsBot]:
    root = tmp_path_factory.mktemp("teams-edge")
    with teams_bot(root, teams, authenticated=True, env={"DEBRIEF_MAX_BODY_BYTES": str(LIMIT)}) as running:
        start = teams.activity("!incident start Edge cases", conversation=ROOM, activity_id="start", at=T0)
        assert running.post(start, token=teams.token()).status_code == 200
        teams.wait_for_replies("start")
        yield running


class Posts:
    """Activities with ids of their own, and a check that the bot recorded none of the refused ones."""

    count = 0

    def __init__(self, bot: TeamsBot, teams: FakeTeams) -> None:
        self.bot, self.teams = bot, teams

    def activity(self, text: str) -> dict[str, Any]:
        Posts.count += 1
        return self.teams.activity(text, conversation=ROOM, activity_id=f"a{Posts.count}", at=T0)

    def sized(self, size: int, text: str) -> bytes:
        """An activity whose JSON is exactly `size` bytes: `text` padded with spaces."""
        activity = self.activity(text)
        bare = len(json.dumps(activity).encode())
        activity["text"] = text + " " * (size - bare)
        raw = json.dumps(activity).encode()
        assert len(raw) == size
        return raw

    def headers(self, **more: str) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.teams.token()}", **more}

    def assert_not_recorded(self, marker: str) -> None:
        """Messages are handled in order: once a later genuine one is recorded, so would the refused one be."""
        genuine = f"genuine message {Posts.count}"
        assert self.bot.post(self.activity(genuine), token=self.teams.token()).status_code == 200
        self.bot.wait_for_event(ROOM, genuine)
        assert not [event for event in self.bot.timeline(ROOM) if marker in event.text]


@pytest.fixture
def posts(bot: TeamsBot, teams: FakeTeams) -> Posts:
    return Posts(bot, teams)


def error_of(answer: RawAnswer) -> str:
    return str(json.loads(answer.body)["error"])


# -- bounded bodies --------------------------------------------------------------------------------
def test_content_length_over_the_limit_is_refused_without_reading_the_body(
    bot: TeamsBot, posts: Posts
) -> None:
    headers = posts.headers(**{"Content-Length": str(LIMIT + 1)})

    answer = raw_post(bot.port, headers, body=[])  # the body never comes: a bot that waited for it would hang

    assert answer.status == 413
    assert error_of(answer) == f"the request body is larger than {LIMIT} bytes"


def test_chunked_body_over_the_limit_is_refused_and_not_recorded(bot: TeamsBot, posts: Posts) -> None:
    raw = posts.sized(LIMIT + 1, "oversized chunked")

    answer = raw_post(bot.port, posts.headers(), [raw[:1000], raw[1000:]], chunked=True)

    assert answer.status == 413
    posts.assert_not_recorded("oversized chunked")


def test_chunked_body_of_exactly_the_limit_is_taken(bot: TeamsBot, posts: Posts) -> None:
    raw = posts.sized(LIMIT, "chunked at the limit")

    answer = raw_post(bot.port, posts.headers(), [raw[: LIMIT // 2], raw[LIMIT // 2 :]], chunked=True)

    assert answer.status == 200
    bot.wait_for_event(ROOM, "chunked at the limit")


def test_content_length_shorter_than_the_body_reads_no_further(bot: TeamsBot, posts: Posts) -> None:
    raw = posts.sized(2000, "truncated by its content length")
    headers = posts.headers(**{"Content-Length": "1000"})

    answer = raw_post(bot.port, headers, [raw, b"x" * (4 * LIMIT)])

    assert answer.status == 400
    assert error_of(answer) == "the body is not JSON"
    posts.assert_not_recorded("truncated by its content length")


def test_body_without_content_length_or_chunks_is_no_body(bot: TeamsBot, posts: Posts) -> None:
    raw = posts.sized(1000, "body without a length")

    answer = raw_post(bot.port, posts.headers(), [raw])

    assert answer.status == 400
    assert error_of(answer) == "the body is not JSON"
    posts.assert_not_recorded("body without a length")


# -- what is not plain JSON -------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [65, 500, 30_000])
def test_deeply_nested_json_gets_a_clear_400_and_is_not_recorded(
    bot: TeamsBot, posts: Posts, depth: int
) -> None:
    activity = posts.activity(f"deeply nested {depth}")
    activity["channelData"]["payload"] = "@@@"
    raw = json.dumps(activity).replace('"@@@"', "[" * depth + "]" * depth).encode()

    answer = raw_post(bot.port, posts.headers(**{"Content-Length": str(len(raw))}), [raw])

    assert answer.status == 400, answer
    assert error_of(answer) == "the activity is nested deeper than 64 levels"
    assert b"Traceback" not in answer.body
    posts.assert_not_recorded("deeply nested")


def with_nul(where: str, activity: dict[str, Any]) -> bytes:
    if where == "text":
        activity["text"] += "\x00 and after"
    elif where == "key":
        activity["channelData"]["odd\x00key"] = 1
    raw = json.dumps(activity).encode()  # a NUL in a string is written as \u0000
    return raw.replace(b"@NUL@", b"\x00")


@pytest.mark.parametrize("where", ["text", "key", "raw byte"])
def test_nul_character_gets_a_clear_400_and_is_not_recorded(bot: TeamsBot, posts: Posts, where: str) -> None:
    activity = posts.activity(f"NUL in the {where}" + ("@NUL@" if where == "raw byte" else ""))
    raw = with_nul(where, activity)

    answer = raw_post(bot.port, posts.headers(**{"Content-Length": str(len(raw))}), [raw])

    assert answer.status == 400, answer
    assert error_of(answer) == "the activity contains a NUL character"
    assert b"Traceback" not in answer.body
    posts.assert_not_recorded(f"NUL in the {where}")


def test_lone_surrogate_gets_a_clear_400_instead_of_being_acknowledged_and_dropped(
    bot: TeamsBot, posts: Posts
) -> None:
    raw = json.dumps(posts.activity("surrogate @S@ in the text")).replace("@S@", "\\ud800").encode()

    answer = raw_post(bot.port, posts.headers(**{"Content-Length": str(len(raw))}), [raw])

    assert answer.status == 400
    assert error_of(answer) == "the activity contains text that is not valid Unicode (a lone surrogate)"
    posts.assert_not_recorded("surrogate")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\xff\xfe{not utf-8", "the body is not JSON"),
        (b'{"type": "message", "text": "unfinished', "the body is not JSON"),
        (b"[1, 2, 3]", "not a Bot Framework activity"),
        (b'{"type": "message", "timestamp": "yesterday"}', "not a Bot Framework activity"),
        (b'{"type": "message", "n": ' + b"9" * 5000 + b"}", "the body is not JSON"),
    ],
)
def test_malformed_activity_gets_one_sentence_and_no_traceback(
    bot: TeamsBot, posts: Posts, body: bytes, error: str
) -> None:
    answer = raw_post(bot.port, posts.headers(**{"Content-Length": str(len(body))}), [body])

    assert (answer.status, error_of(answer)) == (400, error)
    assert b"Traceback" not in answer.body
    assert f"Teams: refused an activity: {error}" in bot.log()
    assert "Validation error for Activity" not in bot.log()  # the SDK's traceback for it


# -- memory ----------------------------------------------------------------------------------------
MB = 1 << 20
CLIENTS, BODY_MB = 10, 50
MAX_GROWTH_MB = 60


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.mark.parametrize("path", ["/api/messages", "/debrief/alertmanager", "/debrief/github"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_ten_concurrent_50_mb_requests_do_not_grow_the_bots_memory(
    tmp_path: Path, chunked: bool, path: str
) -> None:
    """Unauthenticated (a made-up token), with the default limit of 1 MB, on Teams' route and the webhooks'."""
    with FakeTeams() as teams, teams_bot(tmp_path, teams, authenticated=True) as bot:
        pid = bot.process.pid
        headers = {"Authorization": "Bearer made-up", "Content-Type": "application/json"}
        if not chunked:
            headers["Content-Length"] = str(BODY_MB * MB)
        body = [b"{" + b" " * (MB - 1)] + [b" " * MB] * (BODY_MB - 1)
        # Warm the code path up, once the route is served (the webhooks' come with their plugin, after Teams').
        wait_for(
            lambda: raw_post(bot.port, headers, body[:2], chunked=True, path=path).status != 404,
            timeout=120,
        )
        time.sleep(1)
        before = peak = rss_mb(pid)
        answers: list[RawAnswer] = []
        clients = [
            threading.Thread(
                target=lambda: answers.append(raw_post(bot.port, headers, body, chunked, 60, path))
            )
            for _ in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        while any(client.is_alive() for client in clients):
            peak = max(peak, rss_mb(pid))
            time.sleep(0.01)
        after = rss_mb(pid)

    print(
        f"{path}: bot RSS {before:.0f} MB before, {peak:.0f} MB at peak, {after:.0f} MB after "
        f"{CLIENTS} x {BODY_MB} MB"
    )
    assert [answer.status for answer in answers] == [413] * CLIENTS
    assert peak - before < MAX_GROWTH_MB, f"{before:.0f} MB -> {peak:.0f} MB"
