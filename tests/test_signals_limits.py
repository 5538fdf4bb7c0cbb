"""What a webhook request may hold without hurting the rest: an id longer than the store keeps, text that is not
valid Unicode, thousands of alerts in one group, an incident with thousands of events already.

Through the webhooks' engine calls on SQLite and, when configured, PostgreSQL; real senders' payloads
(tests/data/signals) with the part under test changed.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

from agent.engine import Engine
from agent.models import EventKind, TimelineEvent
from agent.settings import load_settings
from agent.signals import Signal, SignalRules, receive_alertmanager, receive_pagerduty, record_signals
from agent.store import Store
from agent.store.tables import EventRow, SignalRow
from tests.store_fixtures import backend, db_url, engine

__all__ = ["backend", "db_url", "engine"]

DATA = Path(__file__).parent / "data" / "signals"
BY_HOST = SignalRules.from_settings(load_settings(DEBRIEF_ROUTING_LABELS="host"))
T0 = datetime(2020, 2, 6, 0, 0, tzinfo=UTC)


def zulip_group() -> dict[str, Any]:
    """Zulip's Alertmanager group: two alerts of host andromeda, fired at 2020-02-06 00:17:58."""
    group: dict[str, Any] = json.loads((DATA / "alertmanager" / "zulip-alertmanager-alert.json").read_text())
    return group


def alerts(engine: Engine, group: dict[str, Any], rules: SignalRules = BY_HOST) -> dict[str, Any]:
    reply = receive_alertmanager(engine, rules, None, "", json.dumps(group).encode())
    assert reply.status == 200, reply.body
    return reply.body


def many_alerts(count: int, host: str = "andromeda") -> dict[str, Any]:
    """A group of `count` alerts in Alertmanager's format, one per pod, as Zulip's sample writes one."""
    group = zulip_group()
    [sample, _] = group["alerts"]
    group["alerts"] = [
        {
            **sample,
            "labels": {**sample["labels"], "host": host, "pod": f"pod-{i}"},
            "fingerprint": f"{host}-{i:012x}",
        }
        for i in range(count)
    ]
    return group


def test_an_alert_whose_fingerprint_is_too_long_to_keep_is_known_by_its_hash_with_its_group(
    engine: Engine,
) -> None:
    incident = engine.incidents.start("#inc", "Hot CPUs", "alice", T0, services=("andromeda",))
    group = zulip_group()
    group["alerts"][0]["fingerprint"] = "f" * 600

    first = alerts(engine, group)
    again = alerts(engine, group)

    assert (first["recorded"], first["incidents"]) == (2, [incident.id])
    assert (again["recorded"], again["duplicates"]) == (0, 2)  # a redelivery is still recognised
    sources = [signal["source"] for signal in first["signals"]]
    assert all(len(source) <= 512 for source in sources)
    assert sources[0].startswith("alertmanager:" + "f" * 88 + "~sha256:")


def test_a_signal_the_store_cannot_hold_is_rejected_alone(engine: Engine) -> None:
    incident = engine.incidents.start("#inc", "Checkout 5xx", "alice", T0, services=("checkout",))
    routed = (("service", "checkout"),)
    signals = [
        Signal(T0, "ci", "Deployed v2", EventKind.DEPLOY, "ci:" + "x" * 600, routing=routed),
        Signal(T0, "ci", "Deployed v3", EventKind.DEPLOY, "ci:\ud800", routing=routed),
        Signal(T0, "ci", "Rolled back \ud800 to v1", EventKind.DEPLOY, "ci:rollback:1", routing=routed),
    ]

    outcomes = record_signals(engine, SignalRules(), signals)

    assert [o.status for o in outcomes] == ["rejected", "rejected", "recorded"]
    assert outcomes[0].reason == "its source is 603 characters long, more than the 512 kept"
    assert outcomes[1].reason == "its source is not valid Unicode (a lone surrogate)"
    texts = [e.text for e in engine.timeline.events(incident.id) if e.kind is EventKind.DEPLOY]
    assert texts == ["Rolled back \ufffd to v1"]


def test_an_alert_whose_summary_is_not_valid_unicode_is_recorded_with_its_group(engine: Engine) -> None:
    engine.incidents.start("#inc", "Hot CPUs", "alice", T0, services=("andromeda",))
    group = zulip_group()
    group["alerts"][0]["annotations"]["summary"] = "CPU \ud83d hot"  # half of an emoji

    body = alerts(engine, group)

    assert body["recorded"] == 2


def seed(engine: Engine, incident_number: int, count: int) -> None:
    """`count` signals already on the incident, each with its event, as if received earlier."""
    with engine.store.write() as session:
        for i in range(count):
            source = f"alertmanager:old{i:06d}:{T0.isoformat()}:firing"
            values = {"at": T0, "author": "alertmanager", "kind": "alert", "key": True, "source": source}
            event_id = session.execute(
                insert(EventRow)
                .values(incident_number=incident_number, text=f"old {i}", **values)
                .returning(EventRow.id)
            ).scalar_one()
            thread = source.rsplit(":", 1)[0]
            session.execute(
                insert(SignalRow).values(
                    thread=thread,
                    received_at=T0,
                    text=f"old {i}",
                    routing={},
                    incident_number=incident_number,
                    event_id=event_id,
                    **values,
                )
            )


def sqlite_steps(engine: Engine, record: Any) -> int:
    """SQLite's virtual machine steps (in hundreds) while `record` runs: the work, without the clock."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_progress_handler(count, 100)

    event.listen(engine.store.engine.pool, "checkout", on_checkout)
    try:
        record()
    finally:
        event.remove(engine.store.engine.pool, "checkout", on_checkout)
    return steps[0]


def test_recording_an_alert_costs_the_same_on_an_incident_with_thousands_of_events(tmp_path: Path) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'debrief.db'}")
    try:
        engine.incidents.start("#small", "Small", "alice", T0, services=("small",))
        big = engine.incidents.start("#big", "Big", "alice", T0, services=("big",))
        seed(engine, int(big.id.removeprefix("INC-")), 5000)

        small_cost = sqlite_steps(engine, lambda: alerts(engine, many_alerts(20, "small")))
        big_cost = sqlite_steps(engine, lambda: alerts(engine, many_alerts(20, "big")))
    finally:
        engine.close()

    assert big_cost < 1.5 * small_cost, (small_cost, big_cost)


def test_a_chat_writer_gets_its_turn_while_a_large_group_is_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'debrief.db'}"
    engine = Engine.open(url)
    chat = Engine(Store(url, lock_timeout_s=2))  # a chat command gives up after 2 s, as configured here
    try:
        engine.incidents.start("#inc", "Hot CPUs", "alice", T0, services=("andromeda",))
        replies: list[dict[str, Any]] = []
        webhook = threading.Thread(target=lambda: replies.append(alerts(engine, many_alerts(2000))))
        webhook.start()
        time.sleep(0.5)  # the group is being recorded: seconds of work

        notes: list[TimelineEvent | None] = []
        while webhook.is_alive() and len(notes) < 3:
            at = T0 + timedelta(minutes=len(notes))
            notes.append(chat.timeline.record("INC-1", at, "bob", "rolled back", EventKind.NOTE))
            time.sleep(0.2)
        webhook.join()
    finally:
        chat.close()
        engine.close()

    assert len(notes) == 3 and all(notes)
    assert replies[0]["recorded"] == 2000


def test_a_large_group_is_recorded_in_chunks_each_signal_once(engine: Engine) -> None:
    engine.incidents.start("#inc", "Hot CPUs", "alice", T0, services=("andromeda",))
    group = many_alerts(450)

    first = alerts(engine, group)
    again = alerts(engine, group)

    assert (first["recorded"], again["duplicates"]) == (450, 450)
    assert [s["index"] for s in first["signals"]] == list(range(450))
    with engine.store.read() as session:
        assert len(session.scalars(select(SignalRow.id)).all()) == 450


def test_a_page_titled_longer_than_an_incident_may_be_starts_its_incident_with_the_title_shortened(
    engine: Engine,
) -> None:
    triggered = json.loads((DATA / "pagerduty" / "zulip-pagerduty-triggered_v3.json").read_text())
    triggered["event"]["data"]["title"] = "Checkout 5xx in eu-west-1 " * 12  # 312 characters
    paging = SignalRules(pagerduty_room="#pages", pagerduty_priorities=frozenset({"*"}))

    reply = receive_pagerduty(engine, paging, (None, None), "", "", json.dumps(triggered).encode())

    assert reply.body["started"] == [{"incident": "INC-1", "room": "#pages"}]
    title = engine.incidents.get("INC-1").title
    assert len(title) == 200 and title.endswith("eu-west\u2026 (PagerDuty PFQZPSY)")
    [trigger] = [e for e in engine.timeline.events("INC-1") if e.kind is EventKind.ALERT]
    assert "Checkout 5xx in eu-west-1 " * 11 in trigger.text  # the whole title
