"""Fixtures for knowledge tests: a real Chroma store in a temp dir, the real MiniLM embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.settings import load_settings

RUNBOOKS = {
    "runbooks/db-connections.md": (
        "# Database connection pool exhausted\n\n## Symptoms\n\nApplication logs show 'too many clients' "
        "and requests time out waiting for a database connection.\n\n## Mitigation\n\nRestart pgbouncer and "
        "raise max_client_conn.\n"
    ),
    "runbooks/disk-full.md": (
        "# Node disk almost full\n\n## Symptoms\n\nThe root filesystem on a node is above 90% used.\n\n"
        "## Mitigation\n\nDelete old container images with crictl rmi --prune.\n"
    ),
    "runbooks/tls-expiry.md": (
        "# TLS certificate expiring\n\n## Symptoms\n\nBrowsers warn that the certificate expires soon.\n\n"
        "## Mitigation\n\nRenew it with cert-manager.\n"
    ),
    "incidents/2024-01-10-db.md": (
        "# INC-7 orders database outage\n\n## Summary\n\nThe orders database ran out of connections after a "
        "deploy doubled the pool size per pod.\n"
    ),
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    write_files(root, RUNBOOKS)
    return root


@pytest.fixture
def kb(tmp_path: Path, knowledge_dir: Path) -> KnowledgeBase:
    settings = load_settings(
        DEBRIEF_DATA_DIR=str(tmp_path / "data"), DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir)
    )
    return open_knowledge_base(settings)
