"""Postmortem -> Markdown (Jinja2 template, overridable) or JSON (the model). Output is redacted once more.

The default template ships in `agent/postmortem/templates/`; a `postmortem.md.j2` in `<data dir>/templates/`
replaces it, so teams can keep their own format without touching the code. Whatever a template writes from the
postmortem is inert Markdown (`agent.markup`): people's text cannot restructure the document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup

from agent.errors import DebriefError
from agent.markup import inert_markdown
from agent.postmortem.fallback import duration
from agent.postmortem.model import CauseCandidate, Finding, Postmortem, SuggestedAction
from agent.redact import redact

TEMPLATE_NAME = "postmortem.md.j2"
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"


class TemplateProblem(DebriefError):
    """The postmortem template cannot be rendered; the message names the file and the line."""


def environment(templates_dir: Path | None = None) -> Environment:
    """Templates from `templates_dir` first (the user's), then Debrief's defaults."""
    folders = [str(d) for d in (templates_dir, PACKAGE_TEMPLATES) if d is not None and d.is_dir()]
    env = Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        finalize=inert,
    )
    env.filters.update(clock=clock, duration=duration, cite=cite, cell=cell, oneline=oneline)
    return env


def render_markdown(
    postmortem: Postmortem, templates_dir: Path | None = None, scrub: Callable[[str], str] = redact
) -> str:
    try:
        template = environment(templates_dir).get_template(TEMPLATE_NAME)
        text = template.render(pm=postmortem)
    except TemplateError as exc:
        filename, line = _where(exc)
        where = f"{filename}, line {line}" if line else filename
        raise TemplateProblem(f"the postmortem template {where} cannot be rendered: {exc.message}") from None
    return scrub(_tidy(text))


def render_json(postmortem: Postmortem, scrub: Callable[[str], str] = redact) -> str:
    """The Postmortem model as JSON; every string value passes the redactor."""
    return json.dumps(_scrubbed(postmortem.model_dump(mode="json"), scrub), indent=2, ensure_ascii=False)


def inert(value: object) -> object:
    """Every `{{ value }}` a template writes reads as text, never as Markdown structure (a heading, a fence, HTML
    or a comment that hides the rest): people typed most of it. `Markup` (`tojson`) is already escaped."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return inert_markdown(value)
    return value


def clock(at: datetime | None) -> str:
    return "unknown" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cite(claim: Finding | CauseCandidate | SuggestedAction) -> str:
    """` (evidence: E12, runbooks/x.md)`, or ` (unverified)` for a claim that cites nothing; nothing after what
    people wrote in the review (their own conclusion, not a claim to check)."""
    if getattr(claim, "by", None) and not claim.evidence:
        return ""
    if not claim.evidence:
        return " *(unverified)*"
    return " (evidence: " + ", ".join(claim.evidence) + ")"


def oneline(text: object) -> str:
    return " ".join(str(text).split())


def cell(text: object) -> str:
    """Safe inside a Markdown table cell."""
    return oneline(text).replace("|", "\\|")


def _where(exc: TemplateError) -> tuple[str, int | None]:
    """The template file and line at fault: syntax errors carry them, render errors are in the traceback."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:  # Jinja maps template frames to the template's own file and line
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return str(filename or TEMPLATE_NAME), line


def _tidy(text: str) -> str:
    """At most one blank line in a row, one newline at the end."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def _scrubbed(value: object, scrub: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(item, scrub) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, scrub) for key, item in value.items()}
    return value
