"""Edited and deleted chat messages: the timeline shows what people finally said, the audit trail what they said first.

Backends hand changes over as `callback_chat_change` (`backends/chat_changes.py`). The change is applied off the
receive thread, after the capture queue is flushed (the message itself is committed first), and the platform
hears "got it" once it is committed. An edited command is never run again: an edited `!note` edits the note, any
other edit into or of a command is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from errbot import BotPlugin

from agent.chat_edits import ChatChange, apply_change
from debrief.bot.runtime import UsesRuntime

log = logging.getLogger(__name__)

NOTE_COMMANDS = ("note ", "timeline add ")


class DebriefChatChanges(UsesRuntime, BotPlugin):
    """Keep captured messages in step with edits and deletions on the platform."""

    def callback_chat_change(self, change: ChatChange) -> None:
        ack = change.ack
        if ack is not None:
            ack.hold()
        self.runtime.background.submit(self._apply, change)

    def _apply(self, change: ChatChange) -> None:
        try:
            self.runtime.flush()
            text = note_text(change.text, str(self._bot.bot_config.BOT_PREFIX))
            if change.action == "edit" and text is None:
                return
            apply_change(self.engine, replace(change, text=text))
        except Exception:
            log.exception("chat change of %s failed", change.source)
        finally:
            if change.ack is not None:
                change.ack.done()


def note_text(text: str | None, prefix: str) -> str | None:
    """The text an edit leaves: a plain message as is, an edited `!note X` as X, any other command None."""
    if text is None or not text.startswith(prefix):
        return text
    command = text[len(prefix) :]
    for name in NOTE_COMMANDS:
        if command.startswith(name):
            return command[len(name) :].strip()
    return None
