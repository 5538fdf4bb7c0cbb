"""Sending activities to Teams through the Bot Connector REST API, with the Agents SDK's `ConnectorClient`.

The SDK's client is async (aiohttp); Errbot sends from many threads. One event loop on a daemon thread runs every
call, so callers just block on a future. Replies to a message go to
`{serviceUrl}/v3/conversations/{conversation}/activities/{replyToId}` (threaded), the rest to `.../activities`.
A refused token is renewed once; throttling and server errors are retried with a short backoff. Nothing is sent to a
`serviceUrl` outside the allowed Bot Connector hosts (`service_urls`), whatever the stored conversations say.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from agent.errors import DebriefError
from backends.teams.credentials import BotTokens
from backends.teams.service_urls import ServiceUrls

log = logging.getLogger(__name__)

TIMEOUT_S = 15.0
RETRY_DELAYS_S = (0.5, 2.0)
RETRYABLE = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class ConnectorError(DebriefError):
    """Teams did not accept an activity; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Connector:
    """Posts activities; `tokens` is None when the backend runs unauthenticated (no Authorization header)."""

    def __init__(
        self,
        tokens: BotTokens | None,
        service_urls: ServiceUrls | None = None,
        timeout_s: float = TIMEOUT_S,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        self._tokens = tokens
        self._service_urls = service_urls or ServiceUrls()
        self._timeout_s = timeout_s
        self._delays = tuple(retry_delays_s)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="teams-connector", daemon=True)
        self._thread.start()

    def send(
        self, service_url: str, conversation_id: str, activity: Activity, reply_to_id: str | None
    ) -> str | None:
        """Post `activity` (in `reply_to_id`'s thread when given); the new activity's id, if Teams returns one."""
        if not self._service_urls.allows(service_url):
            raise ConnectorError(f"not sending to {service_url!r}: not an allowed Bot Connector host")
        renewed = False
        for attempt, delay in enumerate((*self._delays, None)):
            try:
                token = self._tokens.get() if self._tokens else ""
                return self._run(self._post(service_url, conversation_id, activity, reply_to_id, token))
            except aiohttp.ClientResponseError as exc:
                error = ConnectorError(f"Teams answered {exc.status}: {exc.message}", exc.status)
                retry = exc.status in RETRYABLE
                if exc.status == 401 and self._tokens is not None and not renewed:
                    self._tokens.invalidate()  # revoked or rotated: one more try with a fresh token
                    renewed = retry = True
            except (aiohttp.ClientError, TimeoutError) as exc:
                error, retry = ConnectorError(f"cannot reach Teams at {service_url}: {exc!r}"), True
            if not retry or delay is None:
                raise error
            log.info("Teams: %s; retry %d in %.1fs", error, attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("the loop returns or raises")

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=self._timeout_s + 5)

    async def _post(
        self, service_url: str, conversation_id: str, activity: Activity, reply_to_id: str | None, token: str
    ) -> str | None:
        base = service_url if service_url.endswith("/") else f"{service_url}/"
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        async with aiohttp.ClientSession(base_url=base, timeout=timeout) as session:
            conversations = ConnectorClient(base, token, session=session).conversations
            if reply_to_id:
                response = await conversations.reply_to_activity(conversation_id, reply_to_id, activity)
            else:
                response = await conversations.send_to_conversation(conversation_id, activity)
        return response.id
