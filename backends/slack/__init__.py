"""Slack through errbot-backend-slackv3, with Debrief's defaults (`slack_backend.py`, loaded by Errbot)."""
