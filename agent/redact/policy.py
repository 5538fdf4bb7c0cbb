"""The installation's redaction policy: whether e-mail addresses may leave the process (DEBRIEF_REDACT_EMAILS).

A process-wide default, not an argument passed down: every exit point calls `redact()` (the store on the way
in, trackers, prompts, the knowledge base, replies, logs, the CLI's output: over a dozen modules), and whether
addresses may leave is the installation's decision, made once in its settings, not each caller's. Start-up sets
it from the settings (`use_policy(emails=settings.redact_emails)`: the CLI's `main`, `run_bot`); nothing else
does. `redact()` and `Redactor()` without an `emails` argument read it at each call, so a redactor built before
the settings were read (the log filter) follows it too.
"""

from __future__ import annotations

_emails = False


def use_policy(*, emails: bool) -> None:
    """Make `emails` (redact e-mail addresses, or keep them) the policy of every redaction that does not choose."""
    global _emails
    _emails = emails


def redacts_emails() -> bool:
    """The policy in force: are e-mail addresses redacted?"""
    return _emails
