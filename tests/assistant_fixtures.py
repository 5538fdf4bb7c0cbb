"""Fixtures for assistant tests: a tiny real knowledge base (shared per module) and a real SQLite engine per test.
The scripted chat model is tests/fakes/chat_model.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.models import EventKind
from agent.settings import Settings, load_settings
from tests.knowledge_fixtures import RUNBOOKS, write_files
from tests.plugin_fixtures import ADMIN

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ROOM = "#inc-checkout"

KNOWLEDGE = {
    "runbooks/crashloop.md": (
        "# Pods crash looping\n\n## Symptoms\n\nPods keep restarting after a deploy; kubectl shows "
        "CrashLoopBackOff.\n\n## Mitigation\n\n1. Roll back the deploy with `kubectl rollout undo`.\n"
        "2. Check the container logs of the previous run with `kubectl logs --previous`.\n"
    ),
    "runbooks/db-connections.md": RUNBOOKS["runbooks/db-connections.md"],
    "runbooks/disk-full.md": RUNBOOKS["runbooks/disk-full.md"],
    "incidents/2024-01-10-orders.md": (
        "# INC-2 orders database outage\n\n## Summary\n\nThe orders database ran out of connections after a "
        "deploy doubled the pool size per pod.\n\n## Action Items\n\n- Cap the pool size per pod\n"
    ),
    "incidents/2023-11-02-crashloop.md": (
        "# Checkout pods crash looping after a config change\n\n## Summary\n\nA bad config made checkout pods "
        "restart in a loop; rolling back fixed it.\n\n## Action Items\n\n| Item | Status |\n|---|---|\n"
        "| Validate config in CI | Done |\n| Alert on restart rate | Open |\n"
    ),
}


def bot_with_knowledge(root: Path, **overrides: Any) -> Settings:
    """Settings of a test bot (Errbot's Test backend, ADMIN as its admin) whose knowledge dir holds KNOWLEDGE."""
    write_files(root / "knowledge", KNOWLEDGE)
    return make_settings(root, root / "knowledge", DEBRIEF_BACKEND="Test", DEBRIEF_ADMINS=ADMIN, **overrides)


def make_settings(root: Path, knowledge_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DEBRIEF_DATA_DIR": str(root / "data"),
        "DEBRIEF_KNOWLEDGE_DIR": str(knowledge_dir),
        "DEBRIEF_TRACKERS": "none",
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture(scope="module")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("knowledge")
    write_files(root, KNOWLEDGE)
    return root


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, knowledge_dir: Path) -> KnowledgeBase:
    """One ingested knowledge base for the whole module (the embedding model loads once)."""
    settings = make_settings(tmp_path_factory.mktemp("kb"), knowledge_dir)
    base = open_knowledge_base(settings)
    base.ingest(progress=False)
    return base


@pytest.fixture
def settings(tmp_path: Path, knowledge_dir: Path) -> Settings:
    return make_settings(tmp_path, knowledge_dir)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    built = Engine.from_settings(settings)
    yield built
    built.close()


def start_incident(engine: Engine, room: str = ROOM, title: str = "Checkout pods restarting") -> str:
    """An open incident with a few timeline events; returns its id."""
    incident = engine.incidents.start(room, title, "alice", T0)
    engine.timeline.record(
        incident.id, T0 + timedelta(minutes=2), "bob", "checkout pods restarting since the 09:55 deploy"
    )
    engine.timeline.record(
        incident.id, T0 + timedelta(minutes=4), "carol", "rolling back now", kind=EventKind.NOTE
    )
    return incident.id
