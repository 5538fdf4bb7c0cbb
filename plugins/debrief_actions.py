"""`!action add|edit|done|drop` and `!actions`: an incident's action items, before and after it is resolved.

Anyone in the incident's room adds and changes them (admins from anywhere); the engine audits who and why. In a
room, `A2` is the second item of the room's incident (its latest, resolved or not); `INC-3/A2` names any
incident's item. The quality gate answers at once what an added or edited item still lacks.
"""

from __future__ import annotations

from datetime import date

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.actions import (
    ActionChange,
    ActionParseError,
    check,
    parse_action,
    parse_drop,
    parse_edit,
    parse_ref,
)
from agent.filing import (
    ChangeRun,
    ListedAction,
    complete_action,
    drop_action,
    edit_action,
    list_actions,
    overdue_actions,
)
from agent.models import ActionItem, ActionStatus
from debrief.bot.chat import context_of
from debrief.bot.commands import ChatInputError, announce_to, incident_argument, replies_errors
from debrief.bot.runtime import UsesRuntime

ADD_USAGE = "!action add TEXT [@owner] [due:YYYY-MM-DD]"
EDIT_USAGE = "!action edit A2 [TEXT] [@owner] [due:YYYY-MM-DD]"
DONE_USAGE = "!action done A2"
DROP_USAGE = "!action drop A2 REASON"
LIST_USAGE = "Use !actions, !actions INC-n for another incident, or !actions --overdue"


class DebriefActions(UsesRuntime, BotPlugin):
    """Track the incident's action items: add, edit, done, drop, list (A2 here, INC-3/A2 anywhere)."""

    @botcmd
    @replies_errors
    def action_add(self, msg: Message, args: str) -> str:
        """TEXT [@owner] [due:YYYY-MM-DD]: add an action item to this room's incident (after resolve too)."""
        try:
            parsed = parse_action(args)
        except ActionParseError as exc:
            raise ChatInputError(f"Not added: {exc}; use {ADD_USAGE}") from None
        ctx = context_of(msg)
        # The message's source makes a redelivery (a Slack retry, a second replay) answer with the same item.
        item = self.engine.actions.add(
            ctx.incident(),
            parsed.title,
            parsed.owner,
            parsed.due,
            ctx.author,
            ctx.at,
            source=ctx.source,
        )
        lines = [f"Added to {item.incident_id}: {describe(ListedAction(item))}"]
        return "\n".join(lines + revision_note(item.ref, check(item, ctx.at.date())))

    @botcmd
    @replies_errors
    def action_edit(self, msg: Message, args: str) -> str:
        """A2 [TEXT] [@owner] [due:YYYY-MM-DD]: change an item's text, owner or due date; its tickets follow."""
        try:
            edit = parse_edit(args)
        except ActionParseError as exc:
            raise ChatInputError(f"Not changed: {exc}; use {EDIT_USAGE}") from None
        ctx = context_of(msg)
        run = edit_action(
            self.engine,
            self.runtime.settings,
            ctx.incident(edit.ref.incident_id),
            edit.ref.number,
            title=edit.title,
            owner=edit.owner,
            due=edit.due,
            by=ctx.author,
            at=ctx.at,
            announce=announce_to(self, msg),
        )
        return describe_run(run)

    @botcmd
    @replies_errors
    def action_done(self, msg: Message, args: str) -> str:
        """A2: mark an action item done; its tickets are closed."""
        words = args.split()
        if len(words) != 1:
            raise ChatInputError(f"Say which one item is done: {DONE_USAGE}")
        try:
            ref = parse_ref(words[0])
        except ActionParseError as exc:
            raise ChatInputError(f"Not changed: {exc}; use {DONE_USAGE}") from None
        ctx = context_of(msg)
        target = ctx.incident(ref.incident_id)
        run = complete_action(
            self.engine,
            self.runtime.settings,
            target,
            ref.number,
            by=ctx.author,
            announce=announce_to(self, msg),
        )
        return describe_run(run)

    @botcmd
    @replies_errors
    def action_drop(self, msg: Message, args: str) -> str:
        """A2 REASON: close an action item that will not be done, saying why; its tickets are closed."""
        try:
            ref, reason = parse_drop(args)
        except ActionParseError as exc:
            raise ChatInputError(f"Not changed: {exc}; use {DROP_USAGE}") from None
        ctx = context_of(msg)
        target = ctx.incident(ref.incident_id)
        run = drop_action(
            self.engine,
            self.runtime.settings,
            target,
            ref.number,
            reason,
            by=ctx.author,
            announce=announce_to(self, msg),
        )
        return describe_run(run)

    @botcmd
    @replies_errors
    def actions(self, msg: Message, args: str) -> str:
        """[INC-n | --overdue]: this room's (or that) incident's action items with their tickets' status; --overdue:
        open items past their due date, of this room's incidents (admins: all)."""
        ctx = context_of(msg)
        if args.strip() == "--overdue":
            return self._overdue(msg, ctx.author, ctx.room, ctx.at.date())
        named = incident_argument(args, LIST_USAGE)
        target = ctx.incident(named)
        listing = list_actions(self.engine, self.runtime.settings, target, announce=announce_to(self, msg))
        if not listing.actions:
            return f"{listing.incident_id} has no action items yet. Add one with {ADD_USAGE}"
        lines = [describe(listed, qualified=named is not None) for listed in listing.actions]
        return "\n".join([f"{listing.incident_id} action items:", *lines])

    def _overdue(self, msg: Message, asker: str, room: str, today: date) -> str:
        listing = overdue_actions(
            self.engine, self.runtime.settings, today, asker=asker, room=room, announce=announce_to(self, msg)
        )
        where = "" if self.engine.roles.is_admin(asker) else " in this room's incidents"
        if not listing.actions:
            return f"No overdue action items{where}."
        lines = [describe(listed, qualified=True, today=today) for listed in listing.actions]
        return "\n".join([f"Overdue action items{where}:", *lines])


def describe(listed: ListedAction, *, qualified: bool = False, today: date | None = None) -> str:
    """`A3 Add a retry budget (owner bob, due 2024-03-08) [filed] jira:OPS-12 (Done), github pending: ...`.

    `qualified` names the item `INC-3/A3` (listed outside its room); `today` says how long it is overdue.
    """
    item: ActionItem = listed.item
    details = [f"owner {item.owner}"] if item.owner else ["no owner"]
    if item.due:
        late = (today - item.due).days if today else 0
        details.append(f"due {item.due.isoformat()}" + (f", {_days(late)} overdue" if late > 0 else ""))
    notes = listed.ticket_notes()
    refs = f" {', '.join(notes)}" if notes else ""
    status = item.status.value
    if item.status is ActionStatus.DROPPED and item.drop_reason:
        status += f": {item.drop_reason}"
    name = item.qualified_ref if qualified else item.ref
    return f"{name} {item.title} ({', '.join(details)}) [{status}]{refs}"


def describe_run(run: ChangeRun) -> str:
    """What the change did, the item as it stands, what it still lacks, and each ticket's update."""
    change, item = run.change, run.change.item
    lines = [_headline(change), describe(ListedAction(item), qualified=True)]
    lines += revision_note(item.qualified_ref, change.problems)
    if run.tickets:
        lines.append("Tickets: " + ", ".join(result.describe() for result in run.tickets))
    if run.untracked:
        lines.append(
            f"Not updated (their tracker is not configured in DEBRIEF_TRACKERS): {', '.join(run.untracked)}"
        )
    return "\n".join(lines)


def revision_note(ref: str, problems: list[str]) -> list[str]:
    """What the quality gate still finds missing, and how to fix it; nothing when it passes."""
    if not problems:
        return []
    return [
        f"Needs revision before it can be filed: {'; '.join(problems)}. Fix it with !action edit {ref} ..."
    ]


def _headline(change: ActionChange) -> str:
    item = change.item
    if not change.changed:
        return f"{item.qualified_ref} already says that; nothing changed."
    if item.status is ActionStatus.DONE:
        return f"{item.qualified_ref} is done."
    if item.status is ActionStatus.DROPPED:
        return f"{item.qualified_ref} is dropped: {item.drop_reason}"
    return f"Edited {item.qualified_ref}: " + ", ".join(
        _changed(name, before, after) for name, (before, after) in change.changes.items()
    )


def _changed(name: str, before: str | None, after: str | None) -> str:
    if name == "title":
        return f"text was {before!r}"
    return f"{name} {before} -> {after}" if before else f"{name} set to {after}"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
