"""`!action add` and `!actions`: the incident's action items, with owner and due date. Anyone may add one."""

from __future__ import annotations

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.actions import ActionParseError, parse_action
from agent.filing import ListedAction, list_actions
from agent.models import ActionItem
from debrief.bot.chat import context_of
from debrief.bot.commands import ChatInputError, announce_to, incident_argument, replies_errors
from debrief.bot.runtime import UsesRuntime

ADD_USAGE = "!action add TEXT [@owner] [due:YYYY-MM-DD]"
LIST_USAGE = "Use !actions, or !actions INC-n for another incident"


class DebriefActions(UsesRuntime, BotPlugin):
    """Track the incident's action items."""

    @botcmd
    @replies_errors
    def action_add(self, msg: Message, args: str) -> str:
        """TEXT [@owner] [due:YYYY-MM-DD]: add an action item to this room's incident."""
        try:
            parsed = parse_action(args)
        except ActionParseError as exc:
            raise ChatInputError(f"Not added: {exc}; use {ADD_USAGE}") from None
        ctx = context_of(msg)
        # The message's source makes a redelivery (a Slack retry, a second replay) answer with the same item.
        item = self.engine.actions.add(
            ctx.incident(), parsed.title, parsed.owner, parsed.due, ctx.author, ctx.at, source=ctx.source
        )
        return f"Added to {item.incident_id}: {describe(ListedAction(item))}"

    @botcmd
    @replies_errors
    def actions(self, msg: Message, args: str) -> str:
        """[INC-n]: list the action items of this room's (or that) incident, with their tickets' status."""
        target = context_of(msg).incident(incident_argument(args, LIST_USAGE))
        listing = list_actions(self.engine, self.runtime.settings, target, announce=announce_to(self, msg))
        if not listing.actions:
            return f"{listing.incident_id} has no action items yet. Add one with {ADD_USAGE}"
        return "\n".join([f"{listing.incident_id} action items:", *map(describe, listing.actions)])


def describe(listed: ListedAction) -> str:
    """`A3 Add a retry budget (owner bob, due 2024-03-08) [filed] jira:OPS-12 (Done), github pending: ...`."""
    item: ActionItem = listed.item
    details = [f"owner {item.owner}"] if item.owner else ["no owner"]
    details += [f"due {item.due.isoformat()}"] if item.due else []
    notes = listed.ticket_notes()
    refs = f" {', '.join(notes)}" if notes else ""
    return f"A{item.id} {item.title} ({', '.join(details)}) [{item.status.value}]{refs}"
