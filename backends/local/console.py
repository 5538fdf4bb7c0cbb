"""Errbot's Text console (`DEBRIEF_BACKEND=Text`) with every reply redacted.

Errbot loads this module as a backend plugin and takes the one `ErrBot` subclass it defines, so Errbot's own
module is imported as a module, never its class by name.
"""

from __future__ import annotations

from errbot.backends import text

from backends.redaction import RedactsOutgoing


class DebriefTextBackend(RedactsOutgoing, text.TextBackend):
    pass
