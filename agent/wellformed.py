"""Text Debrief can store, encode and send. A lone half of a UTF-16 pair is not Unicode text: JSON may carry one
(`"\\ud800"`), and Python keeps the bytes of a command line or a pipe that were not UTF-8 as such halves. No
database, UTF-8 encoder or tokenizer takes one."""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)
