"""`!actions file`: file the incident's action items to Jira and GitHub, exactly once, through the outbox.

The commander (before one is named: whoever started the incident) and the admins may file. The command
acknowledges at once, files in Errbot's command thread pool (never on the receive thread), then replies with
what happened to each item. A poller retries, in the background, what an outage left pending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.errors import DebriefError
from agent.filing import Filer
from agent.models import Incident
from debrief.chat import ChatInputError, context_of
from debrief.runtime import UsesRuntime

log = logging.getLogger(__name__)

RETRY_INTERVAL_S = 300.0
USAGE = "Use !actions file, or !actions file INC-n for another incident"


class DebriefFiling(UsesRuntime, BotPlugin):
    """File action items to the configured trackers (DEBRIEF_TRACKERS)."""

    def activate(self) -> None:
        super().activate()
        if self.runtime.settings.trackers:
            self.start_poller(RETRY_INTERVAL_S, self.retry_pending)

    @botcmd
    def actions_file(self, msg: Message, args: str) -> Iterator[str]:
        """[INC-n]: file this room's (or that) incident's action items to the trackers (commander or admin)."""
        try:
            incident = self._incident_to_file(msg, args)
        except DebriefError as exc:
            yield str(exc)
            return
        trackers = ", ".join(self.runtime.settings.trackers)
        yield f"Filing {incident.id}'s action items to {trackers}…"
        try:
            yield self._file(incident.id, context_of(msg).author)
        except DebriefError as exc:
            yield f"Filing {incident.id} stopped: {exc}"

    def _incident_to_file(self, msg: Message, args: str) -> Incident:
        """The incident named (else the room's), once the caller is allowed and a tracker is configured."""
        words = args.split()
        if len(words) > 1 or (words and not words[0].upper().startswith("INC-")):
            raise ChatInputError(USAGE)
        if not self.runtime.settings.trackers:
            raise ChatInputError(
                "No tracker is configured: set DEBRIEF_TRACKERS to jira and/or github first."
            )
        ctx = context_of(msg)
        incident = self.runtime.incident(ctx.room, words[0] if words else None)
        incidents = self.runtime.engine.incidents
        if not incidents.can_change_status(incident, ctx.author, self.runtime.settings.admins):
            who = f"the commander ({incident.commander})" if incident.commander else "whoever started it"
            raise ChatInputError(f"Only {who} or an admin can file {incident.id}'s action items.")
        return incident

    def _file(self, incident_id: str, by: str) -> str:
        filer = Filer.from_settings(self.runtime.engine, self.runtime.settings)
        try:
            report = filer.file_pending(incident_id, by=by)
            filer.sync_status(incident_id, by=by)
        finally:
            filer.close()
        return report.summary()

    def retry_pending(self) -> None:
        """Retry what an outage left pending, once each row's next attempt time has come (audited, silent)."""
        filer = Filer.from_settings(self.runtime.engine, self.runtime.settings)
        try:
            report = filer.retry_due()
        except DebriefError as exc:
            log.warning("retrying pending action items failed: %s", exc)
            return
        finally:
            filer.close()
        if report.results:
            log.info("retried pending action items: %s", report.counts())
