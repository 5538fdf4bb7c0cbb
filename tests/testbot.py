"""Errbot's `TestBot` harness, started on the backend the config names (Debrief's redacting test backend).

Errbot's `TestBot.start` always starts its stock "Test" backend; Debrief runs its own (`DebriefTest`: the same
backend with every reply redacted, as in production), so the harness starts `bot_config.BACKEND` instead.
"""

from __future__ import annotations

from queue import Empty
from threading import Thread

from errbot.backends.test import TestBot
from errbot.bootstrap import setup_bot


class DebriefTestBot(TestBot):  # type: ignore[misc]
    def start(self, timeout: int = 10) -> None:
        if getattr(self, "bot_thread", None) is not None:
            raise RuntimeError("the bot has already been started")
        self._bot = setup_bot(self.bot_config.BACKEND, self.logger, self.bot_config)
        thread = Thread(target=self.bot.serve_forever, name="TestBot main thread", daemon=True)
        thread.start()
        self.bot_thread = thread
        self.bot.push_message("!echo ready")
        try:
            for _ in range(60):  # start-up notices come first
                if self.bot.pop_message(timeout=timeout) == "ready":
                    return
        except Empty:
            pass
        raise AssertionError('the "ready" message has not been received (timeout)')
