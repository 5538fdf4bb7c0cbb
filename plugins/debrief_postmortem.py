"""`!postmortem`: draft the room's postmortem, finish it in review (anyone in the room: add, edit), show it,
approve it (commander or admin), publish it (admin).

Drafting and publishing can take seconds (an LLM call, loading the embedding model), so those commands acknowledge
at once (the engine announces what it starts) and do the work in Errbot's command thread pool, never on the
receive thread. Role rules live in the engine; this plugin only picks the incident and formats the replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from errbot import BotPlugin, botcmd
from errbot.backends.base import Message

from agent.knowledge import open_knowledge_or_none
from agent.llm import make_chat_model
from agent.postmortem import PostmortemWorkflow, StoredPostmortem
from agent.postmortem.fallback import duration
from agent.postmortem.sections import BY_NAME, NAMES
from agent.postmortem.workflow import PRIVATE_NOTE
from debrief.bot.chat import clock, context_of
from debrief.bot.commands import ChatInputError, announce_to, incident_argument, replies_errors
from debrief.bot.runtime import UsesRuntime

if TYPE_CHECKING:
    from agent.incidents import IncidentRef
    from agent.postmortem.revisions import Revision

INLINE_LIMIT = 3500  # longer drafts are posted as a summary plus the path of the full Markdown
USAGE = "Use !postmortem [INC-n], !postmortem show|approve|publish|reopen|history [INC-n]"
ADD_USAGE = "Use !postmortem add well|poorly|factor|lesson|detection TEXT"
EDIT_USAGE = f"Use !postmortem edit SECTION TEXT, where SECTION is one of {NAMES}"


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
        return draft_reply(stored, self.workflow.unfinished(stored.postmortem.incident_id))

    @botcmd
    @replies_errors
    def postmortem_add(self, msg: Message, args: str) -> str:
        """well|poorly|factor|lesson|detection TEXT: add to that section of the postmortem (anyone in the room)."""
        incident_id, kind, text = section_arguments(args, ADD_USAGE)
        ctx = context_of(msg)
        stored = self.workflow.add(ctx.incident(incident_id), kind, text, ctx.author)
        return revised_reply(stored, "added to", self.workflow.unfinished(stored.postmortem.incident_id))

    @botcmd
    @replies_errors
    def postmortem_edit(self, msg: Message, args: str) -> str:
        """SECTION TEXT: replace a section of the postmortem (summary, impact, root-cause, factors, well, poorly,
        lessons, detection; a list section takes one item per line). Anyone in the room."""
        incident_id, name, text = section_arguments(args, EDIT_USAGE)
        ctx = context_of(msg)
        stored = self.workflow.edit(ctx.incident(incident_id), name, text, ctx.author)
        return revised_reply(stored, "replaced", self.workflow.unfinished(stored.postmortem.incident_id))

    @botcmd
    @replies_errors
    def postmortem_history(self, msg: Message, args: str) -> str:
        """[INC-n]: the postmortem's revisions: who changed which section, and when."""
        ref = self._target(msg, args)
        incident_id = self.engine.incidents.get(ref).id
        lines = [history_line(entry) for entry in self.workflow.history(ref)]
        return "\n".join([f"{incident_id} postmortem revisions:", *lines])

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
        text = f"{incident_id}'s postmortem is approved (by {approvers})."
        problems = self.workflow.unfinished(incident_id)
        if problems:
            return f"{text} Before it can be published: {'; '.join(problems)}."
        return f"{text} An admin publishes it with !postmortem publish."

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


def section_arguments(args: str, usage: str) -> tuple[str | None, str, str]:
    """`[INC-n] SECTION TEXT` -> (incident id or None, section or kind, text)."""
    words = args.split(maxsplit=1)
    incident_id = None
    if words and words[0].upper().startswith("INC-"):
        incident_id, words = words[0], (words[1] if len(words) > 1 else "").split(maxsplit=1)
    if len(words) < 2 or not words[1].strip():
        raise ChatInputError(usage)
    head, rest = words
    return incident_id, head, rest.strip()


def revised_reply(stored: StoredPostmortem, verb: str, problems: list[str]) -> str:
    """What changed, the note (an approval reset), and what is left before it can be published."""
    pm, [latest, *_] = stored.postmortem, sorted(stored.postmortem.reviewed, key=lambda e: -e.revision)
    title = BY_NAME[latest.section].title.lower()
    parts = [f"{pm.incident_id}'s postmortem: {verb} {title} (revision {stored.revision}, by {latest.by})."]
    if stored.note:
        parts.append(f"Note: {stored.note}.")
    if problems:
        parts.append(f"Before it can be published: {'; '.join(problems)}.")
    else:
        parts.append("Nothing is left to fill before publishing.")
    return " ".join(parts)


def history_line(entry: Revision) -> str:
    what = "drafted" if entry.change == "draft" else f"{entry.change}: {entry.section}"
    text = f": {' '.join(entry.text.split())[:120]}" if entry.text and entry.change != "draft" else ""
    return f"r{entry.revision} {clock(entry.at)} {entry.by} {what}{text}"


def draft_reply(stored: StoredPostmortem, problems: Sequence[str] = ()) -> str:
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
    if problems:
        parts.append(
            f"Before it can be published: {'; '.join(problems)}. Anyone here completes it with "
            "!postmortem edit SECTION TEXT or !postmortem add well|poorly|factor|lesson|detection TEXT."
        )
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
