"""Secrets never reach a log: a filter on the root logger's handlers redacts every record before it is written."""

from __future__ import annotations

import logging

from agent.redact.redactor import Redactor


class RedactingFilter(logging.Filter):
    """Redacts a log record before any handler formats it, so secrets never reach a log.

    The message is rendered with its args first, because a secret can be split between them
    (`"token=%s", tok`); the record then carries the redacted text and no args. A traceback is rendered and
    redacted the same way.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must not break the caller; its args cannot be judged, drop them
            message = f"{record.msg} [log arguments dropped: the message could not be formatted]"
        record.msg, record.args = self.redactor(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text, record.exc_info = self.redactor(record.exc_text), None
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


def install_log_redaction(redactor: Redactor | None = None) -> RedactingFilter:
    """Put one RedactingFilter on every handler of the root logger and return it.

    Handler filters see records from every logger (logger filters miss propagated records). Call it after
    logging is configured; a later call replaces the earlier filter instead of adding a second one.
    """
    log_filter = RedactingFilter(redactor)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(log_filter)
    return log_filter
