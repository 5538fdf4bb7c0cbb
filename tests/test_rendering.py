"""One reply, each platform's format: text people typed reads as typed, code blocks stay whole, long replies are cut
only where a cut is safe. What each backend sends end to end is in tests/test_rendering_golden.py."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from agent.markup import literal
from backends.rendering.console import render_console
from backends.rendering.slack import ZWSP, render_slack
from backends.rendering.teams import render_teams_text

TYPED = [
    "restarted kube-* pods",
    "2*3 and 4*5 replicas",
    "*not bold* and _not italic_ and __init__",
    "snake_case_name stays",
    "```bash",
    "~~~",
    "# not a heading",
    "1. not a list",
    "- not a list",
    "* not a list",
    "> not a quote",
    "`not code`",
    "[not a link](https://example.com)",
    "AT&T &amp; friends",
    "C:\\temp\\*",
    "<b>not bold</b> <!channel>",
    "| a | b |",
    "~~not struck~~",
    "+1",
    "***",
]
COMMONMARK = MarkdownIt("commonmark")


@pytest.mark.parametrize("typed", TYPED)
def test_text_people_typed_reads_as_typed_on_the_console(typed: str) -> None:
    assert render_console(literal(typed), 4000) == [typed]
    assert render_console(f"E3  10:05  alice  [note]  {literal(typed)}", 4000) == [
        f"E3  10:05  alice  [note]  {typed}"
    ]


@pytest.mark.parametrize("typed", TYPED)
def test_text_people_typed_is_plain_text_to_the_commonmark_teams_reads(typed: str) -> None:
    [message] = render_teams_text(literal(typed), 4000)

    tokens = COMMONMARK.parse(message)
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert [child.type for child in tokens[1].children or []] in (["text"], ["text", "text"])
    assert "".join(child.content for child in tokens[1].children or []) == typed


@pytest.mark.parametrize(
    ("typed", "mrkdwn"),
    [
        ("restarted kube-* pods", "restarted kube-* pods"),  # nothing could pair: no change
        ("2*3 and 4*5 replicas", "2*3 and 4*5 replicas"),  # Slack never formats inside a word
        ("*not bold* and _not italic_", f"*{ZWSP}not bold{ZWSP}* and _{ZWSP}not italic{ZWSP}_"),
        ("`not code`", f"`{ZWSP}not code`{ZWSP}"),
        ("<b>x</b> <!channel> & co", "&lt;b&gt;x&lt;/b&gt; &lt;!channel&gt; &amp; co"),
    ],
)
def test_slack_shows_markers_people_typed_as_typed(typed: str, mrkdwn: str) -> None:
    assert render_slack(literal(typed), 4000) == [mrkdwn]


def test_slack_keeps_its_own_mentions_and_writes_formatting_as_mrkdwn() -> None:
    reply = (
        "**INC-3** paged <@U0BOB> in <#C0INC|inc-3>: see [the runbook](https://wiki/x) and `kubectl get pods`"
    )

    assert render_slack(reply, 4000) == [
        "*INC-3* paged <@U0BOB> in <#C0INC|inc-3>: see <https://wiki/x|the runbook> and `kubectl get pods`"
    ]


STEPS = """\
**Roll back: Mitigation**
1. Pause auto-sync:
   ```bash
   argocd app set checkout-api --sync-policy none
   ```
2. Roll back:
   ```bash
   kubectl -n shop rollout undo deployment/checkout-api
   ```"""


def test_a_fence_inside_a_list_item_stays_a_code_block_on_every_platform() -> None:
    assert render_console(STEPS, 4000) == [
        "Roll back: Mitigation\n"
        "1. Pause auto-sync:\n"
        "       argocd app set checkout-api --sync-policy none\n"
        "2. Roll back:\n"
        "       kubectl -n shop rollout undo deployment/checkout-api"
    ]
    assert render_slack(STEPS, 4000) == [
        "*Roll back: Mitigation*\n"
        "1. Pause auto-sync:\n"
        "```\nargocd app set checkout-api --sync-policy none\n```\n"
        "2. Roll back:\n"
        "```\nkubectl -n shop rollout undo deployment/checkout-api\n```"
    ]
    assert render_teams_text(STEPS, 4000) == [
        "**Roll back: Mitigation**\n\n"
        "1. Pause auto-sync:\n\n"
        "```\nargocd app set checkout-api --sync-policy none\n```\n\n"
        "2. Roll back:\n\n"
        "```\nkubectl -n shop rollout undo deployment/checkout-api\n```"
    ]


def test_a_long_reply_is_cut_between_blocks_never_inside_a_code_block() -> None:
    reply = "\n\n".join(
        f"Step {n}:\n\n```\n" + "\n".join(f"cmd {n}.{i}" for i in range(8)) + "\n```" for n in range(6)
    )

    for render in (render_slack, render_teams_text):
        parts = render(reply, 200)
        assert len(parts) > 1 and all(len(part) <= 200 for part in parts)
        for part in parts:
            commands = re.findall(r"cmd \d\.\d", part)
            assert commands == fenced_lines(part)  # every command inside a fence that opens and closes here
        assert sum(len(re.findall(r"cmd \d\.\d", part)) for part in parts) == 48


def fenced_lines(message: str) -> list[str]:
    """The lines between each pair of fence lines; a fence left open fails."""
    lines, inside, fenced = message.split("\n"), False, []
    for line in lines:
        if line == "```":
            inside = not inside
        elif inside:
            fenced.append(line)
    assert not inside, f"an unclosed fence in {message!r}"
    return fenced


def test_a_code_block_longer_than_a_message_is_cut_between_its_lines_and_fenced_again() -> None:
    code = "\n".join(f"line {i:03d} of a long log" for i in range(40))

    parts = render_slack(f"Logs:\n\n```\n{code}\n```", 300)

    assert len(parts) > 2 and all(len(part) <= 300 for part in parts)
    assert parts[0] == "Logs:"
    shown = [line for part in parts[1:] for line in part.split("\n")]
    assert all(part.startswith("```\n") and part.endswith("\n```") for part in parts[1:])
    assert [line for line in shown if line != "```"] == code.split("\n")
