"""The bot's own access token for the Bot Connector: OAuth client credentials, cached until shortly before expiry.

Not the Agents SDK's MSAL provider: MSAL discovers and validates its authority against login.microsoftonline.com,
so it cannot use a configured token endpoint (sovereign clouds, the tests' fake) and would add a dependency for
one form POST.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from agent.errors import DebriefError

BOT_CONNECTOR_SCOPE = "https://api.botframework.com/.default"
EXPIRY_MARGIN_S = 300.0  # renew five minutes early: a reply never leaves with a token about to lapse
HTTP_TIMEOUT_S = 10.0


class TokenError(DebriefError):
    """The token endpoint refused the bot's credentials or could not be reached."""


class BotTokens:
    """Hands out a valid bearer token, asking the token endpoint only when the cached one is (nearly) expired."""

    def __init__(
        self,
        token_url: str,
        app_id: str,
        app_password: str,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        scope: str = BOT_CONNECTOR_SCOPE,
    ) -> None:
        self._url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": app_password,
            "scope": scope,
        }
        self._session = session or requests.Session()
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = self._request()
                self._renew_at = self._clock() + max(0.0, lifetime - EXPIRY_MARGIN_S)
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (the connector refused it): the next `get` asks for a new one."""
        with self._lock:
            self._token = None

    def _request(self) -> tuple[str, float]:
        try:
            response = self._session.post(self._url, data=self._form, timeout=HTTP_TIMEOUT_S)
        except requests.RequestException as exc:
            raise TokenError(f"cannot reach the token endpoint {self._url}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise TokenError(
                f"the token endpoint answered {response.status_code}: {reason or response.reason}"
            )
        return str(body["access_token"]), float(body.get("expires_in", 3600))
