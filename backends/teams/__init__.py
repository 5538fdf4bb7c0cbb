"""Microsoft Teams through the Bot Framework: Errbot's backend (`teams.py`, loaded by Errbot) and its parts.

`registration` (the Azure bot's app id, secret, tenant and endpoints), `auth` (the Bot Framework / Entra ID token
on every inbound activity), `credentials` (the bot's own token for replies), `connector` (sending activities),
`activities` (reading them), `conversations` (where to reply), `cards` (Adaptive Cards for long replies) and
`identifiers` (Errbot's people and rooms on Teams, the one part besides `teams.py` that imports Errbot).
"""
