"""What a chat message means to Debrief, whatever the backend: its room, author and time."""

from __future__ import annotations

import pytest

from debrief.bot.chat import user_name


@pytest.mark.parametrize(
    ("identifier", "name"),
    [("@alice", "alice"), ("alice", "alice"), ("<@U123>", "U123"), ("<@U123|alice>", "U123")],
)
def test_a_user_is_named_the_same_however_the_backend_writes_it(identifier: str, name: str) -> None:
    assert user_name(identifier) == name
