"""Text people typed, made inert where it lands in markup: a published postmortem (Markdown), a GitHub issue
(Markdown), a Jira issue (wiki markup).

A title, an impact or a note is shown as written, never read as structure: it cannot open a heading, a code
fence, HTML or an HTML comment (which would hide the rest of a document), or a Jira macro, link or table.
Escapes are backslashes, which CommonMark and Jira both read as "this character, literally".
"""

from __future__ import annotations

import re

# Markdown: anywhere, `<` would open HTML or a comment.
_MD_ANYWHERE = re.compile(r"<")
# Markdown, at the start of a line: an ATX heading, a setext underline or front-matter fence, a code fence,
# a link reference definition.
_MD_LINE_START = re.compile(r"^([ \t]{0,3})(#|=+[ \t]*$|-{2,}[ \t]*$|`{3}|~{3}|\[)", re.MULTILINE)

# Jira wiki markup: macros ({code}, {html}), links and mentions ([~user]), tables, images, and at the start of a
# line headings (h1.), quotes (bq.), lists and rules.
_JIRA_ANYWHERE = re.compile(r"[{}\[\]|!]")
_JIRA_LINE_START = re.compile(r"^([ \t]*)(h[1-6]\.|bq\.|[#*-])", re.MULTILINE | re.IGNORECASE)


def inert_markdown(text: str) -> str:
    """`text` as it reads, inert in Markdown: no heading, fence, HTML, comment or link definition of its own."""
    text = _MD_ANYWHERE.sub(r"\\<", text)
    return _MD_LINE_START.sub(lambda match: f"{match[1]}\\{match[2]}", text)


def inert_jira(text: str) -> str:
    """`text` as it reads, inert in Jira wiki markup: no macro, link, mention, table, image, heading or list."""
    text = _JIRA_ANYWHERE.sub(lambda match: "\\" + match[0], text)
    return _JIRA_LINE_START.sub(lambda match: f"{match[1]}\\{match[2]}", text)
