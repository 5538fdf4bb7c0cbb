"""A kill -9 in the middle of a Teams burst loses no activity the bot answered 200: the answer waits for the
capture's commit. Real bot processes, real HTTP, the fake Bot Framework (unauthenticated: the token path is
tested elsewhere and only slows the burst)."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from tests.fakes.teams_connector import FakeTeams
from tests.teams_fixtures import teams_bot

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ROOM = "19:burst@thread.tacv2"
BURST, SENDERS, KILL_AFTER = 300, 6, 120


def test_kill_9_during_a_burst_loses_0_acknowledged_activities(tmp_path: Path) -> None:
    answered: dict[str, int | None] = {}
    lock = threading.Lock()
    with FakeTeams() as teams:
        with teams_bot(tmp_path, teams, authenticated=False) as bot:
            start = teams.activity(
                "!incident start Burst drill", conversation=ROOM, activity_id="start", at=T0
            )
            assert bot.post(start).status_code == 200
            teams.wait_for_replies("start")

            def send(sender: int) -> None:
                for n in range(sender, BURST, SENDERS):
                    text = f"burst line {n}"
                    activity = teams.activity(
                        text, conversation=ROOM, activity_id=f"b{n}", at=T0 + timedelta(seconds=n)
                    )
                    try:
                        status: int | None = bot.post(activity).status_code
                    except requests.RequestException:
                        status = None  # the bot died before it answered
                    with lock:
                        answered[text] = status
                        if len(answered) == KILL_AFTER:
                            os.kill(bot.process.pid, signal.SIGKILL)

            senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()

        with teams_bot(tmp_path, teams, authenticated=False) as restarted:
            recorded = Counter(event.text for event in restarted.timeline(ROOM))

    acknowledged = [text for text, status in answered.items() if status == 200]
    lost = [text for text in acknowledged if recorded[text] == 0]
    duplicated = [text for text, count in recorded.items() if text.startswith("burst line") and count > 1]
    assert len(acknowledged) >= KILL_AFTER // 2, answered  # the burst really ran before the kill
    assert len(acknowledged) < BURST  # and the kill really cut it short
    assert (lost, duplicated) == ([], [])
