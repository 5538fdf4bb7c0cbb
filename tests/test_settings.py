"""Settings: read once, a wrong value stops start-up with one line naming the variable."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import SettingsError
from agent.settings import check_services, load_settings


def test_defaults_run_with_no_environment(tmp_path: Path) -> None:
    settings = load_settings(DEBRIEF_DATA_DIR=str(tmp_path))
    assert settings.backend == "Text"
    assert settings.embeddings == "local"
    assert settings.trackers == []
    assert settings.database == f"sqlite:///{tmp_path.resolve() / 'debrief.db'}"
    assert not settings.llm_enabled


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBRIEF_ADMINS", "alice, bob")
    monkeypatch.setenv("DEBRIEF_TRACKERS", "github")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    settings = load_settings()
    assert settings.admins == ["alice", "bob"]
    assert settings.trackers == ["github"]
    assert settings.llm_enabled


@pytest.mark.parametrize(
    ("overrides", "variable", "message"),
    [
        ({"JIRA_URL": "jira.example.com"}, "JIRA_URL", "JIRA_URL must be an http(s) URL"),
        (
            {"OPENAI_BASE_URL": "localhost:8000/v1"},
            "OPENAI_BASE_URL",
            "OPENAI_BASE_URL must be an http(s) URL",
        ),
        (
            {"DEBRIEF_DATABASE_URL": "mysql://x"},
            "DEBRIEF_DATABASE_URL",
            "must start with sqlite:// or postgresql://",
        ),
        ({"DEBRIEF_TRACKERS": "jira"}, "JIRA_URL", "DEBRIEF_TRACKERS names jira but JIRA_URL is not set"),
        (
            {"DEBRIEF_TRACKERS": "github", "GITHUB_TOKEN": "t"},
            "GITHUB_REPOSITORY",
            "DEBRIEF_TRACKERS names github but GITHUB_REPOSITORY is not set",
        ),
        ({"DEBRIEF_TRACKERS": "servicenow"}, "DEBRIEF_TRACKERS", "unknown tracker 'servicenow'"),
        ({"GITHUB_REPOSITORY": "acme"}, "GITHUB_REPOSITORY", "must be owner/name"),
        ({"CHROMA_PORT": "eighty"}, "CHROMA_PORT", "CHROMA_PORT"),
        (
            {"DEBRIEF_EMBEDDINGS": "openai"},
            "OPENAI_API_KEY",
            "DEBRIEF_EMBEDDINGS=openai needs OPENAI_API_KEY",
        ),
    ],
)
def test_wrong_setting_names_the_variable(overrides: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    assert caught.value.variable == variable
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unreachable_chroma_host_fails_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]  # nothing listens once closed
    settings = load_settings(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(free_port))
    with pytest.raises(SettingsError, match=r"CHROMA_HOST: cannot reach Chroma at 127\.0\.0\.1"):
        check_services(settings, timeout_s=1)


def test_cli_prints_one_line_and_exits_2_on_a_bad_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "debrief", "search", "disk full"],
        env={"DEBRIEF_TRACKERS": "jira", "PATH": "/usr/bin:/bin", "DEBRIEF_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "debrief: configuration error: DEBRIEF_TRACKERS names jira but JIRA_URL is not set\n"
    )
