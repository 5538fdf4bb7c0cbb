"""The bot opens the embedded Chroma store from several threads at once (warm-up, assistant, postmortem):
chromadb's shared per-path system breaks when two threads make it together, so opening is one at a time."""

from __future__ import annotations

import threading
from pathlib import Path

from agent.knowledge.vectors import open_client
from agent.settings import Settings, load_settings

THREADS = 6
ROUNDS = 5  # without the lock, 3 of 5 rounds failed on a 2-core machine


def test_threads_opening_one_fresh_store_together_all_get_a_client(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def open_at_once(settings: Settings, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            open_client(settings).heartbeat()
        except Exception as exc:  # chromadb raises AttributeError/ValueError from inside
            errors.append(exc)

    for round_ in range(ROUNDS):
        settings = load_settings(DEBRIEF_DATA_DIR=tmp_path / str(round_), OPENAI_API_KEY="")
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=open_at_once, args=(settings, barrier)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
