"""`!postmortem add|edit|history` through the real bot: anyone in the room finishes the postmortem, each change a
revision; a new draft keeps their text; publishing refuses placeholders and empty required sections, naming them,
and writes the reviewed text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markdown_it import MarkdownIt

from tests.plugin_fixtures import ADMIN, T0, Chat, chat, debrief_settings
from tests.postmortem_fixtures import assert_secret_free

__all__ = ["chat", "debrief_settings"]

ELSEWHERE = "#random"
PUBLISHED = "knowledge/incidents/2024-03-01-inc-1-orders-api-timeouts.md"


def drafted(chat: Chat, impact: bool = True) -> None:
    """dana starts it, frank commands and resolves it; the postmortem is drafted and in review."""
    chat.ask("!incident start Orders API timeouts --sev SEV2", frm="dana", at=T0)
    chat.ask("!incident commander @frank", frm="dana", at=T0 + timedelta(minutes=1))
    chat.say("p99 latency 8s, too many clients on pgbouncer", frm="erin", at=T0 + timedelta(minutes=2))
    if impact:
        chat.ask("!incident impact 30% of orders failed", frm="frank", at=T0 + timedelta(minutes=5))
    chat.ask("!incident resolve pool reverted", frm="frank", at=T0 + timedelta(minutes=30))
    chat.ask("!postmortem", frm="dana")
    chat.next_reply(timeout=30)


def show(chat: Chat) -> str:
    return chat.ask("!postmortem show", frm="erin")


def test_anyone_in_the_room_adds_to_a_section_and_a_new_draft_keeps_it(chat: Chat) -> None:
    drafted(chat)

    reply = chat.ask("!postmortem add well The rollback took 5 minutes", frm="erin")

    assert reply.startswith("INC-1's postmortem: added to what went well (revision 2, by erin).")
    assert "• The rollback took 5 minutes" in show(chat)
    chat.ask("!postmortem", frm="dana")
    redrafted = chat.next_reply(timeout=30)
    assert redrafted.startswith("INC-1 postmortem, revision 3 (in review)")
    assert "• The rollback took 5 minutes" in redrafted


def test_edit_replaces_a_section_with_the_reviewers_text(chat: Chat) -> None:
    drafted(chat)

    reply = chat.ask("!postmortem edit root-cause v3.2 doubled the per-pod DB pool", frm="gus")

    assert reply == (
        "INC-1's postmortem: replaced root cause (revision 2, by gus). Nothing is left to fill before publishing."
    )
    shown = show(chat)
    assert (
        "• v3.2 doubled the per-pod DB pool\n" in shown
    )  # the reviewers' conclusion: no confidence, no cite
    assert "Not established yet." not in shown


def test_each_list_item_on_its_own_line_and_history_says_who_changed_what(chat: Chat) -> None:
    drafted(chat)
    chat.ask("!postmortem edit lessons Canary config pushes\nAlert on pool saturation", frm="erin")
    chat.ask("!postmortem add factor no alert on pgbouncer pool usage", frm="frank")

    shown = show(chat)
    history = chat.ask("!postmortem history", frm="dana").splitlines()

    assert "• Canary config pushes\n• Alert on pool saturation" in shown
    assert history[0] == "INC-1 postmortem revisions:"
    assert [re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "TIME", line) for line in history[1:]] == [
        "r1 TIME dana drafted",
        "r2 TIME erin edit: lessons: Canary config pushes Alert on pool saturation",
        "r3 TIME frank add: factors: no alert on pgbouncer pool usage",
    ]


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("!postmortem add", "Use !postmortem add well|poorly|factor|lesson|detection TEXT"),
        ("!postmortem add well", "Use !postmortem add well|poorly|factor|lesson|detection TEXT"),
        (
            "!postmortem add kudos great job",
            "cannot add a 'kudos'; add one of: well, poorly, factor, lesson, detection",
        ),
        (
            "!postmortem add summary more",
            "cannot add a 'summary'; add one of: well, poorly, factor, lesson, detection",
        ),
        (
            "!postmortem edit rootcauses it was DNS",
            "there is no postmortem section 'rootcauses'; the sections are summary, impact, root-cause, factors, "
            "well, poorly, detection, lessons",
        ),
        (
            "!postmortem edit summary",
            "Use !postmortem edit SECTION TEXT, where SECTION is one of summary, impact, root-cause, factors, "
            "well, poorly, detection, lessons",
        ),
        ("!postmortem edit INC-9 summary x", "there is no incident INC-9"),
        (
            "!postmortem history now",
            "Use !postmortem [INC-n], !postmortem show|approve|publish|reopen|history [INC-n]",
        ),
    ],
)
def test_bad_input_gets_a_clear_answer_and_changes_nothing(chat: Chat, command: str, answer: str) -> None:
    drafted(chat)

    assert chat.ask(command, frm="erin") == answer
    assert chat.ask("!postmortem history", frm="erin").count("\n") == 1  # still only the draft


def test_before_a_draft_and_from_another_room_nothing_is_edited(chat: Chat) -> None:
    chat.ask("!incident start Orders API timeouts", frm="dana", at=T0)

    assert chat.ask("!postmortem add well quick rollback") == (
        "INC-1 has no postmortem yet; draft one with !postmortem"
    )
    chat.ask("!postmortem", frm="dana")
    chat.next_reply(timeout=30)
    assert chat.ask("!postmortem edit INC-1 summary forged", frm="mallory", room=ELSEWHERE) == (
        "INC-1 is not visible here: ask in its own room, or ask an admin"
    )
    assert "forged" not in show(chat)


def test_an_edit_after_approval_resets_it(chat: Chat) -> None:
    drafted(chat)
    chat.ask("!postmortem edit root-cause pool doubled", frm="frank")
    chat.ask("!postmortem approve", frm="frank")

    reply = chat.ask("!postmortem add poorly paging took 10 minutes", frm="erin")

    assert "Note: the approval by frank is reset: the text changed, so it needs a new approval." in reply
    assert chat.ask("!postmortem publish", frm=ADMIN) == (
        "INC-1's postmortem is in review; it can be published only after !postmortem approve"
    )


def test_publish_names_the_placeholders_and_empty_sections_then_writes_the_reviewed_text(chat: Chat) -> None:
    drafted(chat, impact=False)
    chat.ask("!postmortem add lesson TBD after the PSP call", frm="erin")
    approved = chat.ask("!postmortem approve", frm="frank")

    refused = chat.ask("!postmortem publish", frm=ADMIN)
    chat.assert_silent()  # refused at once: nothing acknowledged, nothing written
    chat.ask("!postmortem edit impact 30% of order submissions failed for 28 minutes", frm="frank")
    chat.ask("!postmortem edit root-cause v3.2 doubled the per-pod DB pool", frm="frank")
    chat.ask("!postmortem edit lessons Pool size times replicas must stay under max_client_conn", frm="erin")
    chat.ask("!postmortem approve", frm="frank")
    assert chat.ask("!postmortem publish", frm=ADMIN) == "Publishing INC-1's postmortem…"
    published = chat.next_reply(timeout=120)

    problems = "customer impact is empty; root cause is empty; lessons learned still says 'TBD'"
    assert approved == f"INC-1's postmortem is approved (by frank). Before it can be published: {problems}."
    assert refused == (
        f"INC-1's postmortem cannot be published yet: {problems}. Complete it with !postmortem edit SECTION "
        "TEXT (or export and import it), then approve it again."
    )
    assert published.startswith("INC-1's postmortem is published:")
    text = (chat.settings.data_dir.parent / PUBLISHED).read_text(encoding="utf-8")
    assert "## Customer impact\n\n30% of order submissions failed for 28 minutes\n" in text
    assert "## Root cause\n\n- v3.2 doubled the per-pod DB pool\n" in text
    assert "## Lessons learned\n\n- Pool size times replicas must stay under max_client_conn\n" in text
    assert "## What went poorly\n\n_None recorded in the review._\n" in text
    assert "To be completed" not in text and "TBD" not in text


def test_what_people_type_in_the_review_is_redacted_and_inert(chat: Chat) -> None:
    drafted(chat)
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

    reply = chat.ask(f"!postmortem edit summary # Forged heading <!-- hide token {secret}", frm="erin")
    chat.ask("!postmortem add poorly ```\n<script>x</script>", frm="erin")

    markdown = (chat.settings.data_dir / "postmortems" / "INC-1.md").read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(markdown)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    structure = [
        t.type for t in tokens for t in [t, *(t.children or [])] if "html" in t.type or t.type == "fence"
    ]
    assert_secret_free(reply + markdown + chat.ask("!postmortem history", frm="erin"))
    assert not [heading for heading in headings if "Forged" in heading] and structure == []
    assert "\\# Forged heading \\<!-- hide token [REDACTED:github-token]" in markdown  # a paragraph's text
    engine = chat.engine()
    try:
        with engine.store.engine.connect() as conn:
            stored = " ".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM postmortem_revisions"))
            stored += " ".join(str(row) for row in conn.exec_driver_sql("SELECT document FROM postmortems"))
    finally:
        engine.close()
    assert_secret_free(stored)
    assert "[REDACTED:github-token]" in stored
