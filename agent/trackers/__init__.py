"""Issue trackers that action items are filed to: one `Tracker` protocol, one adapter per vendor."""

from __future__ import annotations

from pydantic import SecretStr

from agent.errors import SettingsError
from agent.settings import Settings
from agent.trackers.github import GitHubTracker
from agent.trackers.jira import JiraTracker
from agent.trackers.tracker import Closing, TicketRef, Tracker, TrackerError

__all__ = ["Closing", "GitHubTracker", "JiraTracker", "TicketRef", "Tracker", "TrackerError", "make_trackers"]


def make_trackers(settings: Settings, timeout: float = 10.0) -> list[Tracker]:
    """The trackers `DEBRIEF_TRACKERS` names, in that order; builds no connection yet."""
    trackers: list[Tracker] = []
    for name in settings.trackers:
        if name == "jira":
            trackers.append(
                JiraTracker(
                    url=_required(settings.jira_url, "JIRA_URL"),
                    user=_required(settings.jira_user, "JIRA_USER"),
                    token=_secret(settings.jira_api_token, "JIRA_API_TOKEN"),
                    project=_required(settings.jira_project, "JIRA_PROJECT"),
                    timeout=timeout,
                )
            )
        elif name == "github":
            trackers.append(
                GitHubTracker(
                    token=_secret(settings.github_token, "GITHUB_TOKEN"),
                    repository=_required(settings.github_repository, "GITHUB_REPOSITORY"),
                    api_url=settings.github_api_url,
                    timeout=timeout,
                )
            )
    return trackers


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise SettingsError(variable, f"DEBRIEF_TRACKERS needs {variable}, which is not set")
    return value


def _secret(value: SecretStr | None, variable: str) -> str:
    return _required(value.get_secret_value() if value is not None else None, variable)
