"""What a chat message means to Debrief, whatever the backend: its room, author and time."""

from __future__ import annotations

import pytest

from debrief.chat import stable_room, user_name


@pytest.mark.parametrize(
    ("shown", "key"),
    [
        ("<#C024BE91L|inc-checkout>", "<#C024BE91L>"),
        ("<#C024BE91L|inc-checkout-renamed>", "<#C024BE91L>"),
        ("<#G0PRIVATE1>", "<#G0PRIVATE1>"),
        ("#inc-checkout", "#inc-checkout"),
        ("19:abc@thread.tacv2", "19:abc@thread.tacv2"),
    ],
)
def test_a_slack_channel_is_keyed_by_its_id_so_a_rename_keeps_its_incident(shown: str, key: str) -> None:
    assert stable_room(shown) == key


@pytest.mark.parametrize(
    ("identifier", "name"), [("@alice", "alice"), ("alice", "alice"), ("<@U123>", "U123")]
)
def test_a_user_is_named_the_same_however_the_backend_writes_it(identifier: str, name: str) -> None:
    assert user_name(identifier) == name
