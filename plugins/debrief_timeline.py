"""The incident timeline in chat: every message in the room is captured, `!note` adds key events, a pin marks one.

Capture runs on the backend's receive thread, so it only enqueues (the engine's capture writer finds the room's
incident and commits, off that thread); reading commands flush first to show everything said.
"""

from __future__ import annotations

import re
from datetime import datetime

from errbot import BotPlugin, botcmd
from errbot.backends.base import REACTION_ADDED, Message, Reaction

from agent.capture import RoomMessage
from agent.markup import literal
from agent.models import EventKind, TimelineEvent
from debrief.bot.chat import PIN_REACTIONS, acknowledgement, clock, context_of, reaction_source
from debrief.bot.commands import ChatInputError, replies_errors
from debrief.bot.runtime import UsesRuntime

# `!timeline` shows the latest events only; the full record is in the database and the postmortem.
SHOWN = 50
TIMELINE_USAGE = "!timeline [--all] [INC-n]"
_EVENT_ID = re.compile(r"[Ee]?(\d{1,12})")


class DebriefTimeline(UsesRuntime, BotPlugin):
    """Keep the incident timeline: capture the room, add notes, show key events."""

    @botcmd
    @replies_errors
    def timeline_add(self, msg: Message, args: str) -> str:
        """TEXT: add a key event to the incident's timeline (alias: !note TEXT)."""
        return self._note(msg, args, "!timeline add TEXT")

    @botcmd
    @replies_errors
    def note(self, msg: Message, args: str) -> str:
        """TEXT: add a key event to the incident's timeline (same as !timeline add)."""
        return self._note(msg, args, "!note TEXT")

    @botcmd
    @replies_errors
    def timeline(self, msg: Message, args: str) -> str:
        """[--all] [INC-n]: the key events with their ids and times; --all adds every message.

        Without INC-n it shows this room's incident (its latest, resolved or not). Long timelines show their
        latest 50 events.
        """
        show_all, incident_id = parse_timeline_args(args)
        self.runtime.flush()
        page = self.engine.timeline.page(context_of(msg).incident(incident_id), not show_all, SHOWN)
        heading = f"{page.incident_id} {'events' if show_all else 'key events'}"
        if page.truncated:
            heading += f" (latest {SHOWN})"
        return render(heading, page.events)

    @botcmd
    @replies_errors
    def timeline_strike(self, msg: Message, args: str) -> str:
        """E12 REASON: hide a wrong event from the timeline and the postmortem (the audit trail keeps it)."""
        event_ref, _, reason = args.strip().partition(" ")
        ctx = context_of(msg)
        event = self.engine.timeline.strike(
            ctx.incident(), parse_event_id(event_ref), ctx.author, ctx.at, reason, ctx.name
        )
        return f"E{event.id} struck from the {event.incident_id} timeline: {literal(reason.strip())}"

    @botcmd
    @replies_errors
    def timeline_key(self, msg: Message, args: str) -> str:
        """E12: mark an event key (for the postmortem's timeline), where the platform has no pin reaction."""
        ctx = context_of(msg)
        event = self.engine.timeline.mark_key_by_id(ctx.incident(), parse_event_id(args), ctx.author)
        return f"E{event.id} is a key event of {event.incident_id}: {literal(event.text)}"

    def callback_message(self, msg: Message) -> None:
        """Queue a room message (not a command: commands record their own events) for its open incident; remember
        the name the platform shows for its author (commands' authors too)."""
        ctx = context_of(msg)
        if not msg.body.startswith(self._bot.bot_config.BOT_PREFIX) and msg.body.strip():
            ack = acknowledgement(msg)
            if ack is not None:
                ack.hold()  # the platform hears "got it" once the line is committed
            message = RoomMessage(ctx.room, ctx.at, ctx.name, msg.body, ctx.source)
            self.runtime.capture(message, ack.done if ack is not None else None)
        if ctx.shown and not self.engine.people.knows(ctx.author, ctx.shown):
            self.runtime.background.submit(self._remember, ctx.author, ctx.shown, ctx.at)

    def _remember(self, person_id: str, name: str, at: datetime) -> None:
        """Off the message's path: the platform's acknowledgement never waits for a name."""
        try:
            self.engine.people.learn(person_id, name, at)
        except Exception:  # documents show the id instead
            self.log.warning("Could not remember the name of %s", person_id, exc_info=True)

    def callback_reaction(self, reaction: Reaction) -> None:
        """A pin reaction marks the pinned message as a key event (backends that emit reactions, e.g. Slack)."""
        source = reaction_source(reaction.reacted_to or {})
        if reaction.action != REACTION_ADDED or reaction.reaction_name not in PIN_REACTIONS or source is None:
            return
        self.runtime.background.submit(self._pin, source)

    def _pin(self, source: str) -> None:
        self.runtime.flush()
        if self.engine.timeline.mark_key(source) is None:
            self.log.info("Pinned message %s is not on any incident timeline", source)

    def _note(self, msg: Message, args: str, usage: str) -> str:
        text = args.strip()
        if not text:
            raise ChatInputError(f"Say what to note: {usage}")
        ctx = context_of(msg)
        event = self.engine.timeline.record(
            ctx.incident(), ctx.at, ctx.name, text, kind=EventKind.NOTE, key=True, source=ctx.source
        )
        if event is None:
            return f"That note is already on the {self.engine.incidents.get(ctx.incident()).id} timeline."
        return f"Noted on the {event.incident_id} timeline at {clock(event.at)}."


def parse_timeline_args(args: str) -> tuple[bool, str | None]:
    """`[--all] [INC-n]` in any order."""
    show_all, incident_id = False, None
    for token in args.split():
        if token == "--all":
            show_all = True
        elif token.upper().startswith("INC-") and incident_id is None:
            incident_id = token
        else:
            raise ChatInputError(f"Unexpected {token!r}; use {TIMELINE_USAGE}")
    return show_all, incident_id


def render(heading: str, events: list[TimelineEvent]) -> str:
    if not events:
        return f"{heading}: none yet. Add one with !note TEXT."
    lines = [
        f"E{e.id}  {clock(e.at)}  {literal(e.author)}  [{e.kind.value}]  {literal(e.text)}" for e in events
    ]
    return "\n".join([f"{heading}:", *lines])


def parse_event_id(text: str) -> int:
    """`E12` (or `12`), as `!timeline` shows events."""
    match = _EVENT_ID.fullmatch(text.strip())
    if not match:
        raise ChatInputError(f"{text.strip()!r} is not an event id; `!timeline --all` shows them as E12")
    return int(match[1])
