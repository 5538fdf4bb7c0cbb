"""The salience rule on the transcripts in tests/data: the chat lines that tell the story are chosen, with reasons;
small talk is not; action-item creations never crowd the informative lines out of a bounded retelling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.models import EventKind, TimelineEvent
from agent.salience import ACTION_LINES, judge, story

DATA = Path(__file__).parent / "data"
T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)


def chat_lines(name: str) -> dict[str, tuple[str, ...]]:
    """Every chat line of a transcript (commands record their own events) and what the rule says about it."""
    transcript = json.loads((DATA / f"{name}_transcript.json").read_text(encoding="utf-8"))
    return {
        m["text"]: judge(m["text"]).reasons for m in transcript["messages"] if not m["text"].startswith("!")
    }


def test_the_checkout_transcripts_one_chat_line_is_a_measurement_and_an_error() -> None:
    assert chat_lines("checkout") == {
        "error rate 12% on checkout-api since the 09:55 deploy": ("measurement: 12%", "error: error"),
    }


def test_the_postmortem_transcript_keeps_findings_and_decisions_not_the_config_dump() -> None:
    judged = chat_lines("postmortem")

    assert judged["p99 latency on orders-api is 8s, lots of 'too many clients' in the logs"] == (
        "measurement: p99",
        "error: too many",
    )
    assert judged["rolling back orders-api to v3.1"] == ("decision: rolling back",)
    assert [reasons for text, reasons in judged.items() if text.startswith("config dump")] == [()]
    assert [reasons for text, reasons in judged.items() if text.startswith("latency back to normal")] == [
        ("decision: rotating", "recovery: back to normal")
    ]


def test_the_review_transcripts_small_talk_is_left_out() -> None:
    judged = chat_lines("review")

    assert {text for text, reasons in judged.items() if not reasons} == {
        "on it",
        "anyone else seeing this?",
        "thanks",
        "ok",
    }
    assert judged["looks like the PSP connection pool is exhausted since the 08:50 config push"] == (
        "error: exhausted",
        "hypothesis: looks like",
    )
    assert judged["p99 back to 300ms, 502s gone"] == (
        "measurement: p99",
        "error: 502s",
        "recovery: back to 300ms",
    )


@pytest.mark.parametrize(
    "text",
    [
        "deployed v3.2 at 09:55",  # a version and a time are not measurements
        "see orders-db:5432/orders",
        "who is on call for payments?",
        "brb, getting coffee",
    ],
)
def test_numbers_that_are_not_measurements_and_small_talk_are_not_salient(text: str) -> None:
    assert not judge(text).salient


def event(n: int, text: str, kind: EventKind = EventKind.MESSAGE) -> TimelineEvent:
    key = kind is not EventKind.MESSAGE
    return TimelineEvent(
        id=n, incident_id="INC-1", at=T0 + timedelta(minutes=n), author="bob", text=text, kind=kind, key=key
    )


def test_a_burst_of_action_items_does_not_crowd_out_the_chat_lines() -> None:
    events = [
        event(1, "Incident started", EventKind.STATUS),
        event(2, "error rate 12% on checkout-api"),
        event(3, "on it"),
        event(4, "I think the 09:55 deploy broke the client pool"),
        event(5, "decided to roll back"),
        *(event(n, f"Action A{n}: add a check", EventKind.ACTION) for n in range(6, 26)),
    ]

    told = story(events, limit=10)

    texts = [line.event.text for line in told.lines]
    assert texts[:4] == [
        "Incident started",
        "error rate 12% on checkout-api",
        "I think the 09:55 deploy broke the client pool",
        "decided to roll back",
    ]
    assert texts[4:] == ["Action A24: add a check", "Action A25: add a check"]  # the latest ACTION_LINES
    assert len(texts) == 4 + ACTION_LINES and told.actions_left_out == 20 - ACTION_LINES
    assert told.lines[3].reasons == ("decision: decided",)


def test_a_repeated_line_is_told_once_and_a_long_incident_keeps_the_latest_lines() -> None:
    events = [event(n, f"p99 is {n}00ms") for n in range(1, 40)] + [event(40, "p99 is 3900ms")]

    told = story(events, limit=5)

    assert [line.event.id for line in told.lines] == [35, 36, 37, 38, 39]
    assert told.messages_left_out == 34


def test_without_a_limit_every_key_event_is_kept_and_the_most_telling_lines_fill_the_message_budget() -> None:
    events = [event(1, "Resolved", EventKind.STATUS)] + [
        event(n, "error rate 5%, I think the deploy did it" if n % 10 == 0 else f"queue at {n}k")
        for n in range(2, 60)
    ]

    told = story(events, messages=5)

    chat = [line.event.id for line in told.lines if line.event.kind is EventKind.MESSAGE]
    assert [line.event.id for line in told.lines if line.event.key] == [1]
    assert (
        10 in chat
    )  # the one distinct line that says three things, then measurements spread over the incident
    assert (len(chat), chat[0], chat[-1]) == (5, 2, 59)
    assert told.messages_left_out == 54 - 5
