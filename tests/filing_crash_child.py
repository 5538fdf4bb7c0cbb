"""Child process for the crash tests: file every pending action item with the trackers the environment names.

Usage: python tests/filing_crash_child.py DATABASE_URL [LEASE_S RECONCILE_WINDOW_S BACKOFF_S]
(tracker settings come from the environment; without the three numbers the filer's defaults hold).
The parent SIGKILLs this process the moment the fake tracker stores a ticket, before the answer arrives.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from agent.engine import Engine
from agent.filing import Filer
from agent.settings import load_settings
from agent.trackers import make_trackers


def main(url: str, timings: list[str]) -> None:
    engine = Engine.open(url)
    options: dict[str, Any] = {}
    if timings:
        lease, window, backoff = map(float, timings)
        options = {
            "lease": timedelta(seconds=lease),
            "reconcile_window": timedelta(seconds=window),
            "backoff_s": backoff,
        }
    filer = Filer(engine, make_trackers(load_settings()), **options)
    print(filer.file_pending().summary(), flush=True)
    filer.close()
    engine.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
