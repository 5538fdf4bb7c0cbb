"""The `debrief` command (DESIGN.md §3.1): one module per command group, all registered on `main`."""

from debrief.cli import actions, assistant, incidents, knowledge, postmortem, serve, timeline
from debrief.cli.app import main

__all__ = ["actions", "assistant", "incidents", "knowledge", "main", "postmortem", "serve", "timeline"]
