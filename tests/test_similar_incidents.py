"""Similar incidents that are really similar, through the real bot: a published postmortem is never its own
"similar incident", its lists of other documents are not indexed, and a similar past incident with action items
still open comes with the repeat-incident warning (in the postmortem and in the assistant's answer)."""

from __future__ import annotations

from datetime import timedelta

from agent.knowledge.chunks import build_chunks
from tests.plugin_fixtures import ADMIN, T0, Chat, chat, debrief_settings

__all__ = ["chat", "debrief_settings"]

FIRST_ROOM, SECOND_ROOM = "#inc-search-1", "#inc-search-2"


def publish_first_incident(chat: Chat) -> None:
    """INC-1: empty search results after an index alias switch; its alert action item is never done."""
    ask = chat.ask
    ask(
        "!incident start Search results empty after index alias switch --sev SEV2 --service search-api",
        room=FIRST_ROOM,
        at=T0,
    )
    ask(
        "!incident impact 40% of searches returned nothing",
        room=FIRST_ROOM,
        at=T0 + timedelta(minutes=4),
    )
    ask(
        "!incident cause the products alias pointed at a half-built index",
        room=FIRST_ROOM,
        at=T0 + timedelta(minutes=5),
    )
    ask(
        "!action add Alert when the search zero-hit rate exceeds 5% for 5 minutes @lena due:2099-03-20",
        room=FIRST_ROOM,
        at=T0 + timedelta(minutes=6),
    )
    ask(
        "!action add Refuse alias switches to an index smaller than the live one @omar due:2099-03-22",
        room=FIRST_ROOM,
        at=T0 + timedelta(minutes=7),
    )
    ask("!incident resolve alias restored", room=FIRST_ROOM, at=T0 + timedelta(minutes=20))
    ask("!action done A2", frm="omar", room=FIRST_ROOM, at=T0 + timedelta(days=2))
    ask("!postmortem", room=FIRST_ROOM, at=T0 + timedelta(minutes=30))
    chat.next_reply(timeout=60)
    ask("!postmortem approve", room=FIRST_ROOM, at=T0 + timedelta(minutes=31))
    ask("!postmortem publish", frm=ADMIN, room=FIRST_ROOM, at=T0 + timedelta(minutes=32))
    assert "is published" in chat.next_reply(timeout=120)


def section(draft: str, name: str) -> str:
    """A section of a draft as the chat shows it (headings and bold as the backend renders them, or not)."""
    text = draft.replace("**", "")
    start = text.lower().index(name)
    return text[start : text.lower().index("runbooks", start)]


def test_the_next_incident_is_warned_of_the_open_item_and_never_finds_itself(chat: Chat) -> None:
    publish_first_incident(chat)
    later = T0 + timedelta(days=30)
    chat.ask(
        "!incident start Search results empty after index alias switch again --sev SEV2",
        room=SECOND_ROOM,
        at=later,
    )
    chat.ask(
        "!incident impact 30% of searches returned nothing", room=SECOND_ROOM, at=later + timedelta(minutes=5)
    )
    chat.ask(
        "!incident cause the alias pointed at a half-built index",
        room=SECOND_ROOM,
        at=later + timedelta(minutes=6),
    )
    chat.ask("!incident resolve alias restored", room=SECOND_ROOM, at=later + timedelta(minutes=15))

    chat.ask("!postmortem", room=SECOND_ROOM, at=later + timedelta(minutes=20))
    draft = chat.next_reply(timeout=60)
    similar = section(draft, "similar past incidents")

    assert "INC-1: Search results empty after index alias switch" in similar
    assert (
        "Repeat risk: INC-1 was similar; its action item A1 (Alert when the search zero-hit rate exceeds 5% for "
        "5 minutes, owner lena, due 2099-03-20) is still open." in similar
    )
    assert "A2" not in similar  # done: no risk
    assert "INC-2" not in similar

    chat.ask("!postmortem approve", room=SECOND_ROOM, at=later + timedelta(minutes=21))
    chat.ask("!postmortem publish", frm=ADMIN, room=SECOND_ROOM, at=later + timedelta(minutes=22))
    assert "is published" in chat.next_reply(timeout=120)
    chat.ask("!postmortem reopen", frm=ADMIN, room=SECOND_ROOM, at=later + timedelta(minutes=23))
    chat.ask("!postmortem", room=SECOND_ROOM, at=later + timedelta(minutes=24))
    redraft = chat.next_reply(timeout=60)
    resimilar = section(redraft, "similar past incidents")
    assert (
        "INC-1: Search results empty" in resimilar and "INC-2" not in resimilar
    )  # its own, published, is not


def test_the_assistant_warns_of_the_open_item_of_a_similar_incident(chat: Chat) -> None:
    publish_first_incident(chat)
    later = T0 + timedelta(days=30)
    chat.ask("!incident start Search returns nothing for most queries --sev SEV2", room=SECOND_ROOM, at=later)

    assert (
        chat.ask(
            "!ask search results are empty after an index alias switch, seen this before?",
            room=SECOND_ROOM,
            at=later + timedelta(minutes=1),
        )
        == "Looking into it…"
    )
    answer = chat.next_reply(timeout=60)

    assert "Repeat risk: INC-1 was similar; its action item A1 (Alert when the search zero-hit rate" in answer


def test_a_published_postmortems_lists_of_other_documents_are_not_indexed() -> None:
    text = (
        "---\ntitle: Disk full\nid: INC-4\n---\n\n# INC-4: Disk full\n\n## Summary\n\nThe disk filled up.\n\n"
        "## Similar past incidents\n\n- INC-2: Kafka lag (`incidents/x.md`)\n\n## Runbooks\n\n"
        "- Kafka consumer lag on order-events (`runbooks/kafka.md`)\n\n## Review\n\nStatus: published.\n"
    )

    as_incident = build_chunks(text, doc_id="d", source="incidents/inc-4.md", kind="incident")
    as_runbook = build_chunks(text, doc_id="d", source="runbooks/inc-4.md", kind="runbook")

    assert [c.heading for c in as_incident if c.level == "chunk"] == ["Summary", "Review"]
    assert "Kafka" not in " ".join(c.text for c in as_incident)
    assert as_incident[0].title == "INC-4: Disk full"
    assert [c.heading for c in as_runbook if c.level == "chunk"] == [
        "Summary",
        "Similar past incidents",
        "Runbooks",
        "Review",
    ]
