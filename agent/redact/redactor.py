"""`Redactor`, `redact` and `redact_tree`: the rule table and the reader's view put to work on outgoing text."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from agent.redact.rule import splice
from agent.redact.rules import EMAIL_RULE, PHONE_RULE, SECRET_RULES
from agent.redact.view import merged, reader_secrets


class Redactor:
    """Redaction with fixed options, built once and called for every outgoing text.

    `emails` and `phones` redact e-mail addresses and phone numbers too. Both are off by default: incident
    chat names people and on-call aliases by address and number, tickets and postmortems need them, and
    neither is a credential. Turn `emails` on where personal data must not leave (a hosted LLM under a strict
    data policy).

    A text with non-ASCII characters or line breaks inside tokens is also matched as a reader sees it
    (`view.reader_secrets`): a token with a zero-width space inside, a full-width or Cyrillic-lettered prefix, or
    a token wrapped onto the next line is found there and redacted in the original text, whole.
    """

    def __init__(self, *, emails: bool = False, phones: bool = False) -> None:
        self.emails = emails
        self.phones = phones
        optional = ((EMAIL_RULE,) if emails else ()) + ((PHONE_RULE,) if phones else ())
        self._rules = SECRET_RULES + optional

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if hidden := reader_secrets(self._rules, text):  # first; the rules then skip its placeholders
            text = splice(text, merged(hidden))
        for rule in self._rules:
            text = rule.apply(text)
        return text


@lru_cache(maxsize=4)
def _redactor(emails: bool, phones: bool) -> Redactor:
    return Redactor(emails=emails, phones=phones)


def redact(text: str, *, emails: bool = False, phones: bool = False) -> str:
    """`text` with every secret (and, if asked, every email and phone number: kept by default, see `Redactor`)
    replaced by a placeholder."""
    return _redactor(emails, phones)(text)


def redact_tree(value: Any, scrub: Callable[[str], str] | None = None) -> Any:
    """`value` with every string in it redacted (by `scrub`, default `redact`): dicts, lists and tuples are
    walked, other values kept.

    For structured text that is stored or sent whole (a postmortem document, an audit entry's detail): redacting
    its serialised form could cut through quoting and break it.
    """
    scrub = scrub or redact
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: redact_tree(item, scrub) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_tree(item, scrub) for item in value)
    return value
