"""The small exception family Debrief raises; the CLI and plugins map it to one clear sentence."""

from __future__ import annotations


class DebriefError(Exception):
    """Base of every error meant for the user: its message is the whole explanation."""


class SettingsError(DebriefError):
    """A setting is wrong or missing; `variable` names it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


class KnowledgeError(DebriefError):
    """The knowledge base cannot be read or written."""
