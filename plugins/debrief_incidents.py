"""`!incident ...`: the incident lifecycle, one engine call per command.

Anyone in a room may start its incident; the commander (before one is named: whoever started it) and the admins
change it. Arguments are checked before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.incidents import parse_severity, service_names
from agent.models import Incident, Severity
from debrief.bot.chat import clock, context_of
from debrief.bot.commands import ChatInputError, replies_errors
from debrief.bot.runtime import UsesRuntime

START_USAGE = "!incident start TITLE [--sev SEVn] [--service NAME[,NAME...]]"


class StartRequest(NamedTuple):
    title: str
    severity: Severity | None
    service: str | None
    services: tuple[str, ...] = ()  # every service named (`--service a,b`), `service` first


class DebriefIncidents(UsesRuntime, BotPlugin):
    """Run the room's incident: start, status, severity, commander, impact, cause, mitigated, resolve."""

    @botcmd
    @replies_errors
    def incident_start(self, msg: Message, args: str) -> str:
        """TITLE [--sev SEVn] [--service NAME[,NAME...]]: open this room's incident.

        Whoever starts it may change it until `!incident commander @user` names a commander.
        """
        ctx, request = context_of(msg), parse_start(args)
        self.runtime.flush()  # what was said before the start stays off the new incident's timeline
        incident = self.engine.incidents.start(
            ctx.room,
            request.title,
            ctx.author,
            ctx.at,
            request.severity,
            request.service,
            services=request.services,
        )
        return (
            f"{incident.id} started: {incident.title}{_tags(incident)}. "
            f"{ctx.author} runs it until `!incident commander @user` names a commander; "
            "everything said here goes on its timeline."
        )

    @botcmd
    @replies_errors
    def incident_status(self, msg: Message, args: str) -> str:
        """Show this room's open incident: severity, commander, times, impact, cause."""
        _no_arguments(args, "!incident status")
        return describe(self.engine.incidents.get(context_of(msg).incident()))

    @botcmd
    @replies_errors
    def incident_sev(self, msg: Message, args: str) -> str:
        """SEVn [reason]: set the severity (commander or admin)."""
        level, _, reason = args.strip().partition(" ")
        if not level:
            raise ChatInputError(
                "Give a severity: !incident sev SEVn [reason], e.g. !incident sev SEV2 checkout down"
            )
        severity, ctx = parse_severity(level), context_of(msg)
        updated = self.engine.incidents.set_severity(ctx.incident(), severity, reason, ctx.author, ctx.at)
        why = f" ({updated.severity_reason})" if updated.severity_reason else ""
        return f"{updated.id} is now {updated.severity}{why}."

    @botcmd
    @replies_errors
    def incident_commander(self, msg: Message, args: str) -> str:
        """@user: name the incident commander (commander or admin)."""
        names = args.split()
        if len(names) != 1:
            raise ChatInputError("Name one person: !incident commander @user")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_commander(ctx.incident(), names[0], ctx.author, ctx.at)
        return f"{updated.commander} is now the commander of {updated.id}."

    @botcmd
    @replies_errors
    def incident_impact(self, msg: Message, args: str) -> str:
        """TEXT: record the customer impact (commander or admin)."""
        text = _required_text(args, "!incident impact TEXT", "the impact")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_impact(ctx.incident(), text, ctx.author, ctx.at)
        return f"{updated.id} impact: {updated.impact}"

    @botcmd
    @replies_errors
    def incident_cause(self, msg: Message, args: str) -> str:
        """TEXT: record the (suspected) cause (commander or admin)."""
        text = _required_text(args, "!incident cause TEXT", "the cause")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_cause(ctx.incident(), text, ctx.author, ctx.at)
        return f"{updated.id} cause: {updated.cause}"

    @botcmd
    @replies_errors
    def incident_private(self, msg: Message, args: str) -> str:
        """[off]: keep the incident out of the knowledge base and away from the LLM (commander or admin)."""
        if args.strip() not in ("", "off"):
            raise ChatInputError("Use !incident private, or !incident private off")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_private(ctx.incident(), args.strip() != "off", ctx.author, ctx.at)
        if updated.private:
            return (
                f"{updated.id} is private: its timeline never goes to the LLM (answers come from retrieval), "
                "and its postmortem stays out of the knowledge base."
            )
        return f"{updated.id} is no longer private."

    @botcmd
    @replies_errors
    def incident_mitigated(self, msg: Message, args: str) -> str:
        """Mark the impact as stopped; the fix may still be pending (commander or admin)."""
        _no_arguments(args, "!incident mitigated")
        ctx = context_of(msg)
        updated = self.engine.incidents.mitigate(ctx.incident(), ctx.author, ctx.at)
        return f"{updated.id} mitigated at {clock(ctx.at)}. Resolve it with !incident resolve once the fix is in."

    @botcmd
    @replies_errors
    def incident_resolve(self, msg: Message, args: str) -> str:
        """[TEXT]: resolve the incident, with an optional closing note (commander or admin)."""
        ctx = context_of(msg)
        self.runtime.flush()  # what was said before the resolve is still on its timeline
        updated = self.engine.incidents.resolve(ctx.incident(), ctx.author, ctx.at, args.strip() or None)
        return f"{updated.id} resolved at {clock(ctx.at)} after {_duration(updated)}. Its timeline is kept."


def parse_start(args: str) -> StartRequest:
    """`TITLE [--sev SEVn] [--service NAME]`, options anywhere; `ChatInputError` names what is wrong."""
    words: list[str] = []
    options: dict[str, str] = {}
    tokens = iter(args.split())
    for token in tokens:
        if not token.startswith("--"):
            words.append(token)
            continue
        name, _, value = token[2:].partition("=")
        if name not in ("sev", "service"):
            raise ChatInputError(f"Unknown option --{name}; use {START_USAGE}")
        value = value or next(tokens, "")
        if not value or value.startswith("--"):
            raise ChatInputError(f"--{name} needs a value; use {START_USAGE}")
        options[name] = value
    if not words:
        raise ChatInputError(f"Give the incident a title: {START_USAGE}")
    severity = parse_severity(options["sev"]) if "sev" in options else None
    services = tuple(service_names([options.get("service", "")]))
    return StartRequest(" ".join(words), severity, services[0] if services else None, services)


def describe(incident: Incident) -> str:
    """The status card: what, how bad, who, since when."""
    lines = [
        f"{incident.id} {incident.title}: {incident.status.value}{_tags(incident)}",
        f"Commander: {incident.commander or 'not named yet'}",
        f"Started: {clock(incident.started_at)}",
    ]
    if incident.mitigated_at:
        lines.append(f"Mitigated: {clock(incident.mitigated_at)}")
    if incident.severity_reason:
        lines.append(f"Severity reason: {incident.severity_reason}")
    lines.append(f"Impact: {incident.impact or 'not recorded yet'}")
    lines.append(f"Cause: {incident.cause or 'not recorded yet'}")
    return "\n".join(lines)


def _tags(incident: Incident) -> str:
    tags = [tag for tag in (incident.severity, incident.service and f"service {incident.service}") if tag]
    return f" ({', '.join(tags)})" if tags else ""


def _duration(incident: Incident) -> str:
    end = incident.resolved_at or incident.started_at
    minutes = max(0, int((end - incident.started_at).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _required_text(args: str, usage: str, what: str) -> str:
    text = args.strip()
    if not text:
        raise ChatInputError(f"Say what {what} is: {usage}")
    return text


def _no_arguments(args: str, usage: str) -> None:
    if args.strip():
        raise ChatInputError(f"{usage} takes no arguments")
