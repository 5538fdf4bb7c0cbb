"""`debrief run`: Errbot in this process, on the configured backend (the Text console by default)."""

from __future__ import annotations

import logging
import signal
import threading

from errbot.bootstrap import setup_bot

from agent.engine import check_database
from agent.redact import install_log_redaction, use_policy
from agent.settings import Settings
from debrief.bot.config import config_namespace
from debrief.bot.http_server import bound_webserver

# The webhooks listen on every interface for chat backends (Alertmanager and GitHub must reach them), and only
# locally for the Text console, which is a single person's local session.
LOCAL_BACKENDS = ("Text",)


def run_bot(settings: Settings) -> None:
    """Start the bot with Debrief's plugins and serve until it is stopped (Ctrl-D / Ctrl-C on the console).

    The database is opened and its write lock taken first: a corrupt, read-only or locked database stops the
    start with one line, instead of a bot whose Debrief plugins failed to activate.
    """
    use_policy(emails=settings.redact_emails)  # before anything is logged, stored or sent
    check_database(settings)
    config = config_namespace(settings)
    if settings.backend in LOCAL_BACKENDS:
        _console_shows_warnings_only()
    bot = setup_bot(config.BACKEND, logging.getLogger(), config)
    install_log_redaction()  # after Errbot added its log file handler: secrets never reach a log
    bound_webserver(bot, settings)  # before it first serves: a deadline per request, a cap on connections
    bot.plugin_manager.set_plugin_configuration("Webserver", webserver_config(settings))
    _stop_on_sigterm()
    bot.serve_forever()


def _stop_on_sigterm() -> None:
    """`docker stop` and Kubernetes send SIGTERM: stop as on Ctrl-C, so the plugins commit what they captured.

    Python's default would end the process on the spot (and as a container's PID 1, ignore the signal).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def webserver_config(settings: Settings) -> dict[str, object]:
    """Errbot's Webserver plugin settings: plain HTTP on DEBRIEF_HTTP_PORT (terminate TLS in front of it)."""
    host = "127.0.0.1" if settings.backend in LOCAL_BACKENDS else "0.0.0.0"
    return {
        "HOST": host,
        "PORT": settings.http_port,
        "SSL": {"enabled": False, "host": host, "port": settings.http_port + 1, "certificate": "", "key": ""},
    }


def _console_shows_warnings_only() -> None:
    """On the Text console the terminal is the chat: logs go to BOT_LOG_FILE, only warnings to the screen."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(max(handler.level, logging.WARNING))
