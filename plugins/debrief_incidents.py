"""`!incident ...`: the incident lifecycle, one engine call per command.

Anyone in a room may start its incident, and set its severity (with a reason), impact and cause; its lead (the
commander, before one is named whoever started it) and the admins mark it mitigated or resolved, hand it over and
correct its milestones. The room's commands keep working on its latest incident after the resolve, until a new
one starts. Arguments are checked before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.incidents import InRoom, parse_severity, service_names
from agent.markup import literal
from agent.models import Incident, Severity
from debrief.bot.chat import clock, context_of
from debrief.bot.claims import claimed_line
from debrief.bot.commands import ChatInputError, replies_errors
from debrief.bot.runtime import UsesRuntime

START_USAGE = "!incident start TITLE [--sev SEVn] [--service NAME[,NAME...]]"
SET_USAGE = "!incident set started|detected|mitigated|resolved|impact-start|impact-end TIME [reason]"


class StartRequest(NamedTuple):
    title: str
    severity: Severity | None
    service: str | None
    services: tuple[str, ...] = ()  # every service named (`--service a,b`), `service` first


class DebriefIncidents(UsesRuntime, BotPlugin):
    """Run the room's incident: start, status, severity, commander, impact, cause, mitigated, resolve, corrections."""

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
        started = (
            f"{incident.id} started: {literal(incident.title)}{_tags(incident)}. "
            f"{ctx.author} runs it until `!incident commander @user` names a commander; "
            "everything said here goes on its timeline."
        )
        return " ".join([started, *claimed_line(self.engine, self.runtime.settings, incident.id, ctx.author)])

    @botcmd
    @replies_errors
    def incident_status(self, msg: Message, args: str) -> str:
        """Show this room's incident (its latest, resolved or not): severity, commander, times, impact, cause."""
        _no_arguments(args, "!incident status")
        return describe(self.engine.incidents.get(context_of(msg).incident()))

    @botcmd
    @replies_errors
    def incident_sev(self, msg: Message, args: str) -> str:
        """SEVn REASON: set the severity, saying why (anyone; the lead may leave the reason out)."""
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
        """@user: hand the incident over to a new commander (the commander or an admin)."""
        names = args.split()
        if len(names) != 1:
            raise ChatInputError("Name one person: !incident commander @user")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_commander(ctx.incident(), names[0], ctx.author, ctx.at)
        return f"{updated.commander} is now the commander of {updated.id}."

    @botcmd
    @replies_errors
    def incident_impact(self, msg: Message, args: str) -> str:
        """TEXT: record the customer impact (anyone in the room)."""
        text = _required_text(args, "!incident impact TEXT", "the impact")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_impact(ctx.incident(), text, ctx.author, ctx.at)
        return f"{updated.id} impact: {literal(updated.impact or '')}"

    @botcmd
    @replies_errors
    def incident_cause(self, msg: Message, args: str) -> str:
        """TEXT: record the (suspected) cause (anyone in the room)."""
        text = _required_text(args, "!incident cause TEXT", "the cause")
        ctx = context_of(msg)
        updated = self.engine.incidents.set_cause(ctx.incident(), text, ctx.author, ctx.at)
        return f"{updated.id} cause: {literal(updated.cause or '')}"

    @botcmd
    @replies_errors
    def incident_set(self, msg: Message, args: str) -> str:
        """started|detected|mitigated|resolved|impact-start|impact-end TIME [reason]: correct when it happened.

        TIME is HH:MM (UTC, on the incident's day, or the next if it ran past midnight) or ISO-8601. Milestones
        stay in order and in the past; the status milestones are the commander's or an admin's to correct, the
        customer-impact window anyone's.
        """
        milestone, _, rest = args.strip().partition(" ")
        when, _, reason = rest.strip().partition(" ")
        if not milestone or not when:
            raise ChatInputError(f"Use {SET_USAGE}")
        ctx = context_of(msg)
        updated = self.engine.incidents.correct(
            ctx.incident(), milestone.lower(), when, ctx.author, ctx.at, reason
        )
        return f"{updated.id} {milestone.lower()} corrected.\n{describe(updated)}"

    @botcmd
    @replies_errors
    def incidents(self, msg: Message, args: str) -> str:
        """[--all]: open and recent incidents (id, title, severity, status, commander, room, age)."""
        if args.strip() not in ("", "--all"):
            raise ChatInputError("Use !incidents, or !incidents --all")
        ctx = context_of(msg)
        listed = self.engine.incidents.list_recent(
            args.strip() == "--all", InRoom(ctx.room), ctx.author, now=ctx.at
        )
        if not listed:
            return "No incidents yet. Start one with !incident start TITLE"
        return "\n".join(["Incidents (newest first):", *(summary_line(i, ctx.at) for i in listed)])

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
        f"{incident.id} {literal(incident.title)}: {incident.status.value}{_tags(incident)}",
        f"Commander: {literal(incident.commander or 'not named yet')}",
        f"Started: {clock(incident.started_at)}",
    ]
    if incident.detected_at and incident.detected_at != incident.started_at:
        lines.append(f"Detected: {clock(incident.detected_at)}")
    if incident.mitigated_at:
        lines.append(f"Mitigated: {clock(incident.mitigated_at)}")
    if incident.resolved_at:
        lines.append(f"Resolved: {clock(incident.resolved_at)} (after {_duration(incident)})")
    if incident.impact_started_at or incident.impact_ended_at:
        start = clock(incident.impact_started_at) if incident.impact_started_at else "?"
        end = clock(incident.impact_ended_at) if incident.impact_ended_at else "ongoing"
        lasted = ""
        if incident.impact_started_at and incident.impact_ended_at:
            lasted = f" ({_between(incident.impact_started_at, incident.impact_ended_at)})"
        lines.append(f"Customer impact: {start} to {end}{lasted}")
    if incident.severity_reason:
        lines.append(f"Severity reason: {literal(incident.severity_reason)}")
    lines.append(f"Impact: {literal(incident.impact or 'not recorded yet')}")
    lines.append(f"Cause: {literal(incident.cause or 'not recorded yet')}")
    return "\n".join(lines)


def summary_line(incident: Incident, now: datetime) -> str:
    """`INC-3 Checkout 5xx (SEV2) resolved, commander carol, #inc-checkout, 2h ago`."""
    who = f"commander {incident.commander}" if incident.commander else "no commander"
    private = ", private" if incident.private else ""
    return (
        f"{incident.id} {literal(incident.title)}{_tags(incident)} {incident.status.value}, {who}, {incident.room}, "
        f"{_age(now - incident.started_at)} ago{private}"
    )


def _age(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def _tags(incident: Incident) -> str:
    """The tags after a title, "(SEV2, services a, b)"."""
    tags = [tag for tag in (incident.severity, incident.services_label) if tag]
    return f" ({literal(', '.join(tags))})" if tags else ""  # a service may be named by PagerDuty


def _duration(incident: Incident) -> str:
    return _between(incident.started_at, incident.resolved_at or incident.started_at)


def _between(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
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
