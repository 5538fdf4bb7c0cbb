"""Microsoft Teams for Debrief's Errbot backend (`backends/teams/`): the parts that need no Errbot.

`config` (what the backend is told), `auth` (the Bot Framework / Entra ID token on every inbound activity),
`credentials` (the bot's own token for replies), `connector` (sending activities), `activities` (reading them),
`cards` (Adaptive Cards for long replies), `identifiers` (Errbot's people and rooms for Teams).
"""
