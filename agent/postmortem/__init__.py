"""Postmortems: deterministic facts, an evidence-checked narrative, draft -> review -> publish."""

from agent.postmortem.draft import build_postmortem
from agent.postmortem.model import Postmortem
from agent.postmortem.records import NoDraft, PostmortemError, StoredPostmortem
from agent.postmortem.render import render_json, render_markdown
from agent.postmortem.workflow import PostmortemWorkflow

__all__ = [
    "NoDraft",
    "Postmortem",
    "PostmortemError",
    "PostmortemWorkflow",
    "StoredPostmortem",
    "build_postmortem",
    "render_json",
    "render_markdown",
]
