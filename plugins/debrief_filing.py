"""`!actions file`: file the incident's action items to Jira and GitHub, exactly once, through the outbox, and
update the tickets of items changed since they were filed.

The commander (before one is named: whoever started the incident) and the admins may file; the engine decides.
The command acknowledges at once, files in Errbot's command thread pool (never on the receive thread), then
replies with what happened to each item. A poller retries, in the background, what an outage left pending.
"""

from __future__ import annotations

import logging

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.errors import DebriefError
from agent.filing import Filer, file_and_sync
from debrief.bot.chat import context_of
from debrief.bot.commands import announce_to, incident_argument, replies_errors
from debrief.bot.runtime import UsesRuntime

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
    @replies_errors
    def actions_file(self, msg: Message, args: str) -> str:
        """[INC-n]: file this room's (or that) incident's action items to the trackers (commander or admin), and
        bring the tickets of items changed since up to date. After resolve too."""
        ctx = context_of(msg)
        target = ctx.incident(incident_argument(args, USAGE))
        run = file_and_sync(self.engine, self.runtime.settings, target, ctx.author, announce_to(self, msg))
        return run.report.summary()

    def retry_pending(self) -> None:
        """Retry what an outage left pending, once each row's next attempt time has come (audited, silent)."""
        filer = Filer.from_settings(self.engine, self.runtime.settings)
        try:
            report = filer.retry_due()
        except DebriefError as exc:
            log.warning("retrying pending action items failed: %s", exc)
            return
        finally:
            filer.close()
        if report.results:
            log.info("retried pending action items: %s", report.counts())
