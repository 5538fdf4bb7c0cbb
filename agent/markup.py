"""Text people typed, made inert where it lands in markup: a published postmortem (Markdown), a GitHub issue
(Markdown), a Jira issue (wiki markup), a chat reply (CommonMark, rendered for each platform by the backend).

A title, an impact or a note is shown as written, never read as structure: it cannot open a heading, a code
fence, HTML or an HTML comment (which would hide the rest of a document), or a Jira macro, link or table.
Escapes are backslashes, which CommonMark and Jira both read as "this character, literally".
"""

from __future__ import annotations

import re
import unicodedata

# Markdown: anywhere, `<` would open HTML or a comment.
_MD_ANYWHERE = re.compile(r"<")
# Markdown, at the start of a line: an ATX heading, a setext underline or front-matter fence, a code fence,
# a link reference definition.
_MD_LINE_START = re.compile(r"^([ \t]{0,3})(#|=+[ \t]*$|-{2,}[ \t]*$|`{3}|~{3}|\[)", re.MULTILINE)

# Jira wiki markup: macros ({code}, {html}), links and mentions ([~user]), tables, images, and at the start of a
# line headings (h1.), quotes (bq.), lists and rules.
_JIRA_ANYWHERE = re.compile(r"[{}\[\]|!]")
_JIRA_LINE_START = re.compile(r"^([ \t]*)(h[1-6]\.|bq\.|[#*-])", re.MULTILINE | re.IGNORECASE)


# Chat replies. Inline: a backslash that would escape, a backtick (code), `[` (a link), `&` of an entity, a run
# of `*` or `_` that could open or close emphasis. At a line's start: a heading, quote, list item, rule, setext
# underline, table row, fence or HTML block. A blank line would end the reply's paragraph: the lines stay together.
_LITERAL_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)", re.MULTILINE)
_LITERAL_ANYWHERE = re.compile(r"[`\[]|&(?=#?\w+;)")
_LITERAL_EMPHASIS = re.compile(r"\*+|_+")
_LITERAL_LINE_START = re.compile(r"^([ \t]*)(\d{1,9}(?=[.)]))?([#>+=|<~*.)-])", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


def literal(text: str) -> str:
    """`text` shown exactly as typed inside a chat reply (CommonMark): `kube-*`, `2*3`, a pasted fence or `# x`
    stay text on every platform. `snake_case` needs no escape and gets none."""
    text = _BLANK_LINES.sub("\n", text)
    text = _LITERAL_BACKSLASH.sub(r"\\\\", text)
    text = _LITERAL_ANYWHERE.sub(lambda match: "\\" + match[0], text)
    text = _LITERAL_EMPHASIS.sub(_inert_emphasis, text)
    # `1.` or `1)` would start a list: the `.` or `)` is escaped; a `.` or `)` alone starts nothing.
    return _LITERAL_LINE_START.sub(
        lambda match: (
            match[0] if match[3] in ".)" and not match[2] else f"{match[1]}{match[2] or ''}\\{match[3]}"
        ),
        text,
    )


def _inert_emphasis(match: re.Match[str]) -> str:
    """The run escaped if CommonMark could read it as opening or closing emphasis (its flanking rules)."""
    text, run = match.string, match[0]
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    left = not after.isspace() and (not _punctuation(after) or before.isspace() or _punctuation(before))
    right = not before.isspace() and (not _punctuation(before) or after.isspace() or _punctuation(after))
    if run[0] == "_":
        opens, closes = (
            left and (not right or _punctuation(before)),
            right and (not left or _punctuation(after)),
        )
    else:
        opens, closes = left, right
    return "".join("\\" + char for char in run) if opens or closes else run


def _punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def inert_markdown(text: str) -> str:
    """`text` as it reads, inert in Markdown: no heading, fence, HTML, comment or link definition of its own."""
    text = _MD_ANYWHERE.sub(r"\\<", text)
    return _MD_LINE_START.sub(lambda match: f"{match[1]}\\{match[2]}", text)


def inert_jira(text: str) -> str:
    """`text` as it reads, inert in Jira wiki markup: no macro, link, mention, table, image, heading or list."""
    text = _JIRA_ANYWHERE.sub(lambda match: "\\" + match[0], text)
    return _JIRA_LINE_START.sub(lambda match: f"{match[1]}\\{match[2]}", text)
