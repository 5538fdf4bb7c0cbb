"""Fixtures for postmortem tests: replayed and synthetic incidents, planted secrets, the narrative as the scripted
chat model (tests/fakes/chat_model.py) gives it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage

from agent.engine import Engine
from agent.models import ActionKind, EventKind
from agent.settings import Settings, load_settings
from agent.timeline import NewEvent
from tests.fakes.chat_model import tool_call

DATA = Path(__file__).parent / "data"
TRANSCRIPT = DATA / "postmortem_transcript.json"
# Every secret planted in the transcript and the synthetic incidents; none may reach a prompt or a document.
SECRETS = (
    "S3cr3tPassw0rd",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "hunter2hunter2",
    "xoxb-123456789012-abcdefghijklmnop",
)
SYNTHETIC_START = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def transcript() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TRANSCRIPT.read_text(encoding="utf-8"))
    return data


def settings_in(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DEBRIEF_DATA_DIR": str(root / "data"),
        "DEBRIEF_KNOWLEDGE_DIR": str(root / "knowledge"),
        "DEBRIEF_BACKEND": "Test",
        "DEBRIEF_ADMINS": "root",
        "DEBRIEF_TRACKERS": "none",
        "OPENAI_API_KEY": None,
        **overrides,
    }
    return load_settings(**values)


def assert_secret_free(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"secrets leaked: {leaked}"


_CHATTER = (
    "p99 latency on {svc} is {n}00ms and climbing",
    "seeing 'too many clients' from pgbouncer on {svc}-{n}",
    "dashboard: error rate {n}% on {svc}",
    "anyone touched the {svc} config in the last hour?",
    "restarting {svc}-{n} did not help",
    "the queue depth on orders-events is {n}k",
    "I am looking at the slow query log, nothing above {n}s",
    "customer support reports {n} tickets about failed orders",
    "ALERT firing: HighErrorRate {svc}",  # a bot repeating itself: deduplicated in the prompt
)
_SECRET_LINES = (
    "pasting the env: DATABASE_URL=postgres://orders:S3cr3tPassw0rd@orders-db:5432/orders",
    "used my token ghp_abcdefghijklmnopqrstuvwxyz0123456789 to query the API",
    "AKIAIOSFODNN7EXAMPLE showed up in the debug dump",
    "slack bot token is xoxb-123456789012-abcdefghijklmnop if you need it",
)


def synthetic_incident(engine: Engine, messages: int, room: str = "#inc-synthetic") -> str:
    """An incident with `messages` chat messages (3 s apart), notes, alerts, a deploy, actions and secrets."""
    at = SYNTHETIC_START
    incident = engine.incidents.start(room, "Orders API timeouts", "dana", at, service="orders-api")
    engine.incidents.set_commander(incident.id, "frank", "dana", at + timedelta(seconds=30))
    engine.incidents.set_impact(
        incident.id, "Order submissions failed for some customers", "frank", at + timedelta(minutes=1)
    )
    events: list[NewEvent] = []
    people = ("erin", "frank", "gus", "hana", "ivan", "alertbot")
    for i in range(messages):
        when = at + timedelta(seconds=60 + 3 * i)
        if i % 97 == 13:
            text = _SECRET_LINES[(i // 97) % len(_SECRET_LINES)]
        else:  # mostly distinct lines, as people write them; the alert bot repeats itself exactly
            text = _CHATTER[i % len(_CHATTER)].format(svc="orders-api", n=i % 17)
            text += "" if text.startswith("ALERT") else f" (pod {_pod(i)})"
        kind, key = EventKind.MESSAGE, False
        if i % 200 == 50:
            kind, text = EventKind.NOTE, f"pgbouncer pool at {90 + i % 10}% since the 07:50 deploy; {text}"
        elif i % 500 == 120:
            kind, text = EventKind.ALERT, f"Alertmanager: HighLatency orders-api firing (p99 {i % 9}s)"
        elif i == messages // 3:
            kind, text = EventKind.DEPLOY, "Deployment orders-api v3.1 to production: success (rollback)"
        events.append(NewEvent(incident.id, when, people[i % len(people)], text, kind, key, f"synthetic:{i}"))
    for start in range(0, len(events), 1000):
        engine.timeline.record_many(events[start : start + 1000])
    end = at + timedelta(seconds=60 + 3 * messages)
    engine.incidents.set_cause(incident.id, "v3.2 doubled the DB pool per pod", "frank", end)
    engine.incidents.mitigate(incident.id, "frank", end + timedelta(seconds=1))
    engine.actions.add(
        incident.id,
        "Alert when pgbouncer client connections exceed 80% of max_client_conn",
        "erin",
        date(2024, 6, 20),
        "frank",
        end + timedelta(seconds=2),
        kind=ActionKind.DETECT,
    )
    engine.actions.add(incident.id, "Improve monitoring", None, None, "frank", end + timedelta(seconds=3))
    engine.incidents.resolve(incident.id, "frank", end + timedelta(seconds=4), "rolled back")
    return incident.id


def _pod(i: int) -> str:
    return "orders-api-" + "".join(chr(97 + (i // 26**k) % 26) for k in range(3))


def narrative_call(**arguments: Any) -> AIMessage:
    """The model's reply: a call of the PostmortemNarrative tool with `arguments`."""
    return tool_call("PostmortemNarrative", **arguments)
