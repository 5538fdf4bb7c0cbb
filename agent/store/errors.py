"""Errors from opening or upgrading the database."""

from __future__ import annotations

from agent.errors import DebriefError


class StoreError(DebriefError):
    """The database cannot be opened, reached or upgraded."""
