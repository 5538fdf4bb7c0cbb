"""`!postmortem`: draft the room's postmortem, show it, approve it (commander or admin), publish it (admin).

Drafting and publishing can take seconds (an LLM call, loading the embedding model), so those commands acknowledge
at once and do the work in Errbot's command thread pool, never on the receive thread. Role rules live in
`agent.postmortem.workflow`; this plugin only picks the incident and formats the replies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.errors import DebriefError
from agent.llm import make_chat_model
from agent.postmortem import PostmortemWorkflow, StoredPostmortem
from agent.postmortem.fallback import duration
from agent.postmortem.workflow import latest_incident
from debrief.chat import ChatInputError, context_of
from debrief.runtime import UsesRuntime

if TYPE_CHECKING:
    from agent.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

INLINE_LIMIT = 3500  # longer drafts are posted as a summary plus the path of the full Markdown
USAGE = "Use !postmortem [INC-n], !postmortem show|approve|publish [INC-n]"
FAILED = "Sorry, the postmortem could not be built; the error is in the bot's log."


class DebriefPostmortem(UsesRuntime, BotPlugin):
    """The postmortem workflow: draft -> review -> publish."""

    def activate(self) -> None:
        super().activate()
        self._knowledge: KnowledgeBase | None = None
        self._lock = threading.Lock()
        self.workflow = PostmortemWorkflow(
            self.runtime.engine,
            self.runtime.settings,
            knowledge=self._open_knowledge,
            model=lambda: make_chat_model(self.runtime.settings),
        )

    @botcmd
    def postmortem(self, msg: Message, args: str) -> Iterator[str]:
        """[INC-n]: draft the postmortem of this room's latest (or that) incident and post it for review."""
        try:
            incident_id = self._target(msg, args)
        except DebriefError as exc:
            yield str(exc)
            return
        yield f"Drafting the postmortem of {incident_id}…"
        try:
            self.runtime.flush()  # the timeline holds everything said before the command
            yield draft_reply(self.workflow.draft(incident_id, by=context_of(msg).author))
        except DebriefError as exc:
            yield str(exc)
        except Exception:
            log.exception("Drafting the postmortem of %s failed", incident_id)
            yield FAILED

    @botcmd
    def postmortem_show(self, msg: Message, args: str) -> str:
        """[INC-n]: show the stored postmortem (draft, approved or published)."""
        try:
            stored = self.workflow.show(self._target(msg, args))
        except DebriefError as exc:
            return str(exc)
        return show_reply(stored)

    @botcmd
    def postmortem_approve(self, msg: Message, args: str) -> str:
        """[INC-n]: approve the postmortem draft (the commander or an admin, once the incident is resolved)."""
        try:
            incident_id = self._target(msg, args)
            stored = self.workflow.approve(incident_id, context_of(msg).author, self.runtime.settings.admins)
        except DebriefError as exc:
            return str(exc)
        approvers = ", ".join(stored.postmortem.reviewers)
        return f"{incident_id}'s postmortem is approved (by {approvers}). An admin publishes it with !postmortem publish."

    @botcmd
    def postmortem_publish(self, msg: Message, args: str) -> Iterator[str]:
        """[INC-n]: publish the approved postmortem to the knowledge base (admins only)."""
        author, admins = context_of(msg).author, self.runtime.settings.admins
        try:
            incident_id = self._target(msg, args)
            self.workflow.require_publishable(incident_id, author, admins)
        except DebriefError as exc:
            yield str(exc)
            return
        yield f"Publishing {incident_id}'s postmortem…"
        try:
            stored = self.workflow.publish(incident_id, author, admins)
        except DebriefError as exc:
            yield str(exc)
            return
        text = f"{incident_id}'s postmortem is published: {stored.published_path}. The next incident's search finds it."
        yield text + (f"\n{stored.note}" if stored.note else "")

    def _target(self, msg: Message, args: str) -> str:
        """`INC-n` when given, else the room's latest incident (postmortems follow resolved incidents)."""
        words = args.split()
        if len(words) > 1 or (words and not words[0].upper().startswith("INC-")):
            raise ChatInputError(USAGE)
        if words:
            return self.runtime.engine.incidents.get(words[0]).id
        found = latest_incident(self.runtime.engine, context_of(msg).room)
        if found is None:
            raise ChatInputError("This room has no incident yet; name one: !postmortem INC-n")
        return found

    def _open_knowledge(self) -> KnowledgeBase | None:
        """The knowledge base, opened on first use; without one the draft lists no related documents."""
        with self._lock:
            if self._knowledge is None:
                from agent.knowledge import open_knowledge_base

                try:
                    self._knowledge = open_knowledge_base(self.runtime.settings)
                except DebriefError as exc:
                    log.warning("The knowledge base cannot be opened: %s", exc)
            return self._knowledge


def draft_reply(stored: StoredPostmortem) -> str:
    """The draft inline when it is short, else a summary and where the full Markdown is; then what to fix."""
    pm = stored.postmortem
    head = f"{pm.incident_id} postmortem, revision {stored.revision} ({pm.status.value.replace('_', ' ')})"
    body = without_front_matter(stored.markdown)
    if len(body) <= INLINE_LIMIT:
        parts = [f"{head}:", body.strip()]
    else:
        times = ", ".join(
            f"{label} +{duration(seconds)}"
            for label, seconds in (
                ("detected", pm.time_to_detect_s),
                ("mitigated", pm.time_to_mitigate_s),
                ("resolved", pm.time_to_resolve_s),
            )
            if seconds is not None
        )
        parts = [
            f"{head}: {pm.summary.text}",
            times,
            f"The full draft is too long for chat: {stored.draft_path}",
        ]
    revise = [f"A{a.id} {a.title}: {'; '.join(a.problems)}" for a in pm.action_items if a.problems]
    if revise:
        parts += ["Action items that need revision (they will not be filed):", *revise]
    if stored.note:
        parts.append(f"Note: {stored.note}.")
    parts.append("Review it, then !postmortem approve (the commander or an admin).")
    return "\n".join(part for part in parts if part)


def show_reply(stored: StoredPostmortem) -> str:
    body = without_front_matter(stored.markdown).strip()
    if len(body) <= INLINE_LIMIT:
        return body
    where = stored.published_path or stored.draft_path
    pm = stored.postmortem
    return f"{pm.incident_id} postmortem ({pm.status.value.replace('_', ' ')}): {pm.summary.text}\nFull text: {where}"


def without_front_matter(markdown: str) -> str:
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            return markdown[end + 5 :].lstrip("\n")
    return markdown
