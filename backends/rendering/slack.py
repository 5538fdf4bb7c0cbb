"""Replies as Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting).

errbot-backend-slackv3 converts a body with Python-Markdown's "imtext" output: a fence inside a list item, or
right after a line of text, becomes one inline `code` span over several lines with the language word in it,
`kube-* ... 2*3` becomes italics, and `&`, `<`, `>` go out unescaped (a `<!channel>` typed in a note would ping
the channel when `!timeline` shows it). Here:

- `**bold**` is `*bold*`, `*em*` `_em_`, links `<url|text>`, headings bold lines, list items `•` and `1.`;
  code blocks are fenced without a language, tables monospace;
- `&`, `<` and `>` are escaped everywhere, code included; Slack's own references to a person or a channel
  (`<@U123>`, `<#C123|name>`) stay references;
- Slack has no escape for `*`, `_`, `~` and backticks: a marker that could pair gets a zero-width space on its
  inner side, which Slack reads as a word boundary, so it shows as typed;
- a triple backtick inside code gets zero-width spaces too, so it cannot close the block early.
"""

from __future__ import annotations

import re

from backends.rendering.blocks import Line, Names, Span
from backends.rendering.layout import Layout, wrap
from backends.rendering.markers import keep_literal
from backends.rendering.split import Piece, split

ZWSP = "\u200b"
FENCE = "```"
_SPECIAL = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^<>]*)?>|[&<>]")
_TICKS = re.compile(
    r"`(?=`)"
)  # a backtick followed by another: with ``` inside, a code block would end early
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class Slack(Layout):
    bullet = "•"

    def line(self, line: Line, start: bool) -> str:
        return "".join(_span(span) for span in line)

    def heading(self, lines: tuple[Line, ...], level: int) -> str:
        text = " ".join(
            "".join(_span(Span(s.text, s.styles - {"strong"}, s.url)) for s in line) for line in lines
        )
        return wrap(text, "*")

    def code(self, code: str, language: str, indent: str) -> Piece:
        body = _TICKS.sub("`" + ZWSP, escape(code.rstrip("\n")))
        return Piece(f"{FENCE}\n{body}\n{FENCE}", fence=(FENCE, FENCE))

    def table(self, text: str, indent: str) -> Piece:
        return self.code(text, "", indent)


_SLACK = Slack()


def render_slack(markdown: str, limit: int, names: Names | None = None) -> list[str]:
    """The reply as mrkdwn messages of at most `limit` characters; `names` writes people's ids as names."""
    return split(_SLACK.pieces(markdown, names), limit)


def escape(text: str) -> str:
    """`&`, `<`, `>` as entities, except in Slack's own `<@U123>` and `<#C123|name>` references."""
    return _SPECIAL.sub(lambda match: _ENTITIES.get(match.group(), match.group()), text)


def _span(span: Span) -> str:
    if "code" in span.styles and "`" not in span.text:
        out = f"`{escape(span.text)}`"
    else:
        out = escape(keep_literal(span.text, _boundary))
    if span.url:
        url = escape(span.url).replace("|", "%7C")
        out = f"<{url}>" if span.url == span.text else f"<{url}|{out}>"
    if "em" in span.styles:
        out = wrap(out, "_")
    if "strong" in span.styles:
        out = wrap(out, "*")
    return out


def _boundary(run: str, opens: bool, closes: bool) -> str:
    """A zero-width space where the marker touches text: Slack sees a boundary and no pair."""
    if run.startswith("`"):
        return ZWSP.join(run) + ZWSP
    return (ZWSP if closes else "") + run + (ZWSP if opens else "")
