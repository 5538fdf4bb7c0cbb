"""The scale-out path: two Debrief processes share a `chroma run` server and a PostgreSQL database.

One files (ingests published postmortems and edited runbooks, starts incidents), the other answers (searches,
lists incidents); each has its own data dir, so its BM25 index is its own copy, kept in step with the shared
store. Runs when DEBRIEF_TEST_POSTGRES_URL is set (CI: .ci/postgres.sh); the Chroma server is CI's
(DEBRIEF_TEST_CHROMA, .ci/chroma.sh) or one started here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.knowledge_fixtures import CHROMA_SERVER, RUNBOOKS, chroma_server, store_settings, write_files
from tests.store_fixtures import POSTGRES_URL, database_url

__all__ = ["chroma_server"]
REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="DEBRIEF_TEST_POSTGRES_URL is not set")


class Process:
    """A child Debrief process speaking JSON lines (tests/knowledge_process_child.py)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "knowledge_process_child.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
        )
        assert self._read() == {"ready": True}

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        return self._read()

    def search(self, query: str, mode: str = "bm25", kind: str | None = None) -> list[str]:
        return list(self.ask(search=query, mode=mode, kind=kind)["sources"])

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        code = self._process.wait(timeout=60)
        assert self._process.stdout is not None
        self._process.stdout.close()
        assert code == 0

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        assert line, "the child process died"
        answer: dict[str, Any] = json.loads(line)
        return answer


@pytest.fixture
def shared(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings naming one Chroma collection on a server and one PostgreSQL schema."""
    server = CHROMA_SERVER or request.getfixturevalue("chroma_server")
    with database_url("postgres", tmp_path) as url:
        yield {**store_settings(server), "DEBRIEF_DATABASE_URL": url}


def test_two_processes_sharing_chroma_and_postgres_stay_consistent(
    tmp_path: Path, shared: dict[str, str]
) -> None:
    knowledge = tmp_path / "knowledge"
    write_files(knowledge, RUNBOOKS)
    filing = Process({**shared, "DEBRIEF_DATA_DIR": str(tmp_path / "filing")})
    answering = Process({**shared, "DEBRIEF_DATA_DIR": str(tmp_path / "answering")})
    try:
        assert answering.search("crictl") == []
        assert filing.ask(ingest=[str(knowledge)]) == {"files": len(RUNBOOKS), "removed": 0}
        # the answering process sees the other's writes at its next question: BM25 and dense alike
        assert answering.search("crictl") == ["runbooks/disk-full.md"]
        assert answering.search("https cert about to lapse", mode="dense")[0] == "runbooks/tls-expiry.md"

        incident = filing.ask(start="Checkout 5xx", room="#inc-checkout")["incident"]
        assert answering.ask(open=True) == {"incidents": [incident]}

        write_files(
            knowledge, {"incidents/2024-03-01-checkout.md": "# INC-9 checkout 5xx\n\nA bad flag flip.\n"}
        )
        (knowledge / "runbooks/disk-full.md").write_text("# Node disk almost full\n\nPrune with nerdctl.\n")
        (knowledge / "runbooks/tls-expiry.md").unlink()
        assert filing.ask(ingest=[str(knowledge)]) == {"files": 2, "removed": 1}

        assert answering.search("flag flip", kind="incident") == ["incidents/2024-03-01-checkout.md"]
        assert answering.search("crictl") == []
        assert answering.search("nerdctl") == ["runbooks/disk-full.md"]
        assert "runbooks/tls-expiry.md" not in answering.search("certificate expires soon", mode="hybrid")
    finally:
        filing.close()
        answering.close()
    # a restarted answering process starts from its saved index and agrees with the store
    assert list((tmp_path / "answering" / "lexical").glob("*.npz"))
    again = Process({**shared, "DEBRIEF_DATA_DIR": str(tmp_path / "answering")})
    try:
        assert again.search("nerdctl") == ["runbooks/disk-full.md"]
        assert again.ask(open=True) == {"incidents": [incident]}
    finally:
        again.close()
