"""The assistant in chat: `@debrief QUESTION` (anywhere in a message), `!ask QUESTION`, `!incident catchup`.

The backend's receive thread only posts a short acknowledgement and hands the question to a small thread pool,
so a slow answer (an LLM call) never blocks other commands. The answer goes in the message's thread where the
platform has threads. The assistant (the knowledge dir ingested, the embedding model and indexes loaded) is made
in the background when the bot starts (DEBRIEF_WARM_UP), so the first question is answered as fast as the tenth;
a question asked meanwhile is acknowledged at once and answered when it is ready.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from errbot import BotPlugin, botcmd
from errbot.backends.base import Identifier, Message

from agent.assistant import Answer, Assistant, open_assistant
from agent.errors import DebriefError
from debrief.bot.chat import context_of
from debrief.bot.commands import incident_argument, replies_errors, reply_target
from debrief.bot.runtime import UsesRuntime


def mention_of(bot_name: str) -> re.Pattern[str]:
    """`@debrief` (DEBRIEF_BOT_NAME) anywhere in a message, not inside an address or another name."""
    return re.compile(rf"(?<![\w@<])@{re.escape(bot_name)}\b[:,]?", re.IGNORECASE)


ACK = "Looking into it…"
WORKERS = 2
ASK_USAGE = "Ask a question: !ask QUESTION, or mention @debrief in a message."


class DebriefAssistant(UsesRuntime, BotPlugin):
    """Answer questions from runbooks, past incidents and the timeline, with sources; catch people up."""

    def activate(self) -> None:
        super().activate()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="debrief-assistant")
        self._assistant: Assistant | None = None
        self._assistant_lock = threading.Lock()
        if self.runtime.settings.warm_up and getattr(self._bot.bot_config, "BOT_ASYNC", True):
            self._pool.submit(self._warm_up)

    def deactivate(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._assistant_lock:
            assistant, self._assistant = self._assistant, None
        if assistant is not None:
            assistant.close()
        super().deactivate()

    @botcmd
    def ask(self, msg: Message, args: str) -> str | None:
        """QUESTION: ask the assistant; it answers in a thread, citing runbooks, past incidents and the timeline."""
        if not args.strip():
            return ASK_USAGE
        self._answer_later(msg, args)
        return None

    @botcmd
    @replies_errors
    def incident_catchup(self, msg: Message, args: str) -> str | None:
        """[INC-n]: a short summary of the incident so far, for someone joining late."""
        target = context_of(msg).incident(incident_argument(args, "Use !incident catchup [INC-n]"))
        incident = self.engine.incidents.get(target)
        self._later(msg, f"Catching up on {incident.id}…", lambda assistant: assistant.catchup(incident.id))
        return None

    def callback_message(self, msg: Message) -> None:
        """`@debrief` written anywhere in a message (not a command) is a question for the assistant."""
        mention = mention_of(self.runtime.settings.bot_name)
        if msg.body.startswith(self._bot.bot_config.BOT_PREFIX) or not mention.search(msg.body):
            return
        self._answer_later(msg, mention.sub(" ", msg.body))

    def callback_mention(self, msg: Message, mentioned_people: list[Identifier]) -> None:
        """A mention the backend recognised (Slack's `<@U123>`); literal `@debrief` text is handled above."""
        if msg.body.startswith(self._bot.bot_config.BOT_PREFIX) or mention_of(
            self.runtime.settings.bot_name
        ).search(msg.body):
            return
        me = self._bot.bot_identifier
        if not any(person == me for person in mentioned_people):
            return
        question = msg.body
        for form in {str(me), f"<@{getattr(me, 'userid', None)}>"}:
            question = question.replace(form, " ")
        self._answer_later(msg, question)

    # -- work off the receive thread ---------------------------------------------------------------
    def _answer_later(self, msg: Message, question: str) -> None:
        question = " ".join(question.split())
        if not question:
            self.send(reply_target(msg), ASK_USAGE, in_reply_to=msg)
            return
        room = context_of(msg).room

        def answer(assistant: Assistant) -> Answer:
            incident = self.engine.incidents.latest_in_room(room)
            incident_id = incident.id if incident else None
            return assistant.ask(question, incident_id=incident_id, thread_id=incident_id or f"room:{room}")

        self._later(msg, ACK, answer)

    def _later(self, msg: Message, ack: str, work: Callable[[Assistant], Answer]) -> None:
        """Acknowledge now, answer in the message's thread when `work` is done.

        A bot configured with `BOT_ASYNC = False` (the replay) runs everything in the caller's thread, in order;
        the answer then follows its acknowledgement before the next message is read.
        """
        self.send(reply_target(msg), ack, in_reply_to=msg)
        if getattr(self._bot.bot_config, "BOT_ASYNC", True):
            self._pool.submit(self._reply, msg, work)
        else:
            self._reply(msg, work)

    def _reply(self, msg: Message, work: Callable[[Assistant], Answer]) -> None:
        try:
            self.runtime.flush()  # the timeline holds what was said before the question
            assistant = self._get_assistant()
            assistant.refresh_knowledge()
            text = work(assistant).answer
        except DebriefError as exc:
            text = str(exc)
        except Exception:
            self.log.exception("The assistant failed")
            text = "Sorry, I could not answer that; the error is in the bot's log."
        self.send(reply_target(msg), text, in_reply_to=msg)

    def _warm_up(self) -> None:
        started = time.monotonic()
        try:
            self._get_assistant()
        except Exception:  # the first question tries again, and says what failed
            self.log.exception("Loading the assistant failed")
            return
        self.log.info("The assistant is ready (%.1f s)", time.monotonic() - started)

    def _get_assistant(self) -> Assistant:
        """Created once, at start-up or on first use, in a worker: it ingests the knowledge dir and loads the
        models, and a question waits for it here."""
        with self._assistant_lock:
            if self._assistant is None:
                assistant = open_assistant(self.runtime.settings, self.runtime.engine, refresh_knowledge=True)
                try:
                    assistant.warm_up()
                except BaseException:
                    assistant.close()
                    raise
                self._assistant = assistant
            return self._assistant
