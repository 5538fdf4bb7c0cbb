"""Teams without TEAMS_APP_ID (local testing): activities are taken without a token, with a warning, and replies
carry no bot token, but only to the allowed connector hosts. Also: a stopped bot handles every activity it
acknowledged before it exits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.teams_connector import FakeTeams
from tests.teams_fixtures import stop, teams_bot

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ROOM = "19:local@thread.tacv2"


def test_without_an_app_id_activities_need_no_token_and_replies_carry_none(tmp_path: Path) -> None:
    with FakeTeams() as teams, teams_bot(tmp_path, teams, authenticated=False) as bot:
        activity = teams.activity("!incident start Local drill", conversation=ROOM, activity_id="1", at=T0)

        assert bot.post(activity).status_code == 200

        [reply] = teams.wait_for_replies("1")
        assert reply.text.startswith("INC-1 started: Local drill.")
        assert reply.authorization is None
        assert teams.token_requests == [] and teams.metadata_requests == 0
        assert "TEAMS_APP_ID is not set: /api/messages accepts unauthenticated activities" in bot.log()


def test_without_an_app_id_replies_still_go_only_to_the_allowed_connector_hosts(tmp_path: Path) -> None:
    with FakeTeams() as teams, teams_bot(tmp_path, teams, authenticated=False) as bot:
        activity = teams.activity("!incident start Probe", conversation=ROOM, activity_id="1", at=T0)
        activity["serviceUrl"] = teams.service_url.replace("127.0.0.1", "localhost")

        assert bot.post(activity).status_code == 403

        assert bot.post(teams.activity("!incident status", conversation=ROOM, activity_id="2", at=T0)).ok
        [reply] = teams.wait_for_replies("2")
        assert "no incident yet" in reply.text.lower()
        assert teams.sent == [reply]


def test_every_acknowledged_message_is_recorded_when_the_bot_is_stopped(tmp_path: Path) -> None:
    with FakeTeams() as teams, teams_bot(tmp_path, teams, authenticated=False) as bot:
        start = teams.activity("!incident start Shutdown drill", conversation=ROOM, activity_id="1", at=T0)
        assert bot.post(start).status_code == 200
        teams.wait_for_replies("1")
        said = [f"update {n}" for n in range(30)]
        for n, text in enumerate(said):
            at = T0 + timedelta(seconds=n + 1)
            activity = teams.activity(text, conversation=ROOM, activity_id=f"m{n}", at=at)
            assert bot.post(activity).status_code == 200

        assert stop(bot) == 0

        with bot.engine() as engine:
            incident = engine.incidents.open_in_room(ROOM)
            assert incident is not None
            recorded = [event.text for event in engine.timeline.events(incident.id, key_only=False)]
    assert [text for text in recorded if text.startswith("update")] == said
