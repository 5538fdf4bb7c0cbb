"""Errbot's in-memory test backend with every reply redacted and rendered as the console shows it: `debrief
replay` runs transcripts on it, and the tests read what a responder on the console reads.

Errbot loads this module as a backend plugin and takes the one `ErrBot` subclass it defines, so Errbot's own
module is imported as a module, never its class by name.
"""

from __future__ import annotations

from typing import Any

from errbot.backends import test

from backends.redaction import RedactsOutgoing
from backends.rendering.blocks import Names
from backends.rendering.console import render_console
from backends.rendering.outgoing import AsWritten, Part, RendersOutgoing


class DebriefTestBackend(RedactsOutgoing, RendersOutgoing, test.TestBackend):
    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.md = AsWritten()  # Errbot's test backend would convert the rendered text again

    def render_reply(self, markdown: str, limit: int, names: Names | None) -> list[Part]:
        return [Part(part) for part in render_console(markdown, limit)]
