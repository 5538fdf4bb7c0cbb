"""`Redactor`, `redact` and `redact_tree`: the rule table and the reader's view put to work on outgoing text."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from agent.redact.policy import redacts_emails
from agent.redact.rule import splice
from agent.redact.rules import EMAIL_RULE, PHONE_RULE, SECRET_RULES
from agent.redact.view import merged, reader_secrets


class Redactor:
    """Redaction with fixed options, built once and called for every outgoing text.

    `emails` and `phones` redact e-mail addresses and phone numbers too. Phone numbers are kept unless asked
    for, e-mail addresses unless asked for or the installation's policy says otherwise (`policy`, set from
    DEBRIEF_REDACT_EMAILS): incident chat names people and on-call aliases by address and number, tickets and
    postmortems need them, and neither is a credential. Turn `emails` on where personal data must not leave (a
    hosted LLM under a strict data policy).

    A text with non-ASCII characters or line breaks inside tokens is also matched as a reader sees it
    (`view.reader_secrets`): a token with a zero-width space inside, a full-width or Cyrillic-lettered prefix, or
    a token wrapped onto the next line is found there and redacted in the original text, whole.
    """

    def __init__(self, *, emails: bool | None = None, phones: bool = False) -> None:
        self.emails = emails  # None: the installation's policy, read at each call
        self.phones = phones
        phone = (PHONE_RULE,) if phones else ()
        self._rules = {False: SECRET_RULES + phone, True: (*SECRET_RULES, EMAIL_RULE, *phone)}

    def __call__(self, text: str) -> str:
        if not text:
            return text
        rules = self._rules[redacts_emails() if self.emails is None else self.emails]
        if hidden := reader_secrets(rules, text):  # first; the rules then skip its placeholders
            text = splice(text, merged(hidden))
        for rule in rules:
            text = rule.apply(text)
        return text


@lru_cache(maxsize=8)
def _redactor(emails: bool | None, phones: bool) -> Redactor:
    return Redactor(emails=emails, phones=phones)


def redact(text: str, *, emails: bool | None = None, phones: bool = False) -> str:
    """`text` with every secret replaced by a placeholder; e-mail addresses too if asked or if the installation's
    policy says so, phone numbers if asked (see `Redactor`)."""
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
