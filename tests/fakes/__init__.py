"""Fakes at the edges: local HTTP servers that speak vendor APIs (Jira, GitHub, OpenAI, Slack, Teams) so tests
exercise the real clients, and a scripted chat model for tests that drive the real graph without HTTP."""
