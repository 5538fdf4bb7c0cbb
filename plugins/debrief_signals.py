"""`!incident service add|remove NAME`, `!incident services`, `!incident signals [attach S3]`.

Alerts and deploys go to the open incident whose services they name (`agent.signals.routing`); the rest wait as
unmatched signals that any room can list and attach to its own incident. Each command is one engine call.
"""

from __future__ import annotations

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.markup import literal
from agent.signals import (
    SignalRules,
    UnmatchedSignal,
    attach_signal,
    one_line,
    unmatched_signals,
)
from debrief.bot.chat import clock, context_of
from debrief.bot.claims import claimed_line
from debrief.bot.commands import ChatInputError, replies_errors
from debrief.bot.runtime import UsesRuntime


class DebriefSignals(UsesRuntime, BotPlugin):
    """An incident's services, and the signals no incident took."""

    @botcmd
    @replies_errors
    def incident_services(self, msg: Message, args: str) -> str:
        """The services of this room's incident: alerts and deploys naming them go on its timeline."""
        if args.strip():
            raise ChatInputError(
                "!incident services takes no arguments; add one with !incident service add NAME"
            )
        incident = self.engine.incidents.get(context_of(msg).incident())
        return _services_line(incident.id, incident.services)

    @botcmd
    @replies_errors
    def incident_service_add(self, msg: Message, args: str) -> str:
        """NAME: this incident is about NAME too; its alerts and deploys come here from now on."""
        ctx = context_of(msg)
        services = self.engine.incidents.add_service(ctx.incident(), _name(args, "add"), ctx.author, ctx.at)
        line = _services_line(self.engine.incidents.get(ctx.incident()).id, services)
        return " ".join([line, *claimed_line(self.engine, self.runtime.settings, ctx.incident(), ctx.author)])

    @botcmd
    @replies_errors
    def incident_service_remove(self, msg: Message, args: str) -> str:
        """NAME: a service named by mistake; its alerts stop coming here."""
        ctx = context_of(msg)
        services = self.engine.incidents.remove_service(
            ctx.incident(), _name(args, "remove"), ctx.author, ctx.at
        )
        return _services_line(self.engine.incidents.get(ctx.incident()).id, services)

    @botcmd
    @replies_errors
    def incident_signals(self, msg: Message, args: str) -> str:
        """Recent alerts and deploys no open incident took (last 24 hours); attach one with !incident signals
        attach S3."""
        if args.strip():
            raise ChatInputError("Use !incident signals, or !incident signals attach S3")
        found = unmatched_signals(self.engine)
        if not found:
            return "No unmatched alerts or deploys in the last 24 hours."
        lines = [_signal_line(signal) for signal in found]
        return "\n".join(
            ["Unmatched signals (newest first; !incident signals attach S3 to add one here):", *lines]
        )

    @botcmd
    @replies_errors
    def incident_signals_attach(self, msg: Message, args: str) -> str:
        """S3: put an unmatched alert or deploy on this room's incident, at its own time."""
        words = args.split()
        if len(words) != 1:
            raise ChatInputError("Name one signal: !incident signals attach S3 (see !incident signals)")
        ctx = context_of(msg)
        rules = SignalRules.from_settings(self.runtime.settings)
        attached = attach_signal(self.engine, rules, words[0], ctx.incident(), ctx.author)
        context = " as context from before the incident" if attached.context else ""
        return (
            f"{attached.signal_id} is on the {attached.incident_id} timeline{context} (E{attached.event_id})."
        )


def _name(args: str, verb: str) -> str:
    if not args.strip():
        raise ChatInputError(f"Name the service: !incident service {verb} NAME")
    return args.strip()


def _services_line(incident_id: str, services: list[str]) -> str:
    if not services:
        return f"{incident_id} has no services yet: add one with !incident service add NAME."
    names = literal(", ".join(services))  # a service may be named by PagerDuty
    return f"{incident_id} services: {names}. Alerts and deploys naming them go on its timeline."


def _signal_line(signal: UnmatchedSignal) -> str:
    """One line per signal, whatever the sender wrote (kept on one line since; older rows are made so here)."""
    labels = ", ".join(f"{k}={v}" for k, v in signal.routing.items()) or "no service named"
    text, labels = literal(one_line(signal.text)), literal(one_line(labels))
    return f"{signal.id}  {clock(signal.at)}  [{signal.kind.value}]  {text}  ({labels})"
