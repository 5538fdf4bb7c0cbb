"""Progress said to people while slow work runs (filing, drafting, reading trackers), before its result."""

from __future__ import annotations

from collections.abc import Callable

# Hears one sentence, at once: a chat posts it as an acknowledgement, the command line prints it to stderr.
Announce = Callable[[str], None]
