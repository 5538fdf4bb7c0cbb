"""Inputs crafted to make a backtracking redactor take quadratic time (minutes), shared by the redaction tests
and bench/redact.py, which times them; and the benign sentences the false-positive measure reads."""

from __future__ import annotations

from pathlib import Path

PATHOLOGICAL = {
    "openai-prefix-repeated": "sk-" * 20_000,
    "curl-repeated": "curl " * 12_000,
    "pem-body-of-spaces": "-----BEGIN PRIVATE KEY-----a" + " " * 50_000 + "b",
    "pem-body-of-escaped-newlines": "-----BEGIN PRIVATE KEY-----a" + "\\n" * 25_000 + "b",
    "separators-only": ":" * 50_000,
    "unterminated-quote": 'password="' + '\\"' * 25_000,
    "at-signs": "x@" * 25_000,
    # the reader's view: every character folded or removed, every line break a candidate join
    "zero-width-inside-prefixes": "\u200b".join("ghp_" * 10_000),
    "full-width-prefix-repeated": "\uff53\uff4b\uff0d" * 20_000,
    "look-alike-letters": "\u043f\u0430\u0440\u043e\u043b\u044c " * 8_000,
    "wrapped-short-lines": "a1\n" * 16_000,
    "wrapped-lines-apart": "a1\nb2\n\n" * 7_000,
    # rules whose pattern starts at a digit or a common letter, or that look around each match
    "digits-and-spaces": "4 " * 25_000,
    "flags-after-mysql": "mysql " + "-px " * 15_000,
    "cookie-pairs": "Cookie: " + "a=b; " * 12_000,
    "prose-repeated": "password is " * 5_000,
    "secret-words-repeated": "token key " * 6_000,
    "aws-context-keys": "aws " + ("A1b" * 13 + "c ") * 1_200,
    "separators-ending-lines": "password=\n" * 5_000,
    "crypt-prefixes": "$2y$10$" * 7_000,
    "discord-like": ("M" + "a" * 26 + ".") * 2_000,
    # credentials in plain prose: login words before user names, "set ... to", a word after "password", `key=`
    "login-words-repeated": "login with a / creds b:c " * 2_500,
    "set-to-repeated": "set the secret to " * 3_300,
    "password-words-repeated": "password " * 6_600,
    "key-separators": "key=" * 15_000,
}

BENIGN_SENTENCES = Path(__file__).parent / "data" / "benign_sentences.txt"


def benign_sentences() -> list[str]:
    """Sentences of real postmortems and runbooks that hold no secret (the file's header says how they were
    chosen)."""
    return BENIGN_SENTENCES.read_text(encoding="utf-8").split("\n\n", 1)[1].splitlines()
