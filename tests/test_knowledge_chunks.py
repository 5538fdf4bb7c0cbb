"""Markdown -> chunks: headings, titles, front matter, kinds."""

from pathlib import PurePath

import pytest

from agent.knowledge.chunks import build_chunks, infer_kind
from agent.knowledge.markdown import parse_document, parse_front_matter, split_long

RUNBOOK = """---
title: Checkout 5xx after deploy
service: checkout-api
---

# Checkout5xx

## Symptoms

Error rate above 5% on checkout-api.

## Diagnosis

### Logs

```bash
# not a heading inside a fence
kubectl logs deploy/checkout-api
```

### Metrics

Check the latency dashboard.
"""


def test_front_matter_is_parsed_and_removed_from_the_body() -> None:
    front, body = parse_front_matter(RUNBOOK)
    assert front == {"title": "Checkout 5xx after deploy", "service": "checkout-api"}
    assert body.lstrip().startswith("# Checkout5xx")


def test_malformed_front_matter_is_kept_as_text() -> None:
    front, body = parse_front_matter("---\n: [unclosed\n---\nbody")
    assert front == {}
    assert "body" in body


def test_sections_keep_their_heading_path_and_ignore_headings_in_code_fences() -> None:
    document = parse_document(RUNBOOK, PurePath("runbooks/checkout.md"))
    assert document.title == "Checkout 5xx after deploy"
    paths = [section.heading_path for section in document.sections]
    assert paths == [
        ("Checkout5xx", "Symptoms"),
        ("Checkout5xx", "Diagnosis", "Logs"),
        ("Checkout5xx", "Diagnosis", "Metrics"),
    ]
    assert "# not a heading inside a fence" in document.sections[1].text


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# Redis evictions\n\nbody", "Redis evictions"),
        ("no heading at all", "redis memory full"),
        ("---\ntitle: From front matter\n---\n# H1 title\n", "From front matter"),
    ],
)
def test_title_comes_from_front_matter_then_h1_then_file_name(text: str, title: str) -> None:
    assert parse_document(text, PurePath("redis-memory_full.md")).title == title


def test_chunks_carry_file_title_heading_and_kind() -> None:
    chunks = build_chunks(RUNBOOK, doc_id="d1", source="runbooks/checkout.md", kind="runbook")
    document, *sections = chunks
    assert document.level == "doc" and document.id == "d1:doc"
    assert [(c.heading, c.level) for c in sections] == [
        ("Symptoms", "chunk"),
        ("Diagnosis > Logs", "chunk"),
        ("Diagnosis > Metrics", "chunk"),
    ]
    assert {c.source for c in chunks} == {"runbooks/checkout.md"}
    assert {c.title for c in chunks} == {"Checkout 5xx after deploy"}
    assert {c.kind for c in chunks} == {"runbook"}
    # The title's vocabulary words are spelled out for the embedder ("5xx" -> "server error").
    assert sections[0].embedding_text().startswith("Checkout 5xx after deploy (server error) - Symptoms\n")


def test_alert_names_are_spelled_out_for_the_embedder() -> None:
    chunks = build_chunks(
        "# KubeletPlegDurationHigh\n\n## Meaning\n\nSlow relists.\n",
        doc_id="d2",
        source="a.md",
        kind="runbook",
    )
    assert (
        chunks[1]
        .embedding_text()
        .startswith(
            "KubeletPlegDurationHigh (Kubelet Pleg Duration High) (pod lifecycle event generator) - Meaning\n"
        )
    )


def test_long_sections_are_split_at_paragraphs() -> None:
    paragraphs = [f"paragraph {i} " + "word " * 60 for i in range(20)]
    pieces = split_long("\n\n".join(paragraphs), limit=700)
    assert len(pieces) > 1
    assert all(len(piece) <= 700 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == "".join(paragraphs)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("knowledge/runbooks/db.md", "runbook"),
        ("knowledge/incidents/2024-03-01.md", "incident"),
        ("corpus/postmortems/dfds/PM2021-005.md", "incident"),
        ("notes/incidents-and-more.md", "runbook"),
        ("db.md", "runbook"),
    ],
)
def test_kind_is_inferred_from_the_path(path: str, kind: str) -> None:
    assert infer_kind(PurePath(path)) == kind
