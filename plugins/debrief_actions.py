"""`!action add` and `!actions`: the incident's action items, with owner and due date. Anyone may add one."""

from __future__ import annotations

from collections.abc import Sequence

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.actions import ActionParseError, parse_action
from agent.filing import refresh_statuses
from agent.filing_report import ticket_note
from agent.models import ActionItem
from agent.outbox import Outbox, OutboxEntry
from debrief.chat import ChatInputError, context_of, user_errors
from debrief.runtime import UsesRuntime

ADD_USAGE = "!action add TEXT [@owner] [due:YYYY-MM-DD]"


class DebriefActions(UsesRuntime, BotPlugin):
    """Track the incident's action items."""

    @botcmd
    @user_errors
    def action_add(self, msg: Message, args: str) -> str:
        """TEXT [@owner] [due:YYYY-MM-DD]: add an action item to this room's incident."""
        try:
            parsed = parse_action(args)
        except ActionParseError as exc:
            raise ChatInputError(f"Not added: {exc}; use {ADD_USAGE}") from None
        ctx = context_of(msg)
        incident = self.runtime.open_incident(ctx.room)
        # The message's source makes a redelivery (a Slack retry, a second replay) answer with the same item.
        item = self.runtime.engine.actions.add(
            incident.id, parsed.title, parsed.owner, parsed.due, ctx.author, ctx.at, source=ctx.source
        )
        return f"Added to {incident.id}: {describe(item)}"

    @botcmd
    @user_errors
    def actions(self, msg: Message, args: str) -> str:
        """[INC-n]: list the action items of this room's (or that) incident, with their tickets' status."""
        words = args.split()
        if len(words) > 1 or (words and not words[0].upper().startswith("INC-")):
            raise ChatInputError("Use !actions, or !actions INC-n for another incident")
        incident = self.runtime.incident(context_of(msg).room, words[0] if words else None)
        refresh_statuses(
            self.runtime.engine, self.runtime.settings, incident.id
        )  # the trackers' current status
        items = self.runtime.engine.actions.list(incident.id)
        if not items:
            return f"{incident.id} has no action items yet. Add one with {ADD_USAGE}"
        tickets = Outbox(self.runtime.engine.store).by_action(incident.id)
        lines = [describe(item, tickets.get(item.id, [])) for item in items]
        return "\n".join([f"{incident.id} action items:", *lines])


def describe(item: ActionItem, tickets: Sequence[OutboxEntry] = ()) -> str:
    """`A3 Add a retry budget (owner bob, due 2024-03-08) [filed] jira:OPS-12 (Done), github pending: ...`."""
    details = [f"owner {item.owner}"] if item.owner else ["no owner"]
    details += [f"due {item.due.isoformat()}"] if item.due else []
    notes = [ticket_note(ticket) for ticket in tickets] or item.refs
    refs = f" {', '.join(notes)}" if notes else ""
    return f"A{item.id} {item.title} ({', '.join(details)}) [{item.status.value}]{refs}"
