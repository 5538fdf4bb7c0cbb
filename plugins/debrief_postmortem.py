"""`!postmortem`: draft the room's postmortem, show it, approve it (commander or admin), publish it (admin).

Drafting and publishing can take seconds (an LLM call, loading the embedding model), so those commands acknowledge
at once (the engine announces what it starts) and do the work in Errbot's command thread pool, never on the
receive thread. Role rules live in the engine; this plugin only picks the incident and formats the replies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.knowledge import open_knowledge_or_none
from agent.llm import make_chat_model
from agent.postmortem import PostmortemWorkflow, StoredPostmortem
from agent.postmortem.fallback import duration
from agent.postmortem.workflow import PRIVATE_NOTE
from debrief.bot.chat import context_of
from debrief.bot.commands import announce_to, incident_argument, replies_errors
from debrief.bot.runtime import UsesRuntime

if TYPE_CHECKING:
    from agent.incidents import IncidentRef

INLINE_LIMIT = 3500  # longer drafts are posted as a summary plus the path of the full Markdown
USAGE = "Use !postmortem [INC-n], !postmortem show|approve|publish|reopen [INC-n]"


class DebriefPostmortem(UsesRuntime, BotPlugin):
    """The postmortem workflow: draft -> review -> publish."""

    def activate(self) -> None:
        super().activate()
        settings = self.runtime.settings
        self.workflow = PostmortemWorkflow(
            self.engine,
            settings,
            knowledge=lambda: open_knowledge_or_none(settings),
            model=lambda: make_chat_model(settings),
        )

    @botcmd
    @replies_errors
    def postmortem(self, msg: Message, args: str) -> str:
        """[INC-n]: draft the postmortem of this room's latest (or that) incident and post it for review."""
        ctx = context_of(msg)
        self.runtime.flush()  # the timeline holds everything said before the command
        stored = self.workflow.draft(self._target(msg, args), by=ctx.author, announce=announce_to(self, msg))
        return draft_reply(stored)

    @botcmd
    @replies_errors
    def postmortem_show(self, msg: Message, args: str) -> str:
        """[INC-n]: show the stored postmortem (draft, approved or published)."""
        return show_reply(self.workflow.show(self._target(msg, args)))

    @botcmd
    @replies_errors
    def postmortem_approve(self, msg: Message, args: str) -> str:
        """[INC-n]: approve the postmortem draft (the commander or an admin, once the incident is resolved)."""
        stored = self.workflow.approve(self._target(msg, args), context_of(msg).author)
        incident_id, approvers = stored.postmortem.incident_id, ", ".join(stored.postmortem.reviewers)
        return f"{incident_id}'s postmortem is approved (by {approvers}). An admin publishes it with !postmortem publish."

    @botcmd
    @replies_errors
    def postmortem_publish(self, msg: Message, args: str) -> str:
        """[INC-n]: publish the approved postmortem to the knowledge base (admins only)."""
        author = context_of(msg).author
        stored = self.workflow.publish(self._target(msg, args), author, announce=announce_to(self, msg))
        incident_id = stored.postmortem.incident_id
        text = f"{incident_id}'s postmortem is published: {stored.published_path}."
        if stored.note is None or PRIVATE_NOTE not in stored.note:
            text += " The next incident's search finds it."
        return text + (f"\n{stored.note}" if stored.note else "")

    @botcmd
    @replies_errors
    def postmortem_reopen(self, msg: Message, args: str) -> str:
        """[INC-n]: reopen a published postmortem for review (admins only); publishing it again replaces it."""
        stored = self.workflow.reopen(self._target(msg, args), context_of(msg).author)
        return (
            f"{stored.postmortem.incident_id}'s postmortem is open for review again (revision {stored.revision}). "
            "Edit and approve it, then !postmortem publish replaces the published file."
        )

    def _target(self, msg: Message, args: str) -> IncidentRef:
        """`INC-n` when given, else the room's latest incident."""
        return context_of(msg).incident(incident_argument(args, USAGE))


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
    revise = [f"{a.ref} {a.title}: {'; '.join(a.problems)}" for a in pm.action_items if a.problems]
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
