"""`!postmortem` through the real bot: draft posted for review, the commander approves, an admin publishes."""

from __future__ import annotations

from datetime import timedelta

from tests.plugin_fixtures import ADMIN, T0, Chat, chat, debrief_settings
from tests.postmortem_fixtures import assert_secret_free

__all__ = ["chat", "debrief_settings"]


def run_incident(chat: Chat, notes: int = 1) -> None:
    """dana starts it, frank commands it, erin talks (with a secret), frank resolves it."""
    chat.ask("!incident start Orders API timeouts --sev SEV2", frm="dana", at=T0)
    chat.ask("!incident commander @frank", frm="dana", at=T0 + timedelta(minutes=1))
    chat.say(
        "too many clients; token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        frm="erin",
        at=T0 + timedelta(minutes=2),
    )
    for n in range(notes):
        chat.ask(
            f"!note pgbouncer pool check {n}: still at 100% of max_client_conn",
            frm="frank",
            at=T0 + timedelta(minutes=3, seconds=n),
        )
    chat.ask("!incident impact 30% of orders failed", frm="frank", at=T0 + timedelta(minutes=7))
    chat.ask("!incident cause the pool size doubled in v3.2", frm="frank", at=T0 + timedelta(minutes=7))
    chat.ask("!action add Improve monitoring", frm="frank", at=T0 + timedelta(minutes=8))
    chat.ask("!incident resolve pool reverted", frm="frank", at=T0 + timedelta(minutes=30))


def test_postmortem_acknowledges_then_posts_the_draft_for_review(chat: Chat) -> None:
    run_incident(chat)

    assert chat.ask("!postmortem", frm="dana") == "Drafting the postmortem of INC-1…"
    draft = chat.next_reply(timeout=30)

    # The Markdown as the chat backend renders it (the test backend draws tables and upper-cases headings).
    assert draft.startswith("INC-1 postmortem, revision 1 (in review):\nINC-1: ORDERS API TIMEOUTS")
    assert "2024-03-01 10:30:00 UTC (+30m 00s)" in draft
    assert "frank [note] pgbouncer pool check 0" in draft
    assert (
        "Action items that need revision (they will not be filed):\nA1 Improve monitoring: the title is vague"
        in draft
    )
    assert draft.endswith("Review it, then !postmortem approve (the commander or an admin).")
    assert_secret_free(draft)


def test_a_long_draft_is_posted_as_a_summary_and_the_file_path(chat: Chat) -> None:
    run_incident(chat, notes=60)
    chat.ask("!postmortem", frm="dana")
    reply = chat.next_reply(timeout=30)
    path = chat.settings.data_dir / "postmortems" / "INC-1.md"
    assert reply.startswith("INC-1 postmortem, revision 1 (in review): INC-1 (SEV2): Orders API timeouts.")
    assert f"The full draft is too long for chat: {path}" in reply
    assert "pgbouncer pool check 59" in path.read_text(encoding="utf-8")


def test_show_before_any_draft_says_how_to_make_one(chat: Chat) -> None:
    run_incident(chat)
    assert chat.ask("!postmortem show") == "INC-1 has no postmortem yet; draft one with !postmortem"


def test_only_the_commander_or_an_admin_approves(chat: Chat) -> None:
    run_incident(chat)
    chat.ask("!postmortem", frm="dana")
    chat.next_reply(timeout=30)

    refused = chat.ask("!postmortem approve", frm="erin")
    approved = chat.ask("!postmortem approve", frm="frank")

    assert refused == "only the commander (frank) or an admin can approve INC-1's postmortem"
    assert (
        approved
        == "INC-1's postmortem is approved (by frank). An admin publishes it with !postmortem publish."
    )
    assert "Status: approved. Approved by frank." in chat.ask("!postmortem show", frm="erin")


def test_publish_needs_an_admin_and_an_approval(chat: Chat) -> None:
    run_incident(chat)
    chat.ask("!postmortem", frm="dana")
    chat.next_reply(timeout=30)

    assert chat.ask("!postmortem publish", frm="frank") == "only an admin can publish INC-1's postmortem"
    assert chat.ask("!postmortem publish", frm=ADMIN) == (
        "INC-1's postmortem is in review; it can be published only after !postmortem approve"
    )
    chat.assert_silent()  # refused at once: no acknowledgement, nothing written
    assert not (chat.settings.knowledge_dir / "incidents").exists()


def test_admin_publishes_an_approved_postmortem_into_the_knowledge_dir(chat: Chat) -> None:
    run_incident(chat)
    chat.ask("!postmortem", frm="dana")
    chat.next_reply(timeout=30)
    chat.ask("!postmortem approve", frm="frank")

    assert chat.ask("!postmortem publish", frm=ADMIN) == "Publishing INC-1's postmortem…"
    reply = chat.next_reply(timeout=120)

    path = chat.settings.knowledge_dir / "incidents" / "2024-03-01-inc-1-orders-api-timeouts.md"
    assert reply.startswith(f"INC-1's postmortem is published: {path}.")
    assert "status: published" in path.read_text(encoding="utf-8")
    assert chat.ask("!postmortem publish", frm=ADMIN) == (
        f"INC-1's postmortem is already published: {path}. An admin reopens it with !postmortem reopen to "
        "change it."
    )


def test_bad_arguments_get_the_usage(chat: Chat) -> None:
    run_incident(chat)
    assert chat.ask("!postmortem approve now please", frm="frank") == (
        "Use !postmortem [INC-n], !postmortem show|approve|publish|reopen|history [INC-n]"
    )
    assert chat.ask("!postmortem show INC-9") == "there is no incident INC-9"
