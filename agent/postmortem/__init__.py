"""Postmortems: deterministic facts, an evidence-checked narrative, the action-item gate, draft -> review -> publish."""

from agent.postmortem.draft import build_postmortem
from agent.postmortem.gate import apply_gate, check
from agent.postmortem.model import Postmortem
from agent.postmortem.render import render_json, render_markdown
from agent.postmortem.workflow import (
    NoDraft,
    PostmortemError,
    PostmortemNotAllowed,
    PostmortemWorkflow,
    StoredPostmortem,
)

__all__ = [
    "NoDraft",
    "Postmortem",
    "PostmortemError",
    "PostmortemNotAllowed",
    "PostmortemWorkflow",
    "StoredPostmortem",
    "apply_gate",
    "build_postmortem",
    "check",
    "render_json",
    "render_markdown",
]
