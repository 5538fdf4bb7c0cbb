"""Errbot's Text console (`DEBRIEF_BACKEND=Text`) with every reply redacted.

The console starts in a room (`#testroom`), as a responder works in Slack or Teams, so `!incident start` and
chat go on a timeline at once; `!inperson` switches to a one-to-one chat with the bot and `!inroom` back. An
incident belongs to where it was started.

Errbot loads this module as a backend plugin and takes the one `ErrBot` subclass it defines, so Errbot's own
module is imported as a module, never its class by name.
"""

from __future__ import annotations

from errbot.backends import text
from errbot.backends.base import Message

from backends.redaction import RedactsOutgoing

INTRO = """
---
You are in the room **#testroom** as an admin of the bot, as in an incident channel.

- `!incident start TITLE` opens an incident here; everything said afterwards goes on its timeline.
- `@{name} QUESTION` asks the assistant; `!help` lists every command.
- `!inperson` switches to a one-to-one chat with the bot, `!inroom` back to the room.
- `!asuser` talks as a responder who is not an admin, `!asadmin` back.
---
"""


class DebriefTextBackend(RedactsOutgoing, text.TextBackend):
    def connect_callback(self) -> None:
        super().connect_callback()  # activates Errbot's TextCmds, which restores the last session's choice
        self._inroom = True

    def send_message(self, msg: Message) -> None:
        if msg.body == text.INTRO:  # Errbot's welcome says the console starts one-to-one
            msg.body = INTRO.format(name=str(self.bot_identifier).lstrip("@"))
        super().send_message(msg)
