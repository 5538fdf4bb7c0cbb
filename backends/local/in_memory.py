"""Errbot's in-memory test backend with every reply redacted: `debrief replay` runs transcripts on it.

Errbot loads this module as a backend plugin and takes the one `ErrBot` subclass it defines, so Errbot's own
module is imported as a module, never its class by name.
"""

from __future__ import annotations

from errbot.backends import test

from backends.redaction import RedactsOutgoing


class DebriefTestBackend(RedactsOutgoing, test.TestBackend):
    pass
