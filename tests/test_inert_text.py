"""What people type cannot restructure a published postmortem or a ticket: no heading, fence, HTML or comment of
its own (read back with a CommonMark parser), no Jira macro, link or heading."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from markdown_it import MarkdownIt

from agent.engine import Engine
from agent.markup import inert_jira, inert_markdown
from agent.models import ActionItem, EventKind
from agent.postmortem import build_postmortem, render_markdown
from agent.trackers.github import _body as github_body
from tests.store_fixtures import at

HOSTILE = [
    "# Injected heading",
    "<!-- the rest of the document is hidden",
    "<script>alert(1)</script>",
    "```",
    "~~~",
    "Injected setext\n===",
    "---\ntitle: forged\n---",
    "[ref]: https://evil.example/",
    "p99 > 5s and < 10s, fine",
]
PARSER = MarkdownIt("commonmark")
TEMPLATE_HEADINGS = {
    "Summary",
    "Customer impact",
    "Root cause",
    "Contributing factors",
    "What went well",
    "What went poorly",
    "Detection gaps",
    "Lessons learned",
    "Timeline (UTC)",
    "Action items",
    "Similar past incidents",
    "Runbooks",
    "Review",
}


def structure(markdown: str) -> tuple[list[str], list[str], list[str]]:
    """Headings, HTML and fences as a CommonMark reader sees them."""
    tokens = PARSER.parse(markdown)
    headings = [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]
    html = [
        child.content
        for token in tokens
        for child in [token, *(token.children or [])]
        if child.type in ("html_block", "html_inline")
    ]
    fences = [token.content for token in tokens if token.type in ("fence", "code_block")]
    return headings, html, fences


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_reads_as_itself_in_markdown(text: str) -> None:
    markdown = f"Intro.\n\n{inert_markdown(text)}\n\nOutro."

    headings, html, fences = structure(markdown)

    assert (headings, html, fences) == ([], [], [])
    assert "Outro." in PARSER.render(markdown)


def test_a_postmortem_of_hostile_text_has_only_the_templates_structure() -> None:
    engine = Engine.open("sqlite://")
    try:
        hostile = "\n".join(HOSTILE)
        incident = engine.incidents.start("#inc", "Title <!-- hide\n# heading", "alice", at(0))
        engine.incidents.set_impact(incident.id, hostile, "alice", at(1))
        engine.incidents.set_cause(incident.id, hostile, "alice", at(2))
        engine.timeline.record(incident.id, at(3), "bob", hostile, kind=EventKind.NOTE)
        engine.actions.add(incident.id, "```fix the pool size to 50", "bob", date(2024, 4, 1), "alice", at(4))
        engine.incidents.resolve(incident.id, "alice", at(5), hostile)
        markdown = render_markdown(build_postmortem(engine, incident.id))
    finally:
        engine.close()

    front, body = markdown.split("\n---\n", 1)
    headings, html, fences = structure(body)
    assert yaml.safe_load(front.removeprefix("---\n"))["title"] == "Title <!-- hide\n# heading"  # one string
    assert set(headings) - TEMPLATE_HEADINGS == {"INC-1: Title \\<!-- hide # heading"}
    assert (html, fences) == ([], [])


def test_a_github_issue_body_of_hostile_text_has_no_structure_of_its_own() -> None:
    item = ActionItem(
        id=1,
        incident_id="INC-1",
        title="Add a canary stage",
        owner="bob",
        success_criteria="# done when\n<!-- never -->",
        idempotency_key="debrief-INC-1-A1",
    )

    body = github_body(item, "Checkout <img src=x onerror=alert(1)>\n# heading")

    headings, html, _ = structure(body)
    assert headings == []
    assert html == ["<!-- debrief:debrief-INC-1-A1 -->"]  # the key marker alone


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("{code}rm -rf{code}", "\\{code\\}rm -rf\\{code\\}"),
        ("[~admin] see [here|https://evil.example]", "\\[~admin\\] see \\[here\\|https://evil.example\\]"),
        (
            "h1. Injected\nbq. quote\n# list\n* item\n----",
            "\\h1. Injected\n\\bq. quote\n\\# list\n\\* item\n\\----",
        ),
        ("!https://evil.example/x.png!", "\\!https://evil.example/x.png\\!"),
        ("plain words stay", "plain words stay"),
    ],
)
def test_hostile_text_is_inert_in_jira_wiki_markup(text: str, inert: str) -> None:
    assert inert_jira(text) == inert
