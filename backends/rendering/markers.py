"""Which `*`, `_`, `~` and backticks in literal text a chat client would read as formatting, and keeping them literal.

Text in a reply (`kube-*`, `snake_case`, a note with `2*3 and 4*5`) is text: a marker only formats when it could
open a pair (text follows it, no letter or digit before it) and a later one could close it (text before it, no
letter or digit after it). Slack never formats inside a word; CommonMark (Teams) does for `*`, so a renderer says
which markers count inside words. A backtick pairs with any other backtick run, also one a renderer writes
itself around `code`: every backtick in text is kept literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MARKERS = "*_~"
_RUN = {marker: re.compile(re.escape(marker) + "+") for marker in (*MARKERS, "`")}

Protect = Callable[[str, bool, bool], str]  # (marker run, could open, could close) -> its literal form


def keep_literal(text: str, protect: Protect, intraword: str = "") -> str:
    """`text` with every marker run that could pair replaced by `protect(run, could_open, could_close)`."""
    changes: dict[int, tuple[int, str]] = {}
    for marker, run in _RUN.items():
        runs = list(run.finditer(text))
        if marker == "`":
            changes.update({m.start(): (m.end(), protect(m.group(), True, True)) for m in runs})
            continue
        inside = marker in intraword
        opens = [m for m in runs if _could_open(text, m, inside)]
        closes = [m for m in runs if _could_close(text, m, inside)]
        if not any(o.start() < c.start() for o in opens for c in closes):
            continue
        for m in {*opens, *closes}:
            changes[m.start()] = (m.end(), protect(m.group(), m in opens, m in closes))
    if not changes:
        return text
    out: list[str] = []
    position = 0
    for start in sorted(changes):
        end, replacement = changes[start]
        out += [text[position:start], replacement]
        position = end
    return "".join([*out, text[position:]])


def _could_open(text: str, run: re.Match[str], intraword: bool) -> bool:
    after = text[run.end() : run.end() + 1]
    before = text[run.start() - 1 : run.start()]
    return bool(after) and not after.isspace() and (intraword or not before.isalnum())


def _could_close(text: str, run: re.Match[str], intraword: bool) -> bool:
    before = text[run.start() - 1 : run.start()]
    after = text[run.end() : run.end() + 1]
    return bool(before) and not before.isspace() and (intraword or not after.isalnum())
