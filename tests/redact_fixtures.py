"""Inputs crafted to make a backtracking redactor take quadratic time (minutes), shared by the redaction tests
and bench/redact.py, which times them."""

from __future__ import annotations

PATHOLOGICAL = {
    "openai-prefix-repeated": "sk-" * 20_000,
    "curl-repeated": "curl " * 12_000,
    "pem-body-of-spaces": "-----BEGIN PRIVATE KEY-----a" + " " * 50_000 + "b",
    "pem-body-of-escaped-newlines": "-----BEGIN PRIVATE KEY-----a" + "\\n" * 25_000 + "b",
    "separators-only": ":" * 50_000,
    "unterminated-quote": 'password="' + '\\"' * 25_000,
    "at-signs": "x@" * 25_000,
}
