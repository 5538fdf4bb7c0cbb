"""Citation tags: only what a tool handed out may be cited; anything else is removed from the answer."""

from __future__ import annotations

from agent.citations import Citation, CitationRegistry, strip_sources_tail, tag_of


def test_known_tags_are_kept_even_when_the_model_changes_case_or_spacing() -> None:
    registry = CitationRegistry()
    tag = registry.cite(
        "runbook", "runbooks/db.md#Mitigation", Citation(source="runbooks/db.md", heading="Mitigation")
    )

    text, citations, removed = registry.check("Restart pgbouncer [Runbook: runbooks/db.md#Mitigation ].")

    assert text == f"Restart pgbouncer {tag}."
    assert citations == [Citation(source="runbooks/db.md", heading="Mitigation")]
    assert removed == []


def test_unknown_tags_are_removed_and_reported() -> None:
    registry = CitationRegistry()
    registry.cite("event", "12", Citation(source="INC-3", heading="timeline event 12"))

    text, citations, removed = registry.check(
        "- seen at 10:03 [event:12]\n- and [incident:INC-99]\n- [event:13]"
    )

    assert text == "- seen at 10:03 [event:12]\n- and"
    assert [c.heading for c in citations] == ["timeline event 12"]
    assert removed == ["[incident:INC-99]", "[event:13]"]


def test_brackets_inside_a_reference_cannot_end_its_tag_early() -> None:
    assert tag_of("runbook", "runbooks/x.md#Step [2]  restart") == "[runbook:runbooks/x.md#Step (2) restart]"


def test_a_sources_list_written_by_the_model_is_dropped() -> None:
    assert strip_sources_tail("Roll back [event:1].\n\n**Sources:**\n- [event:1]") == "Roll back [event:1]."
