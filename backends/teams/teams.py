"""Errbot backend for Microsoft Teams through the Bot Framework (Azure Bot Service) channel.

Inbound: Teams posts activities to `POST /api/messages`. The route lives on Errbot's own web server (the Webserver
plugin, which `debrief run` starts on DEBRIEF_HTTP_PORT), so the webhooks and Teams share one port and one server.
The request thread reads the body, at most DEBRIEF_MAX_BODY_BYTES of it (413 above), checks that it is an activity
(400), checks the token (401 and nothing recorded when it is wrong) and that the activity's `serviceUrl` is a
Microsoft Bot Connector host (403 otherwise: replies carry the bot's token), and queues the activity. The backend's
main loop hands queued activities to Errbot one at a time, in arrival order; the request answers 200 only once
what the activity made Debrief record is committed (`backends/acknowledgement.py`), else 503 and Bot Framework
delivers it again (its id makes that a no-op). A crash after a 200 loses nothing.

Edits (`messageUpdate`, `editMessage`) and deletions (`messageDelete`, `softDeleteMessage`) of a message are chat
changes for the plugins (`backends/chat_changes.py`); the configured reaction (`messageReaction`,
DEBRIEF_TEAMS_KEY_REACTION) marks the message it is on as key, as a pin does on Slack. A message's author is
recorded by display name (`extras["author_name"]`); roles and admins still go by the Teams id, and replies write
the ids of the people the backend has seen (authors, mentioned people) as their names (`agent/people.py`).

Outbound: replies go to the message's thread (`replyToId`) at its `serviceUrl`, with the bot's client-credentials
token; long replies go as Adaptive Cards, others as the Markdown Teams renders (`backends/rendering/teams.py`).
Without an app id the backend runs unauthenticated, for local testing.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from datetime import UTC, datetime
from typing import Any

import errbot.core_plugins
from errbot.backends.base import (
    ONLINE,
    REACTION_ADDED,
    Card,
    Identifier,
    Message,
    Person,
    Reaction,
    Room,
    RoomOccupant,
)
from errbot.core import ErrBot
from flask import request
from microsoft_agents.activity import Activity, Attachment, ChannelAccount, ConversationAccount

from agent.chat_edits import ChatChange
from agent.people import People
from backends.acknowledgement import Acknowledgement
from backends.chat_changes import dispatch_chat_change
from backends.redaction import RedactsOutgoing
from backends.rendering.blocks import Names
from backends.rendering.outgoing import Part, RendersOutgoing
from backends.rendering.teams import render_teams_text
from backends.request_body import BodyTooLarge, MalformedBody, drop_unread, read_body, refuse_body
from backends.teams.activities import channel_of, message_source, read_message, room_of
from backends.teams.activity_body import BadActivity, parse_activity
from backends.teams.auth import AuthError, KeysUnavailable, SigningKeys, TokenValidator, accepted_issuers
from backends.teams.cards import ADAPTIVE_CARD, errbot_card, text_card, wants_card
from backends.teams.connector import Connector, ConnectorError
from backends.teams.conversations import Conversations
from backends.teams.credentials import BotTokens
from backends.teams.identifiers import TeamsPerson, TeamsRoom, TeamsRoomOccupant
from backends.teams.registration import TeamsConfig
from backends.teams.service_urls import ServiceUrls

log = logging.getLogger(__name__)
# The SDK's connector logs two INFO lines per reply; Debrief logs what matters (failures) itself.
logging.getLogger("microsoft_agents").setLevel(logging.WARNING)
# The SDK's Activity model logs a traceback for every body that fails validation: `_accept` logs one line instead.
logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)

ROUTE = "/api/messages"
# What the key reaction counts as: the name Debrief's pin reactions share (debrief/bot/chat.py PIN_REACTIONS).
PIN = "pin"
# How long `/api/messages` waits for an activity to be recorded before it answers (Bot Framework waits 15 s).
ACK_WAIT_S = 10.0
STORAGE_KEY = "conversations"
POLL_S = 0.5

Response = tuple[dict[str, Any], int]


class TeamsBackend(RedactsOutgoing, RendersOutgoing, ErrBot):
    people: People

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.teams = TeamsConfig.from_identity(getattr(config, "BOT_IDENTITY", None) or {})
        self.bot_identifier = TeamsPerson(self.teams.bot_id, "Debrief")
        self._validator = _validator(self.teams)
        tokens = None
        if self.teams.app_id and self.teams.app_password:
            tokens = BotTokens(self.teams.token_url, self.teams.app_id, self.teams.app_password)
        self._service_urls = ServiceUrls(self.teams.service_url_hosts)
        self._connector = Connector(tokens, self._service_urls)
        self._inbox: queue.Queue[tuple[Activity, Acknowledgement]] = queue.Queue()
        self._stopping = threading.Event()
        self._conversations = Conversations()
        self.people = People()  # replies name people, not their Teams ids

    @property
    def mode(self) -> str:
        return "teams"

    # -- serving -------------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        if not self.teams.authenticated:
            log.warning(
                "TEAMS_APP_ID is not set: %s accepts unauthenticated activities (local testing only)", ROUTE
            )
        self._conversations = Conversations(self.get(STORAGE_KEY, {}))
        _add_route(self._receive)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self._stopping.set())
        self.connect_callback()  # activates the plugins, the Webserver among them
        self.reset_reconnection_count()
        try:
            while not self._stopping.is_set():
                self._handle_next(POLL_S)
        except KeyboardInterrupt:
            log.info("Interrupted, shutting down")
        finally:
            self._stopping.set()
            while not self._inbox.empty():  # everything answered 200 is handled before the plugins stop
                self._handle_next(0)
            self.disconnect_callback()
            self.shutdown()
            self._connector.close()

    def _receive(self) -> Response:
        """`POST /api/messages` (on a web server thread): read the bounded body, then `_accept` it."""
        environ = request.environ
        try:
            raw = read_body(environ, self.teams.max_body_bytes)
        except (BodyTooLarge, MalformedBody) as exc:
            status = refuse_body(environ, exc)
            log.warning("Teams: refused an activity: %s", exc)
            return {"error": str(exc)}, status
        drop_unread(environ)  # anything sent past its Content-Length
        return self._accept(raw, request.headers.get("Authorization"))

    def _accept(self, raw: bytes, authorization: str | None) -> Response:
        """Authenticate, queue, acknowledge."""
        if self._stopping.is_set():
            return {"error": "shutting down"}, 503
        if self._validator is not None and not authorization:
            log.warning("Teams: refused an activity: no bearer token")
            return {"error": "unauthorized"}, 401
        try:
            activity = parse_activity(raw)
        except BadActivity as exc:
            log.warning("Teams: refused an activity: %s", exc)
            return {"error": str(exc)}, 400
        if self._validator is not None:
            try:
                self._validator.validate(authorization, activity.service_url, str(activity.channel_id or ""))
            except KeysUnavailable as exc:
                log.error("Teams: %s", exc)
                return {"error": "cannot verify tokens right now"}, 503
            except AuthError as exc:
                log.warning("Teams: refused an activity: %s", exc)
                return {"error": "unauthorized"}, 401
        if not self._service_urls.allows(activity.service_url):
            log.warning(
                "Teams: refused an activity: serviceUrl %r is not an allowed Bot Connector host "
                "(TEAMS_SERVICE_URL_HOSTS)",
                activity.service_url,
            )
            return {"error": "serviceUrl is not a Microsoft Bot Connector host"}, 403
        ack = Acknowledgement()
        self._inbox.put((activity, ack))
        if not ack.wait(ACK_WAIT_S):  # Bot Framework delivers again; the activity's id makes that a no-op
            log.warning(
                "Teams: activity %s not recorded within %.0f s; answering 503", activity.id, ACK_WAIT_S
            )
            return {"error": "not recorded yet; deliver again"}, 503
        return {}, 200

    def _handle_next(self, timeout: float) -> None:
        try:
            activity, ack = self._inbox.get(timeout=timeout) if timeout else self._inbox.get_nowait()
        except queue.Empty:
            return
        try:
            self._handle(activity, ack)
        except Exception:
            log.exception("Teams: failed to handle activity %s", activity.id)
        finally:
            ack.settle()

    def _handle(self, activity: Activity, ack: Acknowledgement) -> None:
        if self._conversations.remember(activity):
            self[STORAGE_KEY] = self._conversations.as_data()
        if activity.type == "message" and activity.from_property and activity.conversation:
            self._on_message(activity, ack)
        elif activity.type in ("messageUpdate", "messageDelete"):
            self._on_change(activity, ack)
        elif activity.type == "messageReaction":
            self._on_reaction(activity)
        elif activity.type == "conversationUpdate" and room_of(activity):
            added = [member.id for member in activity.members_added or []]
            if self.bot_identifier.person in added:
                self.callback_room_joined(self.query_room(str(room_of(activity))))

    def _on_message(self, activity: Activity, ack: Acknowledgement) -> None:
        incoming = read_message(activity)
        sender = activity.from_property
        person = TeamsPerson(sender.id, sender.name, sender.aad_object_id)
        extras: dict[str, Any] = {"source": incoming.source, "teams_activity": activity, "ack": ack}
        if sender.name:
            extras["author_name"] = extras["author_shown"] = sender.name
        self.people.learn(sender.id, sender.name)
        for account in incoming.mentioned:
            self.people.learn(account.id, account.name)
        if incoming.at is not None:
            extras["at"] = incoming.at
        msg = Message(incoming.text, extras=extras)
        if incoming.room is not None:
            room = TeamsRoom(incoming.room, activity.conversation.name)
            msg.frm, msg.to = TeamsRoomOccupant(person, room), room
        else:
            msg.frm, msg.to = person, self.bot_identifier
        self.callback_message(msg)
        mentioned: list[Identifier] = [self.bot_identifier] if incoming.mentions_bot else []
        mentioned += [TeamsPerson(account.id, account.name) for account in incoming.mentioned]
        if mentioned:
            self.callback_mention(msg, mentioned)

    def _on_change(self, activity: Activity, ack: Acknowledgement) -> None:
        """An edited message (`editMessage`) or a deleted one (`softDeleteMessage`); undeletes are not followed."""
        event_type = (
            (activity.channel_data or {}).get("eventType")
            if isinstance(activity.channel_data, dict)
            else None
        )
        source = message_source(activity, activity.id)
        if source is None:
            return
        by = activity.from_property.id if activity.from_property else "teams"
        at = activity.timestamp or datetime.now(UTC)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if activity.type == "messageUpdate" and event_type in (None, "editMessage"):
            text = read_message(activity).text
            dispatch_chat_change(self, ChatChange("edit", source, by, at, text, ack))
        elif activity.type == "messageDelete" and event_type in (None, "softDeleteMessage"):
            dispatch_chat_change(self, ChatChange("delete", source, by, at, None, ack))

    def _on_reaction(self, activity: Activity) -> None:
        """The configured reaction on a message marks it key (as a pin reaction does)."""
        wanted = self.teams.key_reaction
        added = [reaction.type for reaction in activity.reactions_added or []]
        source = message_source(activity, activity.reply_to_id)
        if not wanted or wanted not in (str(kind).lower() for kind in added) or source is None:
            return
        sender = activity.from_property
        reaction = Reaction(
            reactor=TeamsPerson(sender.id, sender.name) if sender else None,
            action=REACTION_ADDED,
            timestamp=str(activity.timestamp or ""),
            reaction_name=PIN,
            reacted_to={"source": source},
        )
        self.callback_reaction(reaction)

    # -- sending -------------------------------------------------------------------------------------
    def render_reply(self, markdown: str, limit: int, names: Names | None) -> list[Part]:
        """A long reply as one Adaptive Card when it fits one, else Teams Markdown text, cut where it may be."""
        card = text_card(markdown, names) if wants_card(markdown) else None
        if card is not None:
            return [Part(str(card["fallbackText"]), card)]
        return [Part(text) for text in render_teams_text(markdown, limit, names)]

    def send_rendered(self, msg: Message, part: Part) -> None:
        super().send_rendered(msg, part)  # Errbot's own bookkeeping
        if not msg.body.strip():
            return
        if part.card is not None:
            try:
                self._send(msg, _card_activity(part.card, msg.body))
                return
            except ConnectorError as exc:
                if exc.status not in (400, 413):
                    log.error("Teams: cannot send to %s: %s", msg.to, exc)
                    return
                log.warning("Teams refused a card (%s); sending it as text", exc)
        text_format = "plain" if part.card is not None else "markdown"
        try:
            self._send(msg, Activity(type="message", text=msg.body, text_format=text_format))
        except ConnectorError as exc:
            log.error("Teams: cannot send to %s: %s", msg.to, exc)

    def send_card(self, card: Card) -> None:
        content = errbot_card(
            body=card.body or "",
            title=card.title or "",
            summary=card.summary,
            fields=tuple(card.fields or ()),
            link=card.link,
            image=card.image,
        )
        if content is None:  # too big for a card: the body as text
            self.send_message(card)
            return
        try:
            self._send(card, _card_activity(content, str(content["fallbackText"])))
        except ConnectorError as exc:
            log.error("Teams: cannot send a card to %s: %s", card.to, exc)

    def _send(self, msg: Message, activity: Activity) -> None:
        """Post in the parent message's thread when it is in the destination conversation, else to its address."""
        activity.from_property = ChannelAccount(id=self.bot_identifier.person, name=self.bot_identifier.nick)
        parent = _activity_of(msg.parent)
        if parent is not None and parent.id and parent.conversation and _same_conversation(parent, msg.to):
            activity.conversation = ConversationAccount(id=parent.conversation.id)
            activity.reply_to_id = parent.id
            self._connector.send(str(parent.service_url), parent.conversation.id, activity, parent.id)
            return
        key = _key_of(msg.to)
        address = self._conversations.address(key)
        if address is None:
            raise ConnectorError(
                f"no Teams conversation with {key} yet: someone must message the bot there first"
            )
        activity.conversation = ConversationAccount(id=address.conversation_id)
        self._connector.send(address.service_url, address.conversation_id, activity, None)

    def build_reply(
        self, msg: Message, text: str | None = None, private: bool = False, threaded: bool = False
    ) -> Message:
        """Replies go in the message's thread: Teams channels are threaded, and chats ignore the link."""
        response = self.build_message(text or "")
        response.frm = self.bot_identifier
        response.parent = msg
        if private:
            response.to = TeamsPerson(msg.frm.person, getattr(msg.frm, "fullname", None))
        else:
            response.to = msg.frm.room if isinstance(msg.frm, RoomOccupant) else msg.frm
        return response

    # -- identities ----------------------------------------------------------------------------------
    def build_identifier(self, text_representation: str) -> Identifier:
        """`19:...` is a channel or group chat, anything else a person's Teams id (`@` optional)."""
        text = text_representation.strip().removeprefix("@")
        if text.startswith("19:"):
            return self.query_room(text)
        return TeamsPerson(text)

    def query_room(self, room: str) -> TeamsRoom:
        return TeamsRoom(channel_of(room))

    def rooms(self) -> list[TeamsRoom]:
        return [TeamsRoom(room) for room in self._conversations.rooms()]

    def is_from_self(self, msg: Message) -> bool:
        return isinstance(msg.frm, TeamsPerson) and msg.frm.person == self.bot_identifier.person

    def change_presence(self, status: str = ONLINE, message: str = "") -> None:
        """Teams bots have no presence to set."""

    def prefix_groupchat_reply(self, message: Message, identifier: Identifier) -> None:
        super().prefix_groupchat_reply(message, identifier)
        message.body = f"@{getattr(identifier, 'nick', identifier)}: {message.body}"


def _validator(config: TeamsConfig) -> TokenValidator | None:
    if not config.app_id:
        return None
    keys = SigningKeys(config.openid_metadata_urls)
    return TokenValidator(config.app_id, accepted_issuers(config.tenant_id), keys)


def _add_route(view: Any) -> None:
    """Serve `view` at ROUTE on Errbot's web server (before it takes its first request)."""
    app = errbot.core_plugins.flask_app
    if not any(rule.rule == ROUTE for rule in app.url_map.iter_rules()):
        app.add_url_rule(ROUTE, endpoint="teams_messages", view_func=view, methods=["POST"])


def _card_activity(card: dict[str, Any], fallback: str) -> Activity:
    """The card as the message; its first line is the summary Teams shows in notifications."""
    activity = Activity(type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)])
    if fallback.strip():
        activity.summary = fallback.strip().splitlines()[0][:200]
    return activity


def _activity_of(msg: Message | None) -> Activity | None:
    activity = (msg.extras or {}).get("teams_activity") if msg is not None else None
    return activity if isinstance(activity, Activity) else None


def _same_conversation(parent: Activity, to: Identifier) -> bool:
    """A reply stays in its parent's thread unless it goes elsewhere (e.g. privately to the sender)."""
    room = room_of(parent)
    if isinstance(to, Room | RoomOccupant):
        return room is not None and _key_of(to) == room
    sender = parent.from_property.id if parent.from_property else None
    return room is None and isinstance(to, Person) and to.person == sender


def _key_of(identifier: Identifier) -> str:
    """Rooms by conversation id; a room occupant is reached in their room, as on Errbot's other backends."""
    if isinstance(identifier, RoomOccupant):
        return str(identifier.room)
    return str(getattr(identifier, "person", identifier))
