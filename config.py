"""Errbot's configuration (`errbot -c config.py`): Debrief's settings under Errbot's names.

The mapping lives in `debrief.bot.config` so `debrief run` and `debrief replay` start the same bot.
Change behaviour through DEBRIEF_* settings (environment or `.env`), not here.
"""

from agent.redact import use_policy
from agent.settings import load_settings
from debrief.bot.config import errbot_config

_settings = load_settings()
use_policy(emails=_settings.redact_emails)  # as `debrief run` does
globals().update(errbot_config(_settings))
