"""What Debrief reads from a Teams message activity: text, mentions, room, the source's own time and key.

- The bot's own `<at>Name</at>` is removed (the SDK's `remove_recipient_mention`), so `<at>Debrief</at> !incident
  status` is a command and `<at>Debrief</at> what now?` a question; `mentions_bot` records that it was there.
- Other people's mentions become `@<their Teams id>`, the same id their own messages carry, so
  `!incident commander <at>Alice</at>` names the person who will later act as commander.
- A channel's room is the channel: `19:...@thread.tacv2`, without the `;messageid=` suffix a thread adds.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from microsoft_agents.activity import Activity, ChannelAccount

GROUP_CONVERSATIONS = ("channel", "groupChat")
THREAD_SUFFIX = ";messageid="


@dataclass(frozen=True)
class IncomingMessage:
    text: str
    mentions_bot: bool
    mentioned: tuple[ChannelAccount, ...]  # other people mentioned, in order
    room: str | None  # the channel or group chat; None in a one-to-one chat
    at: datetime | None  # when the user sent it, by Teams' clock
    source: str | None  # stable key of this message (dedupe, pins)


def read_message(activity: Activity) -> IncomingMessage:
    """Read a `message` activity addressed to the bot (`activity.recipient`)."""
    copy = activity.model_copy(deep=True)  # the SDK edits the text in place
    mentions_bot = copy.is_recipient_mentioned()
    text = copy.remove_recipient_mention() if mentions_bot else copy.text or ""
    others = [m for m in copy.get_mentions() if m.mentioned and m.mentioned.id != _recipient_id(copy)]
    for mention in others:
        if mention.text:
            text = text.replace(mention.text, f"@{mention.mentioned.id}")
    return IncomingMessage(
        text=_plain(text),
        mentions_bot=mentions_bot,
        mentioned=tuple(mention.mentioned for mention in others),
        room=room_of(activity),
        at=_aware(activity.timestamp),
        source=source_of(activity),
    )


def room_of(activity: Activity) -> str | None:
    conversation = activity.conversation
    if conversation is None or not conversation.id:
        return None
    if conversation.conversation_type in GROUP_CONVERSATIONS or conversation.is_group:
        return channel_of(conversation.id)
    return None


def channel_of(conversation_id: str) -> str:
    """`19:abc@thread.tacv2;messageid=17...` (a thread) -> `19:abc@thread.tacv2` (its channel)."""
    return conversation_id.split(THREAD_SUFFIX, 1)[0]


def source_of(activity: Activity) -> str | None:
    """`teams:<conversation>:<activity id>`: activity ids are only unique within a conversation."""
    return message_source(activity, activity.id)


def message_source(activity: Activity, message_id: str | None) -> str | None:
    """The key of message `message_id` in the activity's conversation (an edit's own id, a reaction's replyToId)."""
    if not message_id or activity.conversation is None or not activity.conversation.id:
        return None
    return f"teams:{channel_of(activity.conversation.id)}:{message_id}"


def _aware(at: datetime | None) -> datetime | None:
    """Teams stamps activities in UTC; a timestamp without a zone is read as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _recipient_id(activity: Activity) -> str | None:
    return activity.recipient.id if activity.recipient else None


def _plain(text: str) -> str:
    """Teams may send `&nbsp;` and entities in plain-text messages."""
    return html.unescape(text.replace("&nbsp;", " ")).replace("\xa0", " ").strip()
