"""Where the bot may send its connector token: an activity's `serviceUrl` must be one of Microsoft's Bot Connector
hosts. Activities naming any other host are refused, and the connector never posts anywhere else.

Microsoft's defaults (`DEFAULT_HOSTS`), from its Teams and Agents SDK documentation:
- `smba.trafficmanager.net`: Teams in the public cloud, with regional paths (`/amer/`, `/emea/`, `/apac/`,
  `/teams/`, ...); the Agents SDK's `TeamsServiceEndpoints.publicGlobal`.
- `smba.infra.gcc.teams.microsoft.com`, `smba.infra.gov.teams.microsoft.us`, `smba.infra.dod.teams.microsoft.us`:
  Teams in GCC, GCC High and DoD (`TeamsServiceEndpoints.gcc`, `.gccHigh`, `.dod`).
- `*.botframework.com`: the Bot Connector's other channels (`https://<channel>.botframework.com/`, e.g. webchat,
  directline), as in the Agents SDK's `OutboundHostValidator` defaults.

TEAMS_SERVICE_URL_HOSTS replaces the list (sovereign clouds, the Bot Framework Emulator, a test double). An entry is
a host name, or `*.` and a domain for any host under it. Only https is allowed, and plain http to a loopback address
(localhost, 127.0.0.0/8, ::1), so the token never crosses a network in clear text. A URL with user info, a
backslash, white space or control characters is refused: URL parsers disagree on those, and the host we check
must be the host the connector reaches.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "*.botframework.com",
)
WILDCARD = "*."


class ServiceUrls:
    """The allowed Bot Connector hosts; `allows(url)` says whether the bot may send there."""

    def __init__(self, hosts: Iterable[str] = DEFAULT_HOSTS) -> None:
        entries = [host.strip().lower() for host in hosts if host.strip()]
        self.hosts = tuple(entries)
        self._exact = frozenset(host for host in entries if not host.startswith(WILDCARD))
        self._domains = tuple(host.removeprefix("*") for host in entries if host.startswith(WILDCARD))

    def allows(self, url: str | None) -> bool:
        host = _host(url)
        if host is None:
            return False
        return host in self._exact or host.endswith(self._domains)


def _host(url: str | None) -> str | None:
    """The URL's host when it is a plain http(s) URL, http only for loopback; else None."""
    if not url or not url.isascii() or not url.isprintable() or any(c in url for c in " \\"):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    host = parts.hostname
    if not host or "@" in parts.netloc or parts.scheme not in ("https", "http"):
        return None
    if parts.scheme == "http" and not _loopback(host):
        return None
    return host


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
