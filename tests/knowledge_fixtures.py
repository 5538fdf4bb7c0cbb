"""Fixtures for knowledge tests: a real Chroma store in a temp dir, the real MiniLM embedder.

With DEBRIEF_TEST_CHROMA=HOST:PORT (CI starts one: `eval "$(bash .ci/chroma.sh)"`) every test using `kb`
runs a second time against that `chroma run` server, in a collection of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.knowledge import KnowledgeBase, open_knowledge_base
from agent.settings import load_settings

CHROMA_SERVER = os.environ.get("DEBRIEF_TEST_CHROMA", "")
STORES = [
    pytest.param("embedded", id="embedded"),
    pytest.param(
        "server",
        id="chroma-server",
        marks=pytest.mark.skipif(not CHROMA_SERVER, reason="DEBRIEF_TEST_CHROMA is not set"),
    ),
]

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


def store_settings(store: str | tuple[str, int]) -> dict[str, str]:
    """Settings that put the vectors in the embedded store, or in a fresh collection of a Chroma server."""
    if store == "embedded":
        return {}
    host, port = store if isinstance(store, tuple) else CHROMA_SERVER.rsplit(":", 1)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    return {"CHROMA_HOST": str(host), "CHROMA_PORT": str(port), "DEBRIEF_CHROMA_COLLECTION": prefix}


@pytest.fixture(params=STORES)
def kb(request: pytest.FixtureRequest, tmp_path: Path, knowledge_dir: Path) -> KnowledgeBase:
    settings = load_settings(
        DEBRIEF_DATA_DIR=str(tmp_path / "data"),
        DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir),
        **store_settings(request.param),
    )
    return open_knowledge_base(settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_cli() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    assert found, "the chroma CLI ships with chromadb; it should be installed"
    return found


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A `chroma run` server of this test's own on loopback: (host, port)."""
    port = _free_port()
    command = [chroma_cli(), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma run did not start listening within 30 s")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)
