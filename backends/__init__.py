"""Debrief's own Errbot backends: Teams (Bot Framework) and Slack (slackv3 with Debrief's defaults)."""
