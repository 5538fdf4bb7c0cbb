"""Local HTTP servers that speak vendor APIs (Jira, GitHub) so tests exercise the real clients."""
