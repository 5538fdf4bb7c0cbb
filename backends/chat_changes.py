"""Chat messages edited or deleted after they were sent: every backend hands them to the plugins the same way.

Errbot has no callback for these, so a backend calls `callback_chat_change(change)` on each active plugin that
has one (an `agent.chat_edits.ChatChange`), never as a new message: an edited command is not run again.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.chat_edits import ChatChange

log = logging.getLogger(__name__)


def dispatch_chat_change(bot: Any, change: ChatChange) -> None:
    """Give `change` to every active plugin that follows chat changes; one that fails is logged, not fatal."""
    for plugin in bot.plugin_manager.get_all_active_plugins():
        handler = getattr(plugin, "callback_chat_change", None)
        if not callable(handler):
            continue
        try:
            handler(change)
        except Exception:
            log.exception("callback_chat_change on %s crashed", getattr(plugin, "name", plugin))
