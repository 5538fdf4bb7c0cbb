"""Slack for Debrief: errbot-backend-slackv3's backend, with what Debrief needs configured through its constructor.

- Every Slack client talks to `api_url` (BOT_IDENTITY; SLACK_API_URL, e.g. GovSlack's https://slack-gov.com/api/)
  and waits out HTTP 429 after Slack's Retry-After. The Socket Mode client asks that `WebClient` for
  `apps.connections.open`, so the websocket URL comes from the same API.
- Events API requests with a bad signature get a 403 and one log line, not a traceback.
- In a command, a person Slack writes as `<@U123>` reads `@U123`, as on every other backend.
- Every message carries what Debrief reads on any backend (`extras`): its time (Slack's `ts`, exactly), a stable
  source key (channel and `ts`, for dedupe and pins) and its room keyed by channel id (a rename keeps the incident).
- People are kept by their Slack id (roles, commanders, owners, the timeline); replies write the ids of the people
  the backend has seen (authors, mentioned people) as the names Slack shows (`agent/people.py`).
- A reply to a message inside a thread goes to the thread's root, as `chat.postMessage` asks.
- An event is acknowledged (Socket Mode ack, Events API 200) only once what it made Debrief record is committed.
- An edited message (`message_changed`) or a deleted one (`message_deleted`) is a chat change for the plugins
  (`backends/chat_changes.py`), never a new message; "Pin to channel" (`pin_added`) is a pin reaction; channel
  joins, leaves, topic changes and other bots' messages are not dispatched at all.
- Replies are written as Slack mrkdwn by `backends.rendering.slack` (the upstream converter is switched off) and
  cut into messages only where a cut is safe.

Errbot loads this file as a backend plugin (`slack.plug`) and takes the one `ErrBot` subclass it defines, so the
upstream module is imported as a module, never its class by name.
"""

from __future__ import annotations

import logging
import re
import threading
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from errbot.backends.base import REACTION_ADDED, Message, Reaction
from errbot.core_plugins import flask_app
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.rtm_v2 import RTMClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient
from slackeventsapi import SlackEventAdapter
from slackv3 import slackv3 as upstream

from agent.chat_edits import ChatChange
from agent.people import People
from backends.acknowledgement import Acknowledgement
from backends.chat_changes import dispatch_chat_change
from backends.redaction import RedactsOutgoing
from backends.rendering.blocks import Names
from backends.rendering.outgoing import AsWritten, Part, RendersOutgoing
from backends.rendering.slack import render_slack

log = logging.getLogger(__name__)
# The acknowledgement of the event being dispatched on this thread, for `callback_message` to attach.
_incoming: ContextVar[Acknowledgement | None] = ContextVar("debrief_slack_ack", default=None)

# The backend acknowledges a Socket Mode event before handling it: a reply or lookup that failed on a rate limit
# would be lost, so each call waits out Retry-After this many times before giving up.
RATE_LIMIT_RETRIES = 3
SLACK_MENTION = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>")
# Scopes of a classic Slack app, which only the RTM API serves (as errbot-backend-slackv3 decides).
CLASSIC_SCOPES = frozenset(
    {"apps", "bot", "bot:basic", "client", "files:write:user", "identify", "post", "read"}
)
# Message subtypes that are no one's words: membership, channel settings, pins (the `pin_added` event says it).
NOT_SAID = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "channel_posting_permissions",
        "bot_add",
        "bot_remove",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
        "ekm_access_denied",
        "message_replied",
    }
)
# What a pin counts as: the name Debrief's pin reactions share (debrief/bot/chat.py PIN_REACTIONS).
PIN = "pin"


class DebriefSlackBackend(RedactsOutgoing, RendersOutgoing, upstream.SlackBackend):
    people: People

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        api_url = (getattr(config, "BOT_IDENTITY", None) or {}).get("api_url")
        self.api_url = api_url.rstrip("/") + "/" if api_url else None
        self.md = AsWritten()  # replies arrive as mrkdwn already (`render_reply`)
        self.people = People()  # replies name people, not their Slack ids

    def render_reply(self, markdown: str, limit: int, names: Names | None) -> list[Part]:
        return [Part(part) for part in render_slack(markdown, limit, names)]

    # -- clients -----------------------------------------------------------------------------------
    def web_client(self) -> WebClient:
        """The Web API client every other client is built on: Debrief's base URL and retries."""
        retries = [
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ]
        base_url = {"base_url": self.api_url} if self.api_url else {}
        return WebClient(token=self.token, proxy=self.proxies, retry_handlers=retries, **base_url)

    def rtm_client(self) -> RTMClient:
        """The Real Time Messaging client of a classic Slack app, on the same API."""
        base_url = {"base_url": self.api_url} if self.api_url else {}
        return RTMClient(token=self.token, proxy=self.proxies, auto_reconnect_enabled=True, **base_url)

    def events_adapter(self) -> SlackEventAdapter:
        """Events API on Errbot's web server; a forged request is refused with one log line."""
        adapter = SlackEventAdapter(self.signing_secret, "/slack/events", flask_app)
        # slackeventsapi emits refusals as an "error" event; with nobody listening the emitter raises, and the
        # forger would get a 500 and fill the log with tracebacks.
        adapter.on("error", lambda exc: log.warning("Refused a Slack Events API request: %s", exc))
        return adapter

    def serve_once(self) -> bool | None:
        """Connect as errbot-backend-slackv3 does (RTM for classic apps, else Socket Mode or the Events API)."""
        self.slack_web = self.web_client()
        self.auth = self.slack_web.auth_test()
        self.bot_identifier = upstream.SlackPerson(self.slack_web, self.auth["user_id"])
        self.update_alternate_prefixes()
        scopes = set(self.auth.headers.get("x-oauth-scopes", "").split(","))
        if CLASSIC_SCOPES.issuperset(scopes):
            log.info("Using RTM API.")
            self._connect_rtm()
        elif self.app_token:
            log.info("Using Events API - Socket mode client.")
            self._connect_socket_mode()
        else:
            log.info("Using Events API - HTTP listener for request URLs.")
            if not self.signing_secret:
                raise upstream.SlackAPIResponseError(
                    error="SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) is needed to receive events"
                )
            self.slack_events = self.events_adapter()
            self._setup_event_callbacks()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            log.info("Interrupt received, shutting down..")
            return True
        finally:
            self.disconnect_callback()
        return None

    def _connect_rtm(self) -> None:
        self.slack_rtm = self.rtm_client()

        @self.slack_rtm.on("*")
        def _rtm_event(client: RTMClient, event: dict[str, Any]) -> Any:
            handler = getattr(self, f"_rtm_handle_{event['type']}", None)
            return handler(client, event) if handler else None

        self.slack_rtm.connect()  # type: ignore[no-untyped-call]

    def _connect_socket_mode(self) -> None:
        self.slack_socket_mode = SocketModeClient(app_token=self.app_token, web_client=self.slack_web)
        self.slack_socket_mode.message_listeners.append(self._sm_handle_hello)
        self.slack_socket_mode.socket_mode_request_listeners.append(self._sm_generic_event_handler)
        self.slack_socket_mode.connect()

    # -- messages in -------------------------------------------------------------------------------
    def _sm_generic_event_handler(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        """Socket Mode: handle the event first and ack it once what it made Debrief record is committed.

        errbot-backend-slackv3 acks before handling, so a crash right after loses the event. Without an ack
        within 3 s Slack delivers it again (a no-op: the message's key); past our wait we do not ack.
        """
        if self._generic_wrapper(req.payload):
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        else:
            log.warning(
                "Slack event %s not recorded in time: not acknowledged, Slack delivers it again",
                req.envelope_id,
            )

    def _generic_wrapper(self, event_data: dict[str, Any]) -> bool:
        """Dispatch one event (Socket Mode or Events API); True once what it made Debrief record is committed.

        The Events API answers 200 when this returns: waiting here puts the answer after the commit.
        """
        ack = Acknowledgement()
        token = _incoming.set(ack)
        try:
            super()._generic_wrapper(event_data)
        finally:
            _incoming.reset(token)
            ack.settle()
        return ack.wait()

    def _handle_message(self, webclient: WebClient, event: dict[str, Any]) -> None:
        """Edits and deletions are chat changes; what no person said is not dispatched; the rest as upstream."""
        subtype = event.get("subtype")
        if subtype == "message_changed":
            self._changed(event)
        elif subtype == "message_deleted":
            self._deleted(event)
        elif subtype in NOT_SAID or subtype == "bot_message" or event.get("bot_id"):
            log.debug("Slack: not a person's message (%s), not captured", subtype or "bot")
        else:
            super()._handle_message(webclient, event)

    def _handle_pin_added(self, webclient: WebClient, event: dict[str, Any]) -> None:
        """ "Pin to channel" marks the message key, as a pin reaction does."""
        item = event.get("item") or {}
        message = item.get("message") or {}
        channel = item.get("channel") or event.get("channel_id")
        ts = message.get("ts") or item.get("ts")
        if not channel or not ts:
            return
        reaction = Reaction(
            reactor=upstream.SlackPerson(webclient, event.get("user")),
            action=REACTION_ADDED,
            timestamp=event.get("event_ts"),
            reaction_name=PIN,
            reacted_to={"type": "message", "channel": channel, "ts": ts},
        )
        self.callback_reaction(reaction)

    def _changed(self, event: dict[str, Any]) -> None:
        message, previous = event.get("message") or {}, event.get("previous_message") or {}
        ts, channel = message.get("ts") or previous.get("ts"), event.get("channel")
        if not ts or not channel or message.get("bot_id") or message.get("text") == previous.get("text"):
            return  # a link unfurled, a bot's message, or nothing said differently
        text, _ = self.process_mentions(str(message.get("text") or ""))
        edited = message.get("edited") or {}
        by = edited.get("user") or message.get("user") or "slack"
        at = slack_time(str(edited.get("ts") or event.get("event_ts") or event.get("ts") or ts))
        change = ChatChange(
            "edit", slack_source(str(channel), str(ts)), str(by), at, self.sanitize_uris(text)
        )
        self._dispatch_change(change)

    def _deleted(self, event: dict[str, Any]) -> None:
        previous = event.get("previous_message") or {}
        ts, channel = event.get("deleted_ts") or previous.get("ts"), event.get("channel")
        if not ts or not channel:
            return
        at = slack_time(str(event.get("event_ts") or event.get("ts") or ts))
        self._dispatch_change(ChatChange("delete", slack_source(str(channel), str(ts)), "slack", at))

    def _dispatch_change(self, change: ChatChange) -> None:
        dispatch_chat_change(self, replace(change, ack=_incoming.get()))

    def callback_message(self, msg: Message) -> None:
        event = (msg.extras or {}).get("slack_event")
        if isinstance(event, dict):
            msg.extras.update(message_facts(event))
        ack = _incoming.get()
        if ack is not None:
            msg.extras["ack"] = ack
        shown = shown_name(msg.frm)
        self.people.learn(str(getattr(msg.frm, "userid", "") or ""), shown)
        if shown:
            msg.extras["author_shown"] = shown  # documents name people (`agent.people.Directory`)
        prefix = str(getattr(self.bot_config, "BOT_PREFIX", "!"))
        if isinstance(msg.body, str) and msg.body.startswith(prefix):
            msg.body = plain_mentions(msg.body)
        super().callback_message(msg)

    def process_mentions(self, text: str) -> tuple[str, list[Any]]:
        """Upstream's, which looks every mentioned person up: replies may name them from now on."""
        text, mentioned = super().process_mentions(text)
        for identifier in mentioned:
            self.people.learn(str(getattr(identifier, "userid", "") or ""), shown_name(identifier))
        return text, mentioned

    def callback_reaction(self, reaction: Reaction) -> None:
        item = reaction.reacted_to
        if isinstance(item, dict) and item.get("channel") and item.get("ts"):
            item["source"] = slack_source(str(item["channel"]), str(item["ts"]))
        super().callback_reaction(reaction)

    # -- messages out ------------------------------------------------------------------------------
    def send_message(self, msg: Message) -> Any:
        # Slack links "@here", "@channel" and "@team" written as plain text when asked to (slackv3 asks by
        # default): a note or an alert saying "@here", shown again by !timeline, would ping the channel each time.
        # Debrief writes the mentions it means as Slack's own references (<@U123>), which need no linking.
        msg.extras["link_names"] = False
        root = thread_root(getattr(msg, "parent", None))
        if root is not None:
            msg.extras["thread_ts"] = root
            msg.parent = None  # else the backend would thread it under the reply's own ts again
        return super().send_message(msg)


def shown_name(person: object) -> str:
    """The name Slack shows for a person: the display name, else the full name ("" for a bot or a room)."""
    return str(getattr(person, "username", "") or getattr(person, "fullname", "") or "").strip()


def message_facts(event: dict[str, Any]) -> dict[str, Any]:
    """What Debrief reads of a Slack message event on any backend: `at`, `source` and `room`."""
    facts: dict[str, Any] = {}
    edited = event.get("message")  # a message_changed event carries the message it changed
    message = edited if isinstance(edited, dict) else event
    channel = event.get("channel")
    if message.get("ts"):
        facts["at"] = slack_time(str(message["ts"]))
        if channel:
            facts["source"] = slack_source(str(channel), str(message["ts"]))
    if isinstance(channel, str) and channel[:1] in ("C", "G"):
        facts["room"] = f"<#{channel}>"
    return facts


def slack_time(ts: str) -> datetime:
    """Slack's `ts` ("1709287380.000100": seconds.microseconds) exactly, without float rounding."""
    seconds, _, micros = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int(micros.ljust(6, "0")[:6]))


def slack_source(channel: str, ts: str) -> str:
    return f"slack:{channel}:{ts}"


def plain_mentions(text: str) -> str:
    """`<@U123>` and `<@U123|bob>` -> `@U123`."""
    return SLACK_MENTION.sub(lambda match: "@" + match[1], text)


def thread_root(parent: object) -> str | None:
    """The `thread_ts` of a Slack message that is itself a reply in a thread, else None."""
    extras = getattr(parent, "extras", None) or {}
    event = extras.get("slack_event") if isinstance(extras, dict) else None
    if not isinstance(event, dict):
        return None
    root = event.get("thread_ts")
    return str(root) if root and root != event.get("ts") else None
