"""Child process for the crash test: file every pending action item with the trackers the environment names.

Usage: python tests/filing_crash_child.py DATABASE_URL   (tracker settings come from the environment)
The parent SIGKILLs this process the moment the fake tracker stores a ticket, before the answer arrives.
"""

from __future__ import annotations

import sys

from agent.engine import Engine
from agent.filing import Filer
from agent.settings import load_settings


def main(url: str) -> None:
    engine = Engine.open(url)
    filer = Filer.from_settings(engine, load_settings())
    print(filer.file_pending().summary(), flush=True)
    filer.close()
    engine.close()


if __name__ == "__main__":
    main(sys.argv[1])
