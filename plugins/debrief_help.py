"""`!help`: Debrief's commands first, each with its whole description; Errbot's own plugins after them.

Errbot's Help (replaced: it is left out of CORE_PLUGINS) lists every plugin alphabetically and cuts each
description at 80 characters, so a responder scrolls past the bot's administration to find `!incident`.
`!help COMMAND` and `!help PLUGIN` work as before.
"""

from __future__ import annotations

import textwrap
from typing import Any

from errbot import botcmd
from errbot.backends.base import Message
from errbot.core_plugins import help as errbot_help

# The order a responder meets them in.
SECTIONS = (
    "DebriefIncidents",
    "DebriefTimeline",
    "DebriefActions",
    "DebriefFiling",
    "DebriefPostmortem",
    "DebriefAssistant",
)


class DebriefHelp(errbot_help.Help):
    """Debrief's commands, then Errbot's."""

    @botcmd
    def help(self, msg: Message, args: str) -> str:
        """[COMMAND|PLUGIN]: Debrief's commands in full, or one command's or plugin's help."""
        if args.strip():
            return str(super().help(msg, args))
        by_plugin: dict[str, list[tuple[str, Any]]] = {}
        for name, command in self._bot.all_commands.items():
            if getattr(command, "_err_command_hidden", False) or not self.may_access_command(msg, name):
                continue
            by_plugin.setdefault(command.__self__.name, []).append((name, command))
        ours = [name for name in SECTIONS if name in by_plugin]
        ours += sorted(name for name in by_plugin if name.startswith("Debrief") and name not in ours)
        lines = ["### Debrief"]
        for plugin in ours:
            lines.append(f"\n**{plugin.removeprefix('Debrief')}**")
            lines += [self._line(name, command) for name, command in sorted(by_plugin[plugin])]
        others = sorted(name for name in by_plugin if name not in ours)
        lines.append(f"\nErrbot's own: {', '.join(others)}. `!help PLUGIN` lists their commands.")
        return "\n".join(lines)

    def _line(self, name: str, command: Any) -> str:
        doc = textwrap.dedent(self._bot.get_doc(command)).strip().split("\n\n")[0]
        return f"- `{self._bot.prefix}{name.replace('_', ' ')}` {' '.join(doc.split())}"
