"""Secret redaction. Everything that leaves the process (prompts, tickets, vectors, logs, replies) passes it.

Secrets are replaced in place by typed placeholders (`[REDACTED:github-token]`), so the text around them still
reads well for people and for the LLM. Vendor tokens are recognised by their prefixes, also when written with
look-alike letters, with invisible characters inside or wrapped onto the next line. Anything else needs its
context: the value of a secret-named key (`password=`, `"client_secret": "..."`, `FOO_TOKEN=...`), a password
flag (`mysql -pX`, `sshpass -p X`), prose ("the password is X"), a long key right after a secret word, a bare
AWS secret key near AWS words, a Luhn-valid card number, a password hash, a cookie. So ordinary words, commit
SHAs, UUIDs, trace ids, ARNs, IPs and pod names are left alone (the redaction tests list such look-alikes).
E-mail addresses and phone numbers are kept unless asked for (`Redactor`). Redacting twice changes nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NOT_REDACTED = r"(?!\[REDACTED:)"
# A bare value ends at whitespace, a quote or `;`; at `&` only before the next `name=` (a query string);
# at `,` and closing brackets only when text follows them directly (`p@ss)word` stays whole, `(token=abc), x`
# keeps its `)`).
_BARE_VALUE = r"(?:[^\s'\"`&,;)\]}>]|&(?![\w.\[\]-]+=)|[,)\]}>](?=[^\s,;.)\]}>'\"&]))+"
# Not a secret but where one comes from: `$DB_PASSWORD`, `$token`, `$(oc create token ...)`, `${X}`,
# `{{ .x }}`, `<your-token>`, `%API_KEY%`, `****`. A lower-case variable name has no digits (`$ecret99` is a
# password).
_REFERENCE = re.compile(
    r"\$[A-Z_][A-Z0-9_]*|\$[A-Za-z_]+|\$\(.*|\$\{[^}]*\}?|\$\{\{.*|\{\{.*|<[^<>]+>?|%[A-Z_]+%|\*+"
)

KindOf = Callable[[re.Match[str]], str | None]
Gate = Callable[[str], bool]
Span = tuple[int, int, str]  # start, end, kind: text[start:end] becomes `[REDACTED:kind]`


@dataclass(frozen=True)
class _Rule:
    """One secret shape: the `secret` group is replaced, the rest of the match is kept as it was.

    Speed: `re` skips ahead fast only when a pattern starts with a literal or a character set, so each pattern
    does, and boundary checks come after the first character or in `kind`. A shape whose start is far from its
    distinctive part (`DB_PASSWORD = x`, `bob@host`) gets an `anchor`: a pattern run over the reversed text,
    whose matches end where the shape starts. A shape whose pattern must start with a common letter or digit,
    or that only counts near some context, gets a `gate`: a cheap test that skips most texts at once.
    """

    pattern: re.Pattern[str]
    kind: str | KindOf  # a callable may return None: "not a secret after all"
    anchor: re.Pattern[str] | None = None
    gate: Gate | None = None
    full_stop: bool = True  # a final `.` ends the sentence, not the secret (not so for fixed-length hashes)

    def find(self, text: str) -> list[Span]:
        """The secrets in `text`, in order, not overlapping (most texts hold none: one C-level search)."""
        if self.gate is not None and not self.gate(text):
            return []
        if self.anchor is None:
            first = self.pattern.search(text)
            if first is None:
                return []
            return [
                span for match in self.pattern.finditer(text, first.start()) if (span := self._span(match))
            ]
        spans: list[Span] = []
        done, size = 0, len(text)
        for start in sorted({size - found.end() for found in self.anchor.finditer(text[::-1])}):
            match = self.pattern.match(text, start) if start >= done else None
            if match is not None:
                if span := self._span(match):
                    spans.append(span)
                done = match.end()
        return spans

    def apply(self, text: str) -> str:
        spans = self.find(text)
        return _splice(text, spans) if spans else text

    def _span(self, match: re.Match[str]) -> Span | None:
        kind = self.kind if isinstance(self.kind, str) else self.kind(match)
        if kind is None:
            return None
        start, end = match.span("secret")
        if self.full_stop and end - start > 1 and match.string[end - 1] == ".":
            end -= 1  # a sentence's full stop, not part of the secret
        return start, end, kind


def _splice(text: str, spans: list[Span]) -> str:
    """`text` with each span (sorted, not overlapping) replaced by its placeholder."""
    if not spans:
        return text
    pieces: list[str] = []
    done = 0
    for start, end, kind in spans:
        pieces += (text[done:start], f"[REDACTED:{kind}]")
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _token(kind: str, body: str, gate: Gate | None = None) -> _Rule:
    """A self-identifying token (the whole match is the secret) that does not start inside a longer word."""

    def kind_of(match: re.Match[str]) -> str | None:
        start = match.start()
        before = match.string[start - 1] if start else " "
        return None if before.isalnum() or before in "_-" else kind

    return _Rule(re.compile(f"(?P<secret>{body})"), kind_of, gate=gate)


def _mentions(*words: str) -> Gate:
    """A gate: the text holds one of `words` (lower case: in any case)."""

    def gate(text: str) -> bool:
        lowered = text.lower()
        return any(word in lowered for word in words)

    return gate


def _near_aws(text: str) -> bool:
    """A gate: AWS context, and a word long enough to hold a 40-character key."""
    return _AWS_CONTEXT.search(text) is not None and max(map(len, text.split()), default=0) >= 40


def _looks_secret(value: str) -> bool:
    """In `key: value` form ("Token: expired"): a secret has digits, symbols or inner capitals, or is long. A
    final `.` ends the sentence ("the secret is misconfigured.")."""
    value = value.removesuffix(".")
    if len(value) < 6:
        return False
    if len(value) >= 16:
        return True
    inner_caps = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return inner_caps or any(c.isdigit() or (not c.isalnum() and c != "-") for c in value)


def _key_before(match: re.Match[str]) -> str:
    """The whole key the matched secret word ends (`aws_secret_access_key` for `access_key`)."""
    text, start = match.string, match.start("word")
    limit = max(0, start - 100)
    while start > limit and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    return text[start : match.end("word")]


def _key_label(key: str, word: str) -> str:
    flat = re.sub(r"[^a-z0-9]", "", key.lower())
    if ("aws" in flat and "secret" in flat) or flat.endswith("secretaccesskey"):
        return "aws-secret-key"
    if flat.endswith("accountkey"):
        return "azure-storage-key"
    if flat.endswith("sharedaccesskey"):
        return "azure-key"
    if any(vendor in flat for vendor in ("jira", "atlassian", "confluence", "bitbucket")):
        return "atlassian-token"
    if "twilio" in flat:
        return "twilio-token"
    word = re.sub(r"[^a-z]", "", word.lower())
    if word in ("password", "passwd", "passphrase", "pass", "pwd", "pw"):
        return "password"
    return f"{word[:-3]}-key" if word.endswith("key") else word


def _key_value_kind(match: re.Match[str]) -> str | None:
    value, sep, word = match.group("secret"), match.group("sep"), match.group("word")
    if _REFERENCE.fullmatch(value) or (word.lower() == "pwd" and value.startswith(("/", "~"))):
        return None  # `PWD=/home/app`, `pwd: /var/lib/x`: the working directory
    # YAML and prose: `password: hunter2`, but not `token:v1.2` (an image tag) nor `Token: expired`.
    colon_form = match.group("q") is None and sep.strip() == ":"
    if colon_form and (
        not (sep.endswith((" ", "\t", "\n")) or match.group("kq")) or not _looks_secret(value)
    ):
        return None
    # `password=` ending a line, the value on the next line (the pattern skips a line that starts with a key)
    if "\n" in sep and not _looks_secret(value):
        return None
    return _key_label(_key_before(match), word)


def _flag_kind(match: re.Match[str]) -> str | None:
    value = match.group("secret")
    if _REFERENCE.fullmatch(value) or not _looks_secret(value):
        return None
    return _key_label(match.group("word"), match.group("word"))


def _authorization_kind(match: re.Match[str]) -> str | None:
    scheme = (match.group("scheme") or "").lower()
    secret = match.group("secret")
    if _REFERENCE.fullmatch(secret):
        return None
    if scheme in ("basic", "bearer"):
        return {"basic": "basic-auth", "bearer": "bearer-token"}[scheme]
    return "authorization" if scheme or (len(secret) >= 16 and _looks_secret(secret)) else None


def _line_before(match: re.Match[str], limit: int = 500) -> str:
    """Up to `limit` characters of the match's line before it (bounded: a long line must not cost n^2)."""
    text, start = match.string, match.start()
    return text[max(text.rfind("\n", 0, start) + 1, start - limit) : start]


def _curl_user_kind(match: re.Match[str]) -> str | None:
    """`-u user:password` is a credential for curl, not for `docker run -u 1000:1000`."""
    return "password" if re.search(r"\bcurl\b", _line_before(match)) else None


def _cookie_flag_kind(match: re.Match[str]) -> str | None:
    """`--cookie 'a=b'` anywhere; `-b 'a=b'` only for curl (`git checkout -b x` is a branch)."""
    return "cookie" if match.group(0).startswith("--") or _curl_user_kind(match) else None


# Programs whose `-p` (redis-cli: `-a`) takes a password, and programs whose `-p` is something else: the
# nearest one before the flag on its line decides (`sshpass -p pw ssh -p 2222 host`: the second is a port).
_PROGRAMS = re.compile(
    r"(?<![\w./-])(?:(?P<glued>mysql(?:dump|admin|import|check|slap|show)?|mariadb(?:-?dump|-?admin)?)"
    r"|(?P<spaced>sshpass|(?:docker|podman|buildah|skopeo|nerdctl|oras|helm[ \t]+registry)[ \t]+login)"
    r"|(?P<redis>redis-cli)|ssh|scp|sftp|rsync|docker|podman|nerdctl|kubectl|oc|nc|ncat|mkdir|cp|psql)"
    r"(?![\w.-])"
)


@lru_cache(maxsize=4)
def _programs(text: str) -> tuple[list[int], list[re.Match[str]], list[int]]:
    """The programs named in `text`, where they end, and where its lines break: found once per text, not once
    per flag (n^2 on a long line of flags)."""
    found = list(_PROGRAMS.finditer(text))
    return [program.end() for program in found], found, [-1, *(m.start() for m in re.finditer("\n", text))]


def _program_before(match: re.Match[str]) -> re.Match[str] | None:
    """The nearest program named before the match on its line."""
    ends, programs, breaks = _programs(match.string)
    nearest = bisect_right(ends, match.start()) - 1
    line_start = breaks[bisect_right(breaks, match.start()) - 1] + 1
    return programs[nearest] if nearest >= 0 and programs[nearest].start() >= line_start else None


def _password_flag_kind(match: re.Match[str]) -> str | None:
    """`mysql -pS3cret` (glued: `mysql -p db` prompts), `sshpass -p x`, `docker login -p x`,
    `redis-cli -a x`."""
    if _REFERENCE.fullmatch(match.group("secret")):
        return None
    program = _program_before(match)
    flag, glued = match.group("flag"), match.group("gap") is None
    if program is None or (flag == "a") != bool(program.group("redis")):
        return None
    takes_password = program.group("spaced") or program.group("redis") or (program.group("glued") and glued)
    return "password" if takes_password else None


def _prose_kind(match: re.Match[str]) -> str | None:
    """Prose like "the password is hunter2!": a value that looks like a secret, not a URL, a path or (after
    "secret" and "token", which are also Kubernetes kinds) an object name like `payments-db-credentials`."""
    value, word = match.group("secret"), match.group("word").lower()
    if _REFERENCE.fullmatch(value) or "://" in value or value.startswith(("/", "~/", "./")):
        return None
    if not _looks_secret(value) or re.fullmatch(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", value):
        return None
    if word in ("secret", "token") and re.fullmatch(r"[a-z0-9]+(?:[-.][a-z0-9]+)+", value):
        return None
    return _key_label(word, word)


# Where a bare 40-character AWS secret key counts: near AWS words or an access key id (raw or redacted).
# Written to start with a character set, which `re` scans for fast (a leading `\b` or `(?i:` is 50x slower):
# `aws...`, `amazon`, `iam` at a word's start, `secret access`, `access key`, `AKIA...`, a redacted key id.
_AWS_CONTEXT = re.compile(
    r"[AaIiSs\[](?:(?<![\w\[][AaIiSs\[])(?i:(?<=a)ws|(?<=a)mazon|(?<=i)am\b)"
    r"|(?i:(?<=s)ecret[ _-]?access|(?<=a)ccess[ _-]?key)"
    r"|(?<=A)(?<!\wA)(?:KIA|SIA)[A-Z0-9]{16}\b|(?<=\[)REDACTED:aws-access-key\])"
)


def _random_looking(value: str) -> bool:
    """Upper and lower case letters and digits, as a random base64 key has (words and ids rarely do)."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def _aws_secret_kind(match: re.Match[str]) -> str | None:
    """A standalone 40-character base64 string near AWS context: a secret access key without its name. Not
    one: a string without all three character classes (hex digests, words) or a path (`/x/y`,
    `AWSLogs/1234/Trail`)."""
    value, text = match.group("secret"), match.string
    segments = value.split("/")
    path = value.startswith("/") or (len(segments) > 2 and all(s.isalpha() or s.isdigit() for s in segments))
    if path or not _random_looking(value):
        return None
    start, end = match.span("secret")
    near = _AWS_CONTEXT.search(text[max(0, start - 300) : start]) or _AWS_CONTEXT.search(
        text[end : end + 300]
    )
    return "aws-secret-key" if near else None


# Before "key"/"token": names of keys and tokens that are not secrets (`cache key <sha256>`, `page token`).
_HARMLESS_QUALIFIER = re.compile(
    r"(?i:cache|dedup|dedupe|deduplication|idempotency|partition|sort|routing|primary|foreign|public|object"
    r"|row|shard|hash|lookup|s3|bucket|ssh|host|gpg|pgp|page|pagination|next|continuation|resume|sync|cursor"
    r"|trace|request|correlation)[ _-]?\Z"
)
_KEY_QUALIFIERS = ("api", "access", "private", "secret", "signing", "encryption", "master", "license")


def _bare_key_kind(match: re.Match[str]) -> str | None:
    """`api key 9f8e...`, `token kR7p...`: a long hex (32+) or random-looking base64 (24+) value right after a
    secret word, without `=` or `:`."""
    value, word = match.group("secret"), match.group("word").lower()
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        if len(value) < 32 or value.isdigit() or value.isalpha():
            return None
    elif len(value) < 24 or not _random_looking(value):
        return None
    before = match.string[max(0, match.start() - 30) : match.start()]
    if _HARMLESS_QUALIFIER.search(before):
        return None
    if word.startswith("pass"):
        return "password"
    if word != "key":
        return word.rstrip("s")
    qualifier = re.search(r"([A-Za-z]+)[ _-]?\Z", before)
    named = qualifier and qualifier.group(1).lower() in _KEY_QUALIFIERS
    return f"{qualifier.group(1).lower()}-key" if qualifier and named else "key"


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = int(digit) * (2 if position % 2 else 1)
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    """Visa, Mastercard, Amex, Discover, JCB, Diners Club and UnionPay prefixes with their lengths."""
    size, two, three, four = len(digits), int(digits[:2]), int(digits[:3]), int(digits[:4])
    return (
        (digits[0] == "4" and size in (13, 16, 19))
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and size == 16)
        or (two in (34, 37) and size == 15)
        or ((four == 6011 or 644 <= three <= 649 or two in (62, 65) or 3528 <= four <= 3589) and size >= 16)
        or ((300 <= three <= 305 or two in (36, 38, 39)) and size >= 14)
    )


def _card_kind(match: re.Match[str]) -> str | None:
    """A card number: a known issuer's prefix and length and a valid Luhn check digit, written as one run of
    15 or 16 digits or in groups as printed (4-4-4-4, 4-6-5 ...). Longer bare runs are ids (64-bit trace
    ids)."""
    number = match.group("secret")
    digits = re.sub(r"\D", "", number)
    groups = [len(group) for group in re.split(r"[ -]", number)]
    if len(groups) == 1:
        printed = len(digits) in (15, 16)
    else:
        same_separator = len(set(re.findall(r"[ -]", number))) == 1
        fours = groups[0] == 4 and all(size == 4 for size in groups[1:-1]) and 1 <= groups[-1] <= 4
        printed = same_separator and (fours or groups in ([4, 6, 5], [4, 6, 4]))
    return "card-number" if printed and _card_issuer(digits) and _luhn(digits) else None


def _phone_kind(match: re.Match[str]) -> str | None:
    digits = sum(c.isdigit() for c in match.group("secret"))
    return "phone" if 8 <= digits <= 15 else None


# Key names whose value is a secret; `_` stands for an optional `_`, `.` or `-`. A key must end with one, so
# `max_tokens=` and `token_count=` are not secrets. Short words count only after a non-letter (not `bypass=`).
_SECRET_WORDS = (
    *("shared_access_key", "encryption_key", "private_key", "account_key", "signing_key", "access_key"),
    *("secret_key", "master_key", "client_key", "passphrase", "password", "auth_key", "app_key", "api_key"),
    *("passwd", "secret", "token"),
)
_SHORT_SECRET_WORDS = ("pass", "pwd", "auth", "pw")


def _words(words: tuple[str, ...], reverse: bool) -> str:
    return "|".join(re.escape(w[::-1] if reverse else w).replace("_", "[_.-]?") for w in words)


_KEY_WORD = f"{_words(_SECRET_WORDS, False)}|(?<![a-z])(?:{_words(_SHORT_SECRET_WORDS, False)})"
_LAST_LETTERS = "".join(sorted({word[-1] for word in _SECRET_WORDS + _SHORT_SECRET_WORDS}))
# Over the reversed text: a separator, then (reading backwards) an optional quote and a secret word.
_KEY_WORD_BEFORE_SEPARATOR = re.compile(
    rf"[=:>][=:]?[ \t]*(?:[\"']\\?)?(?=[{_LAST_LETTERS}])"
    rf"(?:{_words(_SECRET_WORDS, True)}|(?:{_words(_SHORT_SECRET_WORDS, True)})(?![a-z]))",
    re.IGNORECASE,
)
# The next line is not the value of a key ending this one when it is indented, starts with a quote (or `\"`),
# or starts with a key: `key:`, `KEY=value`, an empty `KEY=` or `key=` (not base64 padding: `YWJjZGU=`).
_KEY_AHEAD = r"[\w.-]+(?::|=[^=\s])|(?-i:[A-Z][A-Z0-9_]*|[a-z][a-z0-9_.-]*)=(?=\s|\Z)"
# After their first letter (the pattern starts with a character set); longest first.
_PROSE_WORDS = (
    r"assphrase|assword|asswd|ass|wd|w|ecret[ _-]?key|ecret|oken|igning[ _-]?key|pi[ _-]?(?:key|token)"
    r"|ccess[ _-]?key|rivate[ _-]?key"
)
_PEM_LABEL = r"-----(?:BEGIN|END)[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
# crypt(3) and htpasswd hashes (`user:$apr1$...`): offline-crackable, so as secret as the password.
_CRYPT = r"[./A-Za-z0-9]"
_PASSWORD_HASH = (
    rf"\$(?:2[abxy]\$\d\d\${_CRYPT}{{53}}|(?:apr1|1)\${_CRYPT}{{1,8}}\${_CRYPT}{{22}}"
    rf"|[56]\$(?:rounds=\d+\$)?{_CRYPT}{{1,16}}\${_CRYPT}{{43,86}}|y\${_CRYPT}+\${_CRYPT}+\${_CRYPT}{{43}}"
    r"|argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+)"
    r"|\{SSHA\}[A-Za-z0-9+/]{20,}={0,2}|\{SHA\}[A-Za-z0-9+/]{27}="
)
# A cookie value ends like a bare value (at `,` or a closing bracket only when text follows directly) and at
# `;`.
_COOKIE_VALUE = r"(?:[^\s;,\"'`)\]}>]|[,)\]}>](?=[^\s,;.)\]}>'\"&]))"
_COOKIE_PAIR = rf"[^\s;,=\"'`]+={_COOKIE_VALUE}*"

# Order matters: precise vendor shapes first, so `GITHUB_TOKEN=ghp_...` is labelled github-token; the generic
# key/value rule last (it skips values that are already placeholders).
_SECRET_RULES: tuple[_Rule, ...] = (
    _Rule(
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n)*"
            # the body ends at non-space (checked first: trying the end after every space is quadratic)
            rf"(?P<secret>\S.*?)(?<=\S)(?<!\\n)(?:\s|\\n)*(?:{_PEM_LABEL}|\Z)",
            re.DOTALL,
        ),
        "private-key",
    ),
    _token(
        "aws-access-key", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b"
    ),
    _token("gcp-api-key", r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _token("github-token", r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
    _token("gitlab-token", r"gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}"),
    _token("slack-token", r"(?:xox[abposre](?:\.xox[bp])?|xapp)-[A-Za-z0-9_-]{10,}"),
    _token(
        "stripe-key",
        r"sk_(?:live|test)_[A-Za-z0-9]{10,}|rk_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}",
    ),
    _token("anthropic-key", r"sk-ant-[A-Za-z0-9_-]{20,}"),
    _token("openai-key", r"sk-[A-Za-z0-9_-]{40,}"),
    _token("twilio-key", r"AC[0-9a-f]{32}\b|SK[0-9a-f]{32}\b"),
    _token("sendgrid-key", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    _token("npm-token", r"npm_[A-Za-z0-9]{30,}"),
    _token("pypi-token", r"pypi-[A-Za-z0-9_-]{40,}"),
    _token("atlassian-token", r"AT(?:ATT|CTT)3[A-Za-z0-9_=-]{20,}"),
    _token("google-oauth-token", r"ya29\.[A-Za-z0-9_-]{20,}|1//0[A-Za-z0-9_-]{30,}"),
    _token("vault-token", r"hv[sbr]\.[A-Za-z0-9_-]{24,}"),
    _token("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    _Rule(
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9/_-]+)"),
        "slack-webhook",
    ),
    _token(
        "discord-token",
        r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_-])",
    ),
    _Rule(
        re.compile(r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks/(?P<secret>\d+/[A-Za-z0-9_-]+)"),
        "discord-webhook",
    ),
    _token(
        "telegram-token",
        r"\d(?<!\d\d)\d{7,9}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])",
        lambda text: ":AA" in text,
    ),
    _Rule(re.compile(r"api\.telegram\.org/(?:file/)?bot(?P<secret>[^/\s?#]+)"), "telegram-token"),
    _Rule(re.compile(rf"(?P<secret>{_PASSWORD_HASH})(?![./A-Za-z0-9])"), "password-hash", full_stop=False),
    _Rule(
        re.compile(r"(?P<secret>[2-6](?<![\w.,/+-][2-6])\d{3}(?:[ -]?\d){9,15})(?![\w-]|[.,]\d)"), _card_kind
    ),
    _Rule(re.compile(r"[?&;]sig=(?P<secret>[A-Za-z0-9%+/=]{16,})"), "azure-sas"),
    _Rule(re.compile(rf"://[^\s:/?#@\[\]]*:{_NOT_REDACTED}(?P<secret>[^\s/?#]+)@"), "url-credentials"),
    _Rule(  # also Proxy-Authorization
        re.compile(
            r"[Aa](?i:uthorization)(?P<kq>\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?"
            r"(?:(?P<scheme>(?i:bearer|basic|token|apikey|ssws|key))[ \t]+)?"
            rf"{_NOT_REDACTED}(?P<secret>[^\s'\"`\\,]+)"
        ),
        _authorization_kind,
    ),
    _Rule(
        re.compile(
            rf"[Bb](?<!\w[Bb])(?i:earer)[ \t]+{_NOT_REDACTED}"
            r"(?P<secret>(?=[\w.~+/=-]*\d)[\w.~+/=-]{12,})"
        ),
        "bearer-token",
    ),
    _Rule(
        re.compile(r"-(?<![\w-]-)(?:u|-user)[ \t]+[\"']?[^\s:'\"]+:(?P<secret>[^\s'\"]+)"),
        _curl_user_kind,
        gate=_mentions("curl"),
    ),
    _Rule(
        re.compile(
            r"-(?<![\w-]-)(?P<flag>[pa])(?P<gap>[ \t]+|=)?(?P<q>[\"'])?"
            rf"{_NOT_REDACTED}(?P<secret>(?(q)[^\"'\n]+|[^\s\"'`;|&]+))(?(q)(?P=q))"
        ),
        _password_flag_kind,
        gate=_mentions("mysql", "mariadb", "sshpass", "login", "redis-cli"),
    ),
    _Rule(  # a request's cookies, all of them: `Cookie: session=...; csrftoken=...`
        re.compile(
            rf"[Cc](?<![\w-][Cc])(?i:ookie)\\?[\"']?[ \t]*[:=][ \t]*(?:\\?[\"'])?{_NOT_REDACTED}"
            rf"(?P<secret>{_COOKIE_PAIR}(?:;[ \t]*{_COOKIE_PAIR})*)"
        ),
        "cookie",
        gate=_mentions("cookie"),
    ),
    _Rule(  # a response's cookie: its value; the name and the attributes (`Path=/; HttpOnly`) stay
        re.compile(
            r"[Ss](?<![\w-][Ss])(?i:et-cookie)\\?[\"']?[ \t]*[:=][ \t]*(?:\\?[\"'])?[^\s;,=\"'`]+="
            rf"{_NOT_REDACTED}(?P<secret>{_COOKIE_VALUE}+)"
        ),
        "cookie",
        gate=_mentions("cookie"),
    ),
    _Rule(
        re.compile(
            rf"-(?<![\w-]-)(?:-cookie|b)[ \t]+[\"']?{_NOT_REDACTED}"
            rf"(?P<secret>{_COOKIE_PAIR}(?:;[ \t]*{_COOKIE_PAIR})*)"
        ),
        _cookie_flag_kind,
        gate=_mentions("--cookie", "curl"),
    ),
    _Rule(
        re.compile(
            r"--(?<![\w-]--)[\w-]*?(?P<word>(?i:password|passwd|token|secret|api-?key))[ \t]+"
            rf"(?!-){_NOT_REDACTED}(?P<secret>[^\s'\"`]+)"
        ),
        _flag_kind,
    ),
    _Rule(
        re.compile(
            rf"(?P<word>{_KEY_WORD})(?P<kq>\\?[\"'])?"
            rf"(?P<sep>[ \t]*(?::=|=>|[:=])(?!:)[ \t]*(?:\r?\n(?![ \t\"'\\]|{_KEY_AHEAD}))?)"
            rf"(?P<q>\\?[\"'])?{_NOT_REDACTED}"
            rf"(?P<secret>(?(q)(?:(?!(?P=q))(?:\\.|[^\n]))+|{_BARE_VALUE}))(?(q)(?:(?P=q)|(?=\n)|\Z))",
            re.IGNORECASE,
        ),
        _key_value_kind,
        anchor=_KEY_WORD_BEFORE_SEPARATOR,
    ),
    _Rule(  # prose: "the password is X", "pw was X", "the API key is now X", "token for svc-ci is: X"
        re.compile(
            rf"(?P<word>[PpSsTtAa](?<![A-Za-z][PpSsTtAa])(?i:{_PROSE_WORDS}))"
            r"(?:[ \t]+(?i:for)[ \t]+[\w.@-]{1,40})?[ \t]+"
            r"(?i:(?:(?:is|was)[ \t]+)?(?:set|changed|reset)[ \t]+to|(?:is|was)(?:[ \t]+(?:now|still))?)"
            r":?[ \t]+"
            rf"(?P<q>[\"'`])?{_NOT_REDACTED}(?P<secret>(?(q)[^\"'`\n]+|{_BARE_VALUE}))(?(q)(?P=q))"
        ),
        _prose_kind,
        gate=_mentions("pass", "pw", "secret", "token", "key"),
    ),
    _Rule(
        re.compile(
            r"(?P<secret>[A-Za-z0-9+/](?<![\w+/=.:-][A-Za-z0-9+/])[A-Za-z0-9+/]{39})(?![\w+/=-]|\.\w)"
        ),
        _aws_secret_kind,
        gate=_near_aws,
    ),
    _Rule(  # a long key right after a secret word, no `=`: "the api key 9f8e...", "token kR7p..."
        re.compile(
            r"(?P<word>[KkSsTtPpCc](?<![A-Za-z][KkSsTtPpCc])"
            r"(?i:ey|ecret|oken|assword|asswd|assphrase|redentials?))[ \t]+"
            rf"(?P<q>[\"'`]?){_NOT_REDACTED}(?P<secret>[A-Za-z0-9+/_-]{{20,}}={{0,2}})(?P=q)(?![\w+/=-]|\.\w)"
        ),
        _bare_key_kind,
        gate=_mentions("key", "secret", "token", "pass", "credential"),
    ),
)

_EMAIL_RULE = _Rule(
    re.compile(r"(?P<secret>[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])"),
    "email",
    anchor=re.compile(r"@[\w.%+-]+"),  # reversed: the `@`, then the whole local part
)
_PHONE_RULE = _Rule(
    re.compile(  # the first character, then "nothing phone-like before it", then the rest
        r"(?P<secret>[+(0-9](?<![\w+.-][+(0-9])(?:(?<=\+)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
        r"|(?<=\()\d{3}\)[ ]?\d{3}[.-]\d{4}|(?<=\d)\d{2}[.-]\d{3}[.-]\d{4}))(?![\w-]|\.\d)"
    ),
    _phone_kind,
)


# Letters drawn like ASCII ones (Cyrillic, Greek, dotless i) and dashes drawn like `-`. NFKC already folds
# full-width (`ghp_` typed as U+FF47 U+FF48 U+FF50 U+FF3F), mathematical and other compatibility forms.
_LOOK_ALIKES = {
    "a": "\u0430",  # Cyrillic small a
    "c": "\u0441",
    "d": "\u0501",
    "e": "\u0435",
    "h": "\u04bb",
    "i": "\u0456\u0131",  # Cyrillic small Byelorussian-Ukrainian i, Latin small dotless i
    "j": "\u0458",
    "l": "\u04cf",
    "o": "\u043e\u03bf",  # Cyrillic small o, Greek small omicron
    "p": "\u0440",
    "q": "\u051b",
    "s": "\u0455",
    "w": "\u051d",
    "x": "\u0445",
    "y": "\u0443",
    "A": "\u0410\u0391",  # Cyrillic capital A, Greek capital alpha
    "B": "\u0412\u0392",
    "C": "\u0421",
    "E": "\u0415\u0395",
    "H": "\u041d\u0397",
    "I": "\u0406\u0399",
    "J": "\u0408",
    "K": "\u041a\u039a",
    "M": "\u041c\u039c",
    "N": "\u039d",
    "O": "\u041e\u039f",
    "P": "\u0420\u03a1",
    "Q": "\u051a",
    "S": "\u0405",
    "T": "\u0422\u03a4",
    "W": "\u051c",
    "X": "\u0425\u03a7",
    "Y": "\u04ae\u03a5",
    "Z": "\u0396",
    "-": "\u2010\u2011\u2012\u2013\u2212",
}
_HOMOGLYPHS = str.maketrans({alike: plain for plain, alikes in _LOOK_ALIKES.items() for alike in alikes})


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """What a reader takes a non-ASCII character for: nothing for an invisible one (zero-width space, joiner,
    word joiner, BOM, soft hyphen, bidi controls: Unicode format characters; combining marks), else its NFKC
    form with look-alike letters made ASCII."""
    if unicodedata.category(char) in ("Cf", "Mn"):
        return ""
    return unicodedata.normalize("NFKC", char).translate(_HOMOGLYPHS)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BREAK = re.compile(r"\n(?=[A-Za-z0-9_+/-])")  # starts with a literal: found at memchr speed
_WRAPPABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/-")
# The next line's first run, not a `key:` or `KEY=value` (`=` only as base64 padding); the line's last run.
_CONTINUATION = re.compile(r"[A-Za-z0-9_+/.-]++(?:=++(?=[\s\"'`]|\Z))?(?![=:])")
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/.=-")


def _token_like(part: str) -> bool:
    """Digits, or mixed case past the first letter: a piece of a token, not a word."""
    return any(c.isdigit() for c in part) or (
        any(c.isupper() for c in part[1:]) and any(c.islower() for c in part)
    )


def _wraps_token(text: str, start: int, end: int) -> bool:
    """Does the line break `text[start:end]` sit inside a token, as when a chat client or a terminal wraps a
    long one? Both the line's last run and the next line's first run look like pieces of a token."""
    first, limit = start, max(0, start - 200)
    while first > limit and text[first - 1] in _TOKEN_CHARACTERS:
        first -= 1
    after = _CONTINUATION.match(text, end)
    return bool(after and _token_like(text[first:start]) and _token_like(after.group()))


Change = tuple[int, int, str]  # start, end, replacement: one step from the text to the reader's view of it


def _changes(text: str) -> tuple[list[Change], list[int]]:
    """What the reader's view changes, in order: each character to fold and each line break inside a token
    (removed); and where those line breaks are."""
    changes = []
    if not text.isascii():
        for char in _NON_ASCII.finditer(text):
            if (folded := _fold(char.group())) != char.group():
                changes.append((char.start(), char.end(), folded))
    joins = []
    for newline in _BREAK.finditer(text):
        start = newline.start() - (text[newline.start() - 1 : newline.start()] == "\r")
        if start and text[start - 1] in _WRAPPABLE and _wraps_token(text, start, newline.end()):
            joins.append(start)
            changes.append((start, newline.end(), ""))
    return sorted(changes), joins


def _view(text: str, changes: list[Change], start: int, end: int) -> tuple[str, list[int], list[int]]:
    """The reader's view of `text[start:end]`, and for each of its characters the span of `text` it came from
    (`starts[i]`, `ends[i]`)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = start
    for first, last, replacement in changes:
        pieces += (text[done:first], replacement)
        starts += [*range(done, first), *[first] * len(replacement)]
        ends += [*range(done + 1, first + 1), *[last] * len(replacement)]
        done = last
    pieces.append(text[done:end])
    starts += range(done, end)
    ends += range(done + 1, end + 1)
    return "".join(pieces), starts, ends


def _joined_lines(text: str, joins: list[int]) -> list[tuple[int, int]]:
    """The stretches of `text` that the removed line breaks join into one line each: from the start of the
    line before a break to the end of the line after it, overlapping stretches merged."""
    lines: list[tuple[int, int]] = []
    for join in joins:
        after = text.find("\n", join) + 1  # the next line's start
        start, end = text.rfind("\n", 0, join) + 1, text.find("\n", after)
        end = len(text) if end < 0 else end
        if lines and start < lines[-1][1]:
            start = lines.pop()[0]
        lines.append((start, end))
    return lines


def _reader_secrets(rules: tuple[_Rule, ...], text: str) -> list[Span]:
    """The secrets only the reader's view of `text` shows, as spans of `text`. Where characters were folded:
    all the view shows. In a text only re-joined: those across a removed line break, found in the joined
    lines alone, read as one text, one line each (the rest of the text reads the same either way)."""
    if text.isascii() and "\n" not in text:
        return []
    changes, joins = _changes(text)
    if len(changes) > len(joins):
        return _tracked(rules, *_view(text, changes, 0, len(text)))
    lines = _joined_lines(text, joins)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in lines:
        inside = changes[bisect_left(changes, (start,)) : bisect_left(changes, (end,))]
        line, line_starts, line_ends = _view(text, inside, start, end)
        pieces += (line, "\n")
        starts += [*line_starts, end]
        ends += [*line_ends, end + 1]
    line_starts = [start for start, _ in lines]
    found: list[Span] = []
    for span in _tracked(rules, "".join(pieces), starts, ends):
        line_end = lines[bisect_right(line_starts, span[0]) - 1][1]
        after = bisect_right(joins, span[0])
        if span[1] <= line_end and after < len(joins) and joins[after] < span[1]:
            found.append(span)  # within one joined line, across a removed break
    return found


def _tracked(rules: tuple[_Rule, ...], text: str, starts: list[int], ends: list[int]) -> list[Span]:
    """Apply `rules` in turn as `Redactor` does, and return the secrets' spans in the original text, which
    `starts` and `ends` map `text` back to (each placeholder maps to the span it replaced)."""
    found: list[Span] = []
    for rule in rules:
        spans = rule.find(text)
        if not spans:
            continue
        new_starts: list[int] = []
        new_ends: list[int] = []
        done = 0
        for start, end, kind in spans:
            original = (starts[start], ends[end - 1], kind)
            size = len(f"[REDACTED:{kind}]")
            new_starts += [*starts[done:start], *[original[0]] * size]
            new_ends += [*ends[done:start], *[original[1]] * size]
            found.append(original)
            done = end
        text = _splice(text, spans)
        starts, ends = new_starts + starts[done:], new_ends + ends[done:]
    return found


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted, overlapping spans joined; the outer (first, longest) one names the joined span."""
    merged: list[Span] = []
    for start, end, kind in sorted(spans, key=lambda span: (span[0], -span[1])):
        if merged and start < merged[-1][1]:
            first, last, first_kind = merged[-1]
            merged[-1] = (first, max(last, end), first_kind)
        else:
            merged.append((start, end, kind))
    return merged


class Redactor:
    """Redaction with fixed options, built once and called for every outgoing text.

    `emails` and `phones` redact e-mail addresses and phone numbers too. Both are off by default: incident
    chat names people and on-call aliases by address and number, tickets and postmortems need them, and
    neither is a credential. Turn `emails` on where personal data must not leave (a hosted LLM under a strict
    data policy).

    A text with non-ASCII characters or line breaks inside tokens is also matched as a reader sees it
    (`_reader_secrets`): a token with a zero-width space inside, a full-width or Cyrillic-lettered prefix, or
    a token wrapped onto the next line is found there and redacted in the original text, whole.
    """

    def __init__(self, *, emails: bool = False, phones: bool = False) -> None:
        self.emails = emails
        self.phones = phones
        optional = ((_EMAIL_RULE,) if emails else ()) + ((_PHONE_RULE,) if phones else ())
        self._rules = _SECRET_RULES + optional

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if hidden := _reader_secrets(self._rules, text):  # first; the rules then skip its placeholders
            text = _splice(text, _merged(hidden))
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
