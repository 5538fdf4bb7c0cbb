"""People by name, not by platform id: `agent.people` (replies, the directory) and the renderers that use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from agent.engine import Engine
from agent.people import People
from agent.postmortem import PostmortemWorkflow
from agent.store.tables import PersonRow
from backends.rendering.slack import render_slack
from backends.rendering.teams import render_teams_text
from backends.teams.cards import text_card
from tests.postmortem_fixtures import settings_in
from tests.store_fixtures import backend, db_url

__all__ = ["backend", "db_url"]

STATUS = "INC-3 Checkout 5xx: investigating\nCommander: 29:f8a1-b2\nOwner of `A1`: U04QX9R2K"


def people() -> People:
    known = People()
    known.learn("29:f8a1-b2", "Alice Doe")
    known.learn("U04QX9R2K", "_bob_")
    return known


def test_known_ids_read_as_names_and_unknown_ones_stay() -> None:
    known = people()

    assert known.named("Commander: 29:f8a1-b2, owner U04QX9R2K, reviewer U0UNKNOWN") == (
        "Commander: Alice Doe, owner _bob_, reviewer U0UNKNOWN"
    )


def test_only_whole_ids_are_replaced_never_slacks_own_mentions() -> None:
    known = people()

    assert known.named("<@U04QX9R2K> U04QX9R2KX xU04QX9R2K 29:f8a1-b2-c https://x/U04QX9R2K") == (
        "<@U04QX9R2K> U04QX9R2KX xU04QX9R2K 29:f8a1-b2-c https://x/U04QX9R2K"
    )


def test_a_blank_name_or_the_id_itself_teaches_nothing_and_a_rename_wins() -> None:
    known = People()
    known.learn("U1AAAA", "")
    known.learn("U2BBBB", "U2BBBB")
    known.learn("U3CCCC", "  Carol \n Ng ")
    known.learn("U3CCCC", "Carol")

    assert known.named("U1AAAA U2BBBB U3CCCC") == "U1AAAA U2BBBB Carol"


def test_the_most_recently_seen_are_remembered() -> None:
    known = People(limit=2)
    for number in range(3):
        known.learn(f"U{number}XXXX", f"p{number}")
    known.learn("U1XXXX", "p1")  # seen again: kept

    assert known.named("U0XXXX U1XXXX U2XXXX") == "U0XXXX p1 p2"


def test_names_are_escaped_by_each_platform_like_any_text() -> None:
    names = people().named

    [slack] = render_slack(STATUS, 4000, names)
    [teams] = render_teams_text(STATUS, 4000, names)
    card = text_card(STATUS, names)

    assert slack.endswith("Commander: Alice Doe\nOwner of `A1`: _\u200bbob\u200b_")  # the name, not italics
    assert teams.endswith("Commander: Alice Doe\n\nOwner of `A1`: \\_bob\\_")
    assert card is not None and str(card["fallbackText"]).endswith(
        "Commander: Alice Doe\nOwner of `A1`: _bob_"
    )


def test_a_hostile_display_name_is_text_not_markup() -> None:
    known = People()
    known.learn("U0MALLORY", "<!channel> [click](https://evil.example)")

    [slack] = render_slack("Commander: U0MALLORY", 4000, known.named)
    [teams] = render_teams_text("Commander: 29:x U0MALLORY", 4000, known.named)

    assert slack == "Commander: &lt;!channel&gt; [click](https://evil.example)"
    assert teams == "Commander: 29:x &lt;!channel> [click\\](https://evil.example)"  # no tag, no link


T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def test_the_directory_keeps_names_in_the_database_and_writes_only_a_change(db_url: str) -> None:
    url = db_url
    engine = Engine.open(url)
    engine.people.learn("U04QX9R2K", "Bob | *Smith*", T0)
    engine.people.learn("U04QX9R2K", "Bob | *Smith*", T0 + timedelta(hours=1))  # unchanged: not written
    engine.people.learn("29:f8a1", "29:f8a1", T0)  # the id itself names no one
    engine.close()

    again = Engine.open(url)
    try:
        assert again.people.names() == {"U04QX9R2K": "Bob Smith"}  # no table cell, no emphasis in a document
        with again.store.read() as session:
            [row] = session.scalars(select(PersonRow))
        assert row.seen_at == T0
        again.people.learn("U04QX9R2K", "Robert", T0 + timedelta(days=1))
        assert again.people.named("owner U04QX9R2K") == "owner Robert"
    finally:
        again.close()


def test_a_stored_postmortem_names_people_the_platform_named(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    engine = Engine.from_settings(settings)
    try:
        engine.people.learn("29:frank", "Frank Castle", T0)
        started = engine.incidents.start("#inc-orders", "Orders API timeouts", "29:dana", T0)
        engine.incidents.set_commander(started.id, "29:frank", "29:dana", T0 + timedelta(minutes=1))
        # Teams records chat lines under the display name: the same person, once by id and once by name.
        engine.timeline.record(started.id, T0 + timedelta(minutes=2), "Frank Castle", "rolling back")
        engine.incidents.resolve(started.id, "29:frank", T0 + timedelta(minutes=20))

        stored = PostmortemWorkflow(engine, settings).draft(started.id, by="29:frank")
    finally:
        engine.close()

    assert stored.postmortem.commander == "29:frank"  # the document keeps the id: roles and filing use it
    assert "| Commander | Frank Castle |" in stored.markdown
    assert "| Participants | 29:dana, Frank Castle |" in stored.markdown
    assert "29:frank" not in stored.markdown
    assert "29:dana" in stored.markdown  # never named by the platform: stays the id
