"""`debrief run` on Errbot's default Shelf storage: the control of the crash test (`tests/test_bot_crash.py`).

Usage: python tests/shelf_bot_child.py   (settings from the environment, as for `debrief run`)
"""

from __future__ import annotations

import debrief.bot.config as bot_config
from agent.settings import Settings
from debrief.cli import main

_debriefs = bot_config.errbot_config


def _on_errbots_shelf(settings: Settings, backend: str | None = None) -> dict[str, object]:
    return {**_debriefs(settings, backend), "STORAGE": "Shelf"}


if __name__ == "__main__":
    bot_config.errbot_config = _on_errbots_shelf
    main(["run"])
