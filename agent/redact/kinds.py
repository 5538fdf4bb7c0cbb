"""What a match is: the functions that name a rule's match (`password`, `aws-secret-key`, ...) or say it is no
secret after all (a reference like `$DB_PASSWORD`, a port after `ssh -p`, a word, a path, an id).

Each looks at the match and the text around it: the key it belongs to, the program on its line, the words near
it, a card number's check digit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

# Not a secret but where one comes from: `$DB_PASSWORD`, `$token`, `$(oc create token ...)`, `${X}`,
# `{{ .x }}`, `<your-token>`, `%API_KEY%`, `****`. A lower-case variable name has no digits (`$ecret99` is a
# password).
_REFERENCE = re.compile(
    r"\$[A-Z_][A-Z0-9_]*|\$[A-Za-z_]+|\$\(.*|\$\{[^}]*\}?|\$\{\{.*|\{\{.*|<[^<>]+>?|%[A-Z_]+%|\*+"
)


def near_aws(text: str) -> bool:
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


def key_value_kind(match: re.Match[str]) -> str | None:
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


def flag_kind(match: re.Match[str]) -> str | None:
    value = match.group("secret")
    if _REFERENCE.fullmatch(value) or not _looks_secret(value):
        return None
    return _key_label(match.group("word"), match.group("word"))


def authorization_kind(match: re.Match[str]) -> str | None:
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


def curl_user_kind(match: re.Match[str]) -> str | None:
    """`-u user:password` is a credential for curl, not for `docker run -u 1000:1000`."""
    return "password" if re.search(r"\bcurl\b", _line_before(match)) else None


def cookie_flag_kind(match: re.Match[str]) -> str | None:
    """`--cookie 'a=b'` anywhere; `-b 'a=b'` only for curl (`git checkout -b x` is a branch)."""
    return "cookie" if match.group(0).startswith("--") or curl_user_kind(match) else None


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


def password_flag_kind(match: re.Match[str]) -> str | None:
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


def _prose_secret(value: str) -> bool:
    """A value in prose that looks like a secret: not a reference, a URL, a path or an e-mail address."""
    if _REFERENCE.fullmatch(value) or "://" in value or value.startswith(("/", "~/", "./")):
        return False
    return _looks_secret(value) and not re.fullmatch(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", value)


# "set the secret to X", "we reset the admin password to X": a verb, at most three words, the secret word.
_SET_BEFORE = re.compile(
    r"(?i:\b(?:set|reset|changed?|changing|updated?|rotated?))(?:[ \t]+[\w.'-]+){0,3}[ \t]+\Z"
)


def prose_kind(match: re.Match[str]) -> str | None:
    """Prose like "the password is hunter2!" or "set the secret to hunter2": a value that looks like a secret,
    not a URL, a path or (after "secret" and "token", which are also Kubernetes kinds) an object name like
    `payments-db-credentials`. A bare "to" needs a verb before the word ("the secret to a calm on-call")."""
    value, word = match.group("secret"), match.group("word").lower()
    if match.group("to"):
        if not (_SET_BEFORE.search(_line_before(match, 80)) and _reads_like_password(value)):
            return None
    elif not _prose_secret(value):
        return None
    if word in ("secret", "token") and re.fullmatch(r"[a-z0-9]+(?:[-.][a-z0-9]+)+", value):
        return None
    return _key_label(word, word)


# Without "is" a word after "password" must read like a password, not like a name or a number: a date, time,
# count or version (`2024-03-01`, `v2.3.1`), a ticket (`INC-1234`), an acronym (`PBKDF2`), words (`and/or`), a
# remark in brackets.
_NOT_A_PASSWORD = re.compile(
    r"[\W\d_]+|v?\d+(?:\.\d+)+\S*|[A-Z][A-Z0-9]*-\d+|[A-Z]+\d+|[A-Za-z]+(?:/[A-Za-z]+)+|[(\[{].*"
)


def _reads_like_password(value: str) -> bool:
    """A prose secret with a digit or a symbol besides a sentence's end (`grant_type`, `auth.basic`,
    `PasswordEncoder` and "provided!" have none)."""
    value = value.removesuffix(".")
    symbol = any(c.isdigit() or not (c.isalnum() or c in "_.-") for c in value.rstrip("!?"))
    into_placeholder = "[REDACTED:" in value  # a bare value running on into one (`password =[REDACTED:...`)
    return symbol and not into_placeholder and _prose_secret(value) and not _NOT_A_PASSWORD.fullmatch(value)


def password_word_kind(match: re.Match[str]) -> str | None:
    """A password right after its word, without "is": `password hunter2`, `passwd Tr0ub4dor&3`."""
    return "password" if _reads_like_password(match.group("secret")) else None


def user_password_kind(match: re.Match[str]) -> str | None:
    """The password after a user name and a login word: `creds admin:hunter2`, `login with admin / Pa55!`. Not
    one: a port, a time or an ARN after a colon (`node-1:2222`, `09:55:12`, `arn:aws:iam::1:role/x`), a path."""
    value = match.group("secret")
    return "password" if _reads_like_password(value) and not any(c in value for c in ":/") else None


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


def aws_secret_kind(match: re.Match[str]) -> str | None:
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


def bare_key_kind(match: re.Match[str]) -> str | None:
    """`api key 9f8e...`, `token kR7p...`: a long hex (32+) or random-looking base64 (24+) value right after a
    secret word, without `=` or `:`; or after a key named just `key` (`key=9f8e...`, `"key": "9f8e..."`). A
    longer name is the key/value rule's when it names a secret (`api_key`), else an id (`incident_key`,
    `Sec-WebSocket-Key`)."""
    value, word = match.group("secret"), match.group("word").lower()
    if match.group("sep") and _key_before(match).lower() != "key":
        return None
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


def card_kind(match: re.Match[str]) -> str | None:
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


def phone_kind(match: re.Match[str]) -> str | None:
    digits = sum(c.isdigit() for c in match.group("secret"))
    return "phone" if 8 <= digits <= 15 else None
