"""Shared fixtures. Errbot's `testbot` fixture drives the real Errbot core in memory."""

from __future__ import annotations

import pytest
from errbot.backends.test import testbot

from agent.settings import Settings

__all__ = ["testbot"]


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they set: nothing from the developer's or CI's environment."""
    for field in Settings.model_fields.values():
        monkeypatch.delenv(str(field.alias), raising=False)
