"""Errbot's configuration (`errbot -c config.py`): Debrief's settings under Errbot's names.

The mapping lives in `debrief.bot.config` so `debrief run` and `debrief replay` start the same bot.
Change behaviour through DEBRIEF_* settings (environment or `.env`), not here.
"""

from agent.settings import load_settings
from debrief.bot.config import errbot_config

globals().update(errbot_config(load_settings()))
