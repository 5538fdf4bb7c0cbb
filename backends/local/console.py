"""Errbot's Text console (`DEBRIEF_BACKEND=Text`) with every reply redacted and printed as plain text.

Errbot's Text backend prints a reply through Python-Markdown and its ANSI extension, which finds no code fence
inside a list item or right after a line of text (the fence and its language word come out as stray lines) and
reads the `*` of `kube-*` as the start of underlined text. The console prints the reply as
`backends.rendering.console` writes it instead: plain text, code blocks indented, every character as typed.

The console starts in a room (`#testroom`), as a responder works in Slack or Teams, so `!incident start` and
chat go on a timeline at once; `!inperson` switches to a one-to-one chat with the bot and `!inroom` back. An
incident belongs to where it was started.

Errbot loads this module as a backend plugin and takes the one `ErrBot` subclass it defines, so Errbot's own
module is imported as a module, never its class by name.
"""

from __future__ import annotations

from typing import Any

from errbot.backends import text
from errbot.backends.base import Message

from backends.redaction import RedactsOutgoing
from backends.rendering.blocks import Names
from backends.rendering.console import render_console
from backends.rendering.outgoing import AsWritten, Part, RendersOutgoing

INTRO = """
---
You are in the room **#testroom** as an admin of the bot, as in an incident channel.

- `!incident start TITLE` opens an incident here; everything said afterwards goes on its timeline.
- `@{name} QUESTION` asks the assistant; `!help` lists every command.
- `!inperson` switches to a one-to-one chat with the bot, `!inroom` back to the room.
- `!asuser` talks as a responder who is not an admin, `!asadmin` back.
---
"""


class DebriefTextBackend(RedactsOutgoing, RendersOutgoing, text.TextBackend):
    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.md_ansi = AsWritten()  # what the console prints a reply with (demo mode, Errbot's default)

    def connect_callback(self) -> None:
        super().connect_callback()  # activates Errbot's TextCmds, which restores the last session's choice
        self._inroom = True

    def send_message(self, msg: Message) -> None:
        if msg.body == text.INTRO:  # Errbot's welcome says the console starts one-to-one
            msg.body = INTRO.format(name=str(self.bot_identifier).lstrip("@"))
        super().send_message(msg)

    def render_reply(self, markdown: str, limit: int, names: Names | None) -> list[Part]:
        return [Part(part) for part in render_console(markdown, limit)]
