"""A review in an editor: `debrief postmortem --export FILE.md`, edit, `--import FILE.md --by USER`. Free-text
sections come back from the file, facts stay the timeline's, a section changed in Debrief since the export is a
conflict (reported, never overwritten); `debrief postmortem` shows the reviewed text, a published incident its
published document, and `--draft` a new draft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.engine import Engine
from agent.knowledge import open_knowledge_base
from agent.models import PostmortemStatus
from agent.postmortem import Postmortem, PostmortemWorkflow
from agent.settings import Settings
from debrief.cli import main
from debrief.cli.postmortem import postmortem_text
from tests.postmortem_fixtures import assert_secret_free, settings_in

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    return CliRunner(
        env={
            "DEBRIEF_DATA_DIR": str(settings.data_dir),
            "DEBRIEF_KNOWLEDGE_DIR": str(settings.knowledge_dir),
            "DEBRIEF_TRACKERS": "none",
            "DEBRIEF_ADMINS": "root",
            "OPENAI_API_KEY": "",
        }
    )


@pytest.fixture
def drafted(settings: Settings) -> Iterator[PostmortemWorkflow]:
    """INC-1, resolved, its postmortem drafted (template narrative) and in review."""
    engine = Engine.from_settings(settings)
    started = engine.incidents.start("#inc-orders", "Orders API timeouts", "dana", T0, service="orders-api")
    engine.incidents.set_commander(started.id, "frank", "dana", T0 + timedelta(minutes=1))
    engine.timeline.record(started.id, T0 + timedelta(minutes=2), "erin", "p99 8s, too many clients")
    engine.incidents.resolve(started.id, "frank", T0 + timedelta(minutes=20))
    workflow = PostmortemWorkflow(engine, settings, knowledge=lambda: open_knowledge_base(settings))
    workflow.draft(started.id, by="dana")
    yield workflow
    engine.close()


def export(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--export", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Exported INC-1's postmortem to {path}. Edit its review sections, then:")


def edited(path: Path, *changes: tuple[str, str]) -> Path:
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def test_free_text_comes_back_from_the_file_and_facts_stay_the_timelines(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    edited(
        path,
        (
            "## Root cause\n\nNot established yet.",
            "## Root cause\n\nThe v3.2 deploy doubled the pool (see E2).",
        ),
        (
            "- Mitigated 20m 00s after the start. (evidence: E4)",
            "- Mitigated 20m 00s after the start. (evidence: E4)\n- Rollback was rehearsed",
        ),
        (
            "## Lessons learned\n\n_To be completed in the review._",
            "## Lessons learned\n\n- Canary config pushes\n- Alert at 80% of max_client_conn",
        ),
        ("| Started | 2024-03-05 10:00:00 UTC |", "| Started | 2024-03-05 09:00:00 UTC |"),  # a fact
        ("erin [message] p99 8s, too many clients", "erin [message] it was all fine"),  # the timeline
    )

    result = runner.invoke(
        main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "@erin"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported into INC-1's postmortem (revision 2): root-cause, well, lessons.\n"
    pm = drafted.show("INC-1").postmortem
    assert [(c.cause, c.by) for c in pm.root_causes] == [
        ("The v3.2 deploy doubled the pool (see E2).", "erin")
    ]
    assert [(f.text, f.evidence, f.by) for f in pm.went_well] == [
        (
            "Mitigated 20m 00s after the start.",
            ["E4"],
            None,
        ),  # left as it was: still Debrief's, with its evidence
        ("Rollback was rehearsed", [], "erin"),
    ]
    assert [f.text for f in pm.lessons] == ["Canary config pushes", "Alert at 80% of max_client_conn"]
    assert pm.started_at == T0 and "it was all fine" not in drafted.show("INC-1").markdown
    assert [(r.by, r.change, r.section) for r in drafted.history("INC-1")][1:] == [
        ("erin", "import", "root-cause"),
        ("erin", "import", "well"),
        ("erin", "import", "lessons"),
    ]

    again = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])
    assert (
        again.stdout == "Nothing imported into INC-1's postmortem.\n"
    )  # what the file says is already there
    export(runner, path)  # and a new export reads back as it is: a round trip changes nothing
    assert (
        "Nothing imported"
        in runner.invoke(
            main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"]
        ).stdout
    )


def test_a_section_changed_in_debrief_since_the_export_is_a_conflict_never_overwritten(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    # Meanwhile, in chat: frank's change is one an import must not overwrite; erin's own later one hides nothing.
    drafted.edit("INC-1", "root-cause", "max_client_conn was reached", "frank")
    drafted.edit("INC-1", "root-cause", "pgbouncer max_client_conn was reached", "erin")
    drafted.edit("INC-1", "poorly", "paging took 8 minutes", "gus")
    edited(
        path,
        ("## Root cause\n\nNot established yet.", "## Root cause\n\nA DNS problem."),
        (
            "## What went poorly\n\n_To be completed in the review._",
            "## What went poorly\n\n- paging took 8 minutes",
        ),
        (
            "## Lessons learned\n\n_To be completed in the review._",
            "## Lessons learned\n\n- Canary config pushes",
        ),
    )

    result = runner.invoke(
        main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin", "--format", "json"]
    )

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["revision"] == 5 and payload["applied"] == [
        "lessons"
    ]  # `poorly` says what gus wrote: the same change, no conflict
    assert [(c["section"], c["by"], c["revision"]) for c in payload["conflicts"]] == [
        ("root-cause", "frank", 2)
    ]
    pm = drafted.show("INC-1").postmortem
    assert [c.cause for c in pm.root_causes] == ["pgbouncer max_client_conn was reached"]
    human = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])
    assert human.exit_code == 1
    assert "Conflict, not imported: root cause was changed in Debrief by frank at " in human.stdout


def test_the_json_postmortem_shows_the_reviewed_text_and_a_published_one_its_published_document(
    drafted: PostmortemWorkflow, settings: Settings
) -> None:
    drafted.edit("INC-1", "impact", f"30% of orders failed; token {SECRET}", "frank")
    drafted.edit("INC-1", "root-cause", "v3.2 doubled the per-pod DB pool", "frank")

    reviewed = Postmortem.model_validate(json.loads(postmortem_text(settings, "INC-1", fmt="json")))
    drafted.approve("INC-1", "frank")
    drafted.publish("INC-1", "root")
    published = postmortem_text(settings, "INC-1")
    again = Postmortem.model_validate(json.loads(postmortem_text(settings, "INC-1", fmt="json", draft=True)))

    assert reviewed.customer_impact == "30% of orders failed; token [REDACTED:github-token]"
    assert [c.cause for c in reviewed.root_causes] == ["v3.2 doubled the per-pod DB pool"]
    assert reviewed.status is PostmortemStatus.IN_REVIEW
    path = settings.knowledge_dir / "incidents" / "2024-03-05-inc-1-orders-api-timeouts.md"
    assert published == path.read_text(encoding="utf-8") and "status: published" in published
    assert "- v3.2 doubled the per-pod DB pool\n" in published
    assert again.status is PostmortemStatus.DRAFT  # --draft: a new draft from the timeline ...
    assert [c.cause for c in again.root_causes] == [
        "v3.2 doubled the per-pod DB pool"
    ]  # ... with the review's text
    assert_secret_free(published)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("# just notes\n", "was not exported by `debrief postmortem --export`"),
        (
            "---\ndebrief_export: {incident: INC-1}\n---\n",
            "was not exported by `debrief postmortem --export`",
        ),
        (
            '---\ndebrief_export: {"incident": "INC-1", "revision": "x", "sections": {}}\n---\n',
            "debrief_export in its front matter is damaged; export again",
        ),
        (
            '---\ndebrief_export: {"incident": "INC-2", "revision": 1, "sections": {}}\n---\n',
            "is INC-2's postmortem, not INC-1's",
        ),
    ],
)
def test_a_file_that_is_not_this_incidents_export_is_refused(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "notes.md"
    path.write_text(content, encoding="utf-8")

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])

    assert result.exit_code == 1 and result.stderr.startswith("debrief: error: ")
    assert error in result.stderr
    assert [r.change for r in drafted.history("INC-1")] == ["draft"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--import", "x.md"], "--import needs --by USER"),
        (["--by", "erin"], "--by goes with --import FILE.md"),
        (
            ["--export", "a.md", "--import", "b.md", "--by", "erin"],
            "give --export FILE.md or --import FILE.md",
        ),
        (["--export", "a.md", "--draft"], "--export and --import work on a stored incident"),
        (["--import", "missing.md", "--by", "erin"], "cannot read missing.md"),
    ],
)
def test_option_mistakes_are_one_clear_error(
    runner: CliRunner, drafted: PostmortemWorkflow, arguments: list[str], error: str
) -> None:
    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", *arguments])

    assert result.exit_code == 1 and error in result.stderr


def test_a_published_postmortem_is_exported_but_not_imported_until_reopened(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    drafted.edit("INC-1", "impact", "30% of orders failed", "frank")
    drafted.edit("INC-1", "root-cause", "v3.2 doubled the per-pod DB pool", "frank")
    drafted.approve("INC-1", "frank")
    drafted.publish("INC-1", "root")
    path = tmp_path / "INC-1.md"
    export(runner, path)
    edited(path, ("## Lessons learned\n\n_None recorded in the review._", "## Lessons learned\n\n- more"))

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])

    assert result.exit_code == 1
    assert "INC-1's postmortem is published; an admin reopens it with !postmortem reopen" in result.stderr


def test_importing_again_after_more_edits_is_no_conflict_with_ones_own_import(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    command = ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"]
    edited(path, ("## Lessons learned\n\n_To be completed in the review._", "## Lessons learned\n\n- one"))
    runner.invoke(main, command)
    edited(path, ("## Lessons learned\n\n- one", "## Lessons learned\n\n- one\n- two"))

    result = runner.invoke(main, command)

    assert result.exit_code == 0, result.output
    assert [f.text for f in drafted.show("INC-1").postmortem.lessons] == ["one", "two"]


def with_section(path: Path, title: str, body: str) -> Path:
    """`path` with the body under `## title` (up to the next `## `) replaced by `body`."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n") + len(f"\n## {title}\n")
    end = text.index("\n## ", start)
    path.write_text(text[:start] + "\n" + body + "\n" + text[end:], encoding="utf-8")
    return path


SUMMARY_WITH_STRUCTURE = """Short summary.

### Details

Text under a sub-heading.

A paragraph underlined like a heading
---
Text after the underline.

---

Text after a rule.

```sh
# a comment in code, not a heading
## Root cause
kubectl rollout undo deploy/orders-api
```

[runbook]: https://wiki.example.com/orders"""


def test_sub_headings_rules_and_code_in_a_section_come_back_whole(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    with_section(path, "Summary", SUMMARY_WITH_STRUCTURE)
    with_section(path, "Lessons learned", "- Canary config pushes\n\n### Also\n\n- Alert at 80% of the pool")
    command = ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"]

    result = runner.invoke(main, command)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported into INC-1's postmortem (revision 2): summary, lessons.")
    pm = drafted.show("INC-1").postmortem
    # Every line, in order, the marks kept as text; blocks come back one blank line apart.
    as_blocks = SUMMARY_WITH_STRUCTURE.replace("---\nText after", "---\n\nText after")
    assert pm.summary.text == as_blocks
    assert [f.text for f in pm.lessons] == ["Canary config pushes", "### Also", "Alert at 80% of the pool"]
    assert not pm.root_causes  # the `## Root cause` inside the code fence is the summary's text
    shown = runner.invoke(main, ["postmortem", "--incident", "INC-1"]).stdout
    assert "\\### Details" in shown and "Text after a rule." in shown  # inert: no heading of its own
    export(runner, path)  # the round trip is stable: read back, the new export says the same
    assert runner.invoke(main, command).stdout == "Nothing imported into INC-1's postmortem.\n"
    assert drafted.show("INC-1").postmortem.summary.text == as_blocks


@pytest.mark.parametrize(
    ("title", "body", "error"),
    [
        (
            "Summary",
            "Short summary.\n\n## Notes\n\nThis text is under no review section.",
            "the heading `## Notes` under the section Summary was not in the export",
        ),
        (
            "Root cause",
            "- the pool\n\n# Appendix\n\nmore",
            "the heading `# Appendix` under the section Root cause was not in the export",
        ),
    ],
)
def test_a_heading_that_would_leave_text_out_of_every_section_is_refused(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path, title: str, body: str, error: str
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    with_section(path, title, body)

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])

    assert result.exit_code == 1 and result.stderr.startswith("debrief: error: ")
    assert error in result.stderr and "nothing was imported" in result.stderr
    assert [r.change for r in drafted.history("INC-1")] == ["draft"]


def test_a_review_section_written_twice_is_refused(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    with_section(path, "Lessons learned", "- one\n\n## Lessons learned\n\n- two")

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])

    assert result.exit_code == 1
    assert "the section Lessons learned appears twice" in result.stderr
    assert [r.change for r in drafted.history("INC-1")] == ["draft"]


def test_an_import_file_larger_than_an_export_can_be_is_refused_unread(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"
    export(runner, path)
    with path.open("a", encoding="utf-8") as file:
        file.write("x" * 6_000_000)

    result = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin"])

    assert result.exit_code == 1
    assert result.stderr == (
        f"debrief: error: {path} is larger than 5 MB, the most it may be for an exported postmortem; export it "
        "again and edit that file\n"
    )
    assert [r.change for r in drafted.history("INC-1")] == ["draft"]


def test_json_is_the_json_format_for_showing_exporting_and_importing(
    runner: CliRunner, drafted: PostmortemWorkflow, tmp_path: Path
) -> None:
    path = tmp_path / "INC-1.md"

    shown = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--json"])
    exported = runner.invoke(main, ["postmortem", "--incident", "INC-1", "--export", str(path), "--json"])
    edited(path, ("## Lessons learned\n\n_To be completed in the review._", "## Lessons learned\n\n- one"))
    imported = runner.invoke(
        main, ["postmortem", "--incident", "INC-1", "--import", str(path), "--by", "erin", "--json"]
    )

    assert shown.exit_code == 0, shown.output
    assert Postmortem.model_validate(json.loads(shown.stdout)).incident_id == "INC-1"
    assert json.loads(exported.stdout) == {
        "incident_id": "INC-1",
        "path": str(path),
        "import": f"debrief postmortem --incident INC-1 --import {path} --by YOUR-NAME",
    }
    assert json.loads(imported.stdout)["applied"] == ["lessons"]
