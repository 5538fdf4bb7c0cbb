"""Text a sender wrote (an alert's summary, a page's title, a label, an agent's name), as Debrief keeps it: one
line of plain text that cannot act in chat.

A signal is one line wherever it is shown (`!incident signals`, the timeline, an announcement), so a line break in
an alert's description cannot start a forged `S3 ...` or `E12 ...` line; control characters (a bell, a terminal
escape) never reach a console; and Slack's own references to a person or a channel (`<@U123>`, `<#C123|name>`),
which replies keep live so Debrief can name people, read as `@U123` and `#name`: listing signals pings no one.
Markup is a separate matter: replies pass this text through `agent.markup.literal`.
"""

from __future__ import annotations

import re

from agent.wellformed import well_formed

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional controls that reorder a line.
_BREAKS = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+\s*")
# Slack's person (`<@U123>`, `<@U123|bob>`) and channel (`<#C123>`, `<#C123|general>`) references.
_SLACK_REFERENCE = re.compile(r"<([@#])([A-Za-z0-9]+)(?:\|([^<>]*))?>")


def one_line(text: str) -> str:
    """`text` on one line: line breaks, tabs and control characters become one space, Slack references plain."""
    return _SLACK_REFERENCE.sub(_plain_reference, _BREAKS.sub(" ", well_formed(text))).strip()


def _plain_reference(match: re.Match[str]) -> str:
    sigil, target, label = match[1], match[2], (match[3] or "").strip()
    if sigil == "#" and label:
        return f"#{label.lstrip('#')}"
    return f"{sigil}{target}"
