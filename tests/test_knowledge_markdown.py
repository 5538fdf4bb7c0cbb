"""Markdown -> heading sections, by CommonMark rules: fences, setext headings, indented code."""

from pathlib import PurePath

from agent.knowledge.markdown import Section, first_h1, parse_document


def sections(text: str) -> list[Section]:
    return parse_document(text, PurePath("runbook.md")).sections


def test_heading_after_a_tilde_fence_holding_backticks_starts_a_new_section() -> None:
    text = "## Logs\n\n~~~\n```\n# not a heading\n~~~\n\n## Metrics\n\nlatency\n"
    assert sections(text) == [
        Section(("Logs",), "~~~\n```\n# not a heading\n~~~"),
        Section(("Metrics",), "latency"),
    ]


def test_heading_after_a_backtick_fence_holding_tildes_starts_a_new_section() -> None:
    text = "## Logs\n\n```\n~~~\n# not a heading\n```\n## Metrics\nlatency\n"
    assert sections(text) == [
        Section(("Logs",), "```\n~~~\n# not a heading\n```"),
        Section(("Metrics",), "latency"),
    ]


def test_a_longer_fence_is_not_closed_by_a_shorter_one() -> None:
    text = "## Example\n\n````markdown\n```\n# not a heading\n```\n````\n\n## Next\n\nafter\n"
    assert sections(text) == [
        Section(("Example",), "````markdown\n```\n# not a heading\n```\n````"),
        Section(("Next",), "after"),
    ]


def test_an_unclosed_fence_runs_to_the_end_of_the_document() -> None:
    text = "## Logs\n\n```\nkubectl logs\n\n## Not a heading\n\nstill code\n"
    assert sections(text) == [
        Section(("Logs",), "```\nkubectl logs\n\n## Not a heading\n\nstill code"),
    ]


def test_setext_headings_are_headings_and_their_underline_is_not_content() -> None:
    text = "Redis evictions\n===============\n\nintro\n\nSymptoms\n--------\nmemory full\n"
    document = parse_document(text, PurePath("redis.md"))
    assert document.title == "Redis evictions"
    assert document.sections == [
        Section(("Redis evictions",), "intro"),
        Section(("Redis evictions", "Symptoms"), "memory full"),
    ]


def test_a_setext_heading_over_two_lines_is_one_title() -> None:
    text = "Disk full on\nthe primary\n---\nbody\n"
    assert sections(text) == [Section(("Disk full on the primary",), "body")]


def test_a_hash_line_in_an_indented_code_block_is_not_a_heading() -> None:
    text = "## Fix\n\nRun:\n\n    # comment in a shell script\n    rm -rf /tmp/cache\n\ndone\n"
    assert sections(text) == [
        Section(("Fix",), "Run:\n\n    # comment in a shell script\n    rm -rf /tmp/cache\n\ndone"),
    ]


def test_closing_hashes_of_an_atx_heading_are_not_part_of_its_title() -> None:
    text = "# Checkout ##\n\n## Use C# client ###\n\nbody\n"
    assert sections(text) == [Section(("Checkout", "Use C# client"), "body")]


def test_headings_inside_quotes_and_lists_stay_in_their_section() -> None:
    text = "## Notes\n\n> # quoted heading\n\n- # listed heading\n\n## Next\n\nafter\n"
    assert sections(text) == [
        Section(("Notes",), "> # quoted heading\n\n- # listed heading"),
        Section(("Next",), "after"),
    ]


def test_first_h1_finds_a_setext_h1_and_skips_fenced_ones() -> None:
    assert first_h1("```\n# fenced\n```\n\nSubtitle\n--------\n\nCache stampede\n===\n") == "Cache stampede"
