"""Server mode: CHROMA_HOST points the knowledge base at a real `chroma run` server on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.knowledge import open_knowledge_base
from agent.settings import load_settings
from tests.knowledge_fixtures import RUNBOOKS, knowledge_dir

__all__ = ["knowledge_dir"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chroma_cli() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    assert found, "the chroma CLI ships with chromadb; it should be installed"
    return found


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [
            _chroma_cli(),
            "run",
            "--path",
            str(tmp_path / "chroma-server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_ingest_and_search_through_a_chroma_server(
    tmp_path: Path, knowledge_dir: Path, chroma_server: int
) -> None:
    settings = load_settings(
        DEBRIEF_DATA_DIR=str(tmp_path / "data"),
        DEBRIEF_KNOWLEDGE_DIR=str(knowledge_dir),
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=str(chroma_server),
    )
    kb = open_knowledge_base(settings)
    assert kb.ingest(progress=False).files == len(RUNBOOKS)
    assert kb.search("node disk almost full", limit=1)[0].source == "runbooks/disk-full.md"
    # the state lives in the server, not in the local data dir
    assert not (tmp_path / "data" / "chroma").exists()
    again = open_knowledge_base(settings).ingest(progress=False)
    assert (again.files, again.unchanged) == (0, len(RUNBOOKS))
