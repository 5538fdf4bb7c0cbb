"""The rule table: every secret shape Debrief redacts, in the order they apply, and the optional e-mail and
phone rules.

Vendor tokens are matched by their prefixes; everything else by its context (a secret-named key, a password
flag, prose, a header, a cookie), whose kind functions (`kinds`) decide what a match is.
"""

from __future__ import annotations

import re

from agent.redact.kinds import (
    authorization_kind,
    aws_secret_kind,
    bare_key_kind,
    card_kind,
    cookie_flag_kind,
    curl_user_kind,
    flag_kind,
    key_value_kind,
    near_aws,
    password_flag_kind,
    password_word_kind,
    phone_kind,
    prose_kind,
    user_password_kind,
)
from agent.redact.rule import Rule, mentions, token_rule

# A placeholder is never redacted again, also where a chat reply escapes it for Markdown (`\[REDACTED:token]`).
_NOT_REDACTED = r"(?!\\?\[REDACTED:)"
# A bare value ends at whitespace, a quote or `;`; at `&` only before the next `name=` (a query string);
# at `,` and closing brackets only when text follows them directly (`p@ss)word` stays whole, `(token=abc), x`
# keeps its `)`).
_BARE_VALUE = r"(?:[^\s'\"`&,;)\]}>]|&(?![\w.\[\]-]+=)|[,)\]}>](?=[^\s,;.)\]}>'\"&]))+"
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
SECRET_RULES: tuple[Rule, ...] = (
    Rule(
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n)*"
            # the body ends at non-space (checked first: trying the end after every space is quadratic)
            rf"(?P<secret>\S.*?)(?<=\S)(?<!\\n)(?:\s|\\n)*(?:{_PEM_LABEL}|\Z)",
            re.DOTALL,
        ),
        "private-key",
    ),
    token_rule(
        "aws-access-key", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b"
    ),
    token_rule("gcp-api-key", r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    token_rule("github-token", r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
    token_rule("gitlab-token", r"gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}"),
    token_rule("slack-token", r"(?:xox[abposre](?:\.xox[bp])?|xapp)-[A-Za-z0-9_-]{10,}"),
    token_rule(
        "stripe-key",
        r"sk_(?:live|test)_[A-Za-z0-9]{10,}|rk_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}",
    ),
    token_rule("anthropic-key", r"sk-ant-[A-Za-z0-9_-]{20,}"),
    token_rule("openai-key", r"sk-[A-Za-z0-9_-]{40,}"),
    token_rule("twilio-key", r"AC[0-9a-f]{32}\b|SK[0-9a-f]{32}\b"),
    token_rule("sendgrid-key", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    token_rule("npm-token", r"npm_[A-Za-z0-9]{30,}"),
    token_rule("pypi-token", r"pypi-[A-Za-z0-9_-]{40,}"),
    token_rule("atlassian-token", r"AT(?:ATT|CTT)3[A-Za-z0-9_=-]{20,}"),
    token_rule("google-oauth-token", r"ya29\.[A-Za-z0-9_-]{20,}|1//0[A-Za-z0-9_-]{30,}"),
    token_rule("vault-token", r"hv[sbr]\.[A-Za-z0-9_-]{24,}"),
    token_rule("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    Rule(
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9/_-]+)"),
        "slack-webhook",
    ),
    token_rule(
        "discord-token",
        r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_-])",
    ),
    Rule(
        re.compile(r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks/(?P<secret>\d+/[A-Za-z0-9_-]+)"),
        "discord-webhook",
    ),
    token_rule(
        "telegram-token",
        r"\d(?<!\d\d)\d{7,9}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])",
        lambda text: ":AA" in text,
    ),
    Rule(re.compile(r"api\.telegram\.org/(?:file/)?bot(?P<secret>[^/\s?#]+)"), "telegram-token"),
    Rule(re.compile(rf"(?P<secret>{_PASSWORD_HASH})(?![./A-Za-z0-9])"), "password-hash", full_stop=False),
    Rule(
        re.compile(r"(?P<secret>[2-6](?<![\w.,/+-][2-6])\d{3}(?:[ -]?\d){9,15})(?![\w-]|[.,]\d)"), card_kind
    ),
    Rule(re.compile(r"[?&;]sig=(?P<secret>[A-Za-z0-9%+/=]{16,})"), "azure-sas"),
    Rule(re.compile(rf"://[^\s:/?#@\[\]]*:{_NOT_REDACTED}(?P<secret>[^\s/?#]+)@"), "url-credentials"),
    Rule(  # also Proxy-Authorization
        re.compile(
            r"[Aa](?i:uthorization)(?P<kq>\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?"
            r"(?:(?P<scheme>(?i:bearer|basic|token|apikey|ssws|key))[ \t]+)?"
            rf"{_NOT_REDACTED}(?P<secret>[^\s'\"`\\,]+)"
        ),
        authorization_kind,
    ),
    Rule(
        re.compile(
            rf"[Bb](?<!\w[Bb])(?i:earer)[ \t]+{_NOT_REDACTED}"
            r"(?P<secret>(?=[\w.~+/=-]*\d)[\w.~+/=-]{12,})"
        ),
        "bearer-token",
    ),
    Rule(
        re.compile(r"-(?<![\w-]-)(?:u|-user)[ \t]+[\"']?[^\s:'\"]+:(?P<secret>[^\s'\"]+)"),
        curl_user_kind,
        gate=mentions("curl"),
    ),
    Rule(
        re.compile(
            r"-(?<![\w-]-)(?P<flag>[pa])(?P<gap>[ \t]+|=)?(?P<q>[\"'])?"
            rf"{_NOT_REDACTED}(?P<secret>(?(q)[^\"'\n]+|[^\s\"'`;|&]+))(?(q)(?P=q))"
        ),
        password_flag_kind,
        gate=mentions("mysql", "mariadb", "sshpass", "login", "redis-cli"),
    ),
    Rule(  # a request's cookies, all of them: `Cookie: session=...; csrftoken=...`
        re.compile(
            rf"[Cc](?<![\w-][Cc])(?i:ookie)\\?[\"']?[ \t]*[:=][ \t]*(?:\\?[\"'])?{_NOT_REDACTED}"
            rf"(?P<secret>{_COOKIE_PAIR}(?:;[ \t]*{_COOKIE_PAIR})*)"
        ),
        "cookie",
        gate=mentions("cookie"),
    ),
    Rule(  # a response's cookie: its value; the name and the attributes (`Path=/; HttpOnly`) stay
        re.compile(
            r"[Ss](?<![\w-][Ss])(?i:et-cookie)\\?[\"']?[ \t]*[:=][ \t]*(?:\\?[\"'])?[^\s;,=\"'`]+="
            rf"{_NOT_REDACTED}(?P<secret>{_COOKIE_VALUE}+)"
        ),
        "cookie",
        gate=mentions("cookie"),
    ),
    Rule(
        re.compile(
            rf"-(?<![\w-]-)(?:-cookie|b)[ \t]+[\"']?{_NOT_REDACTED}"
            rf"(?P<secret>{_COOKIE_PAIR}(?:;[ \t]*{_COOKIE_PAIR})*)"
        ),
        cookie_flag_kind,
        gate=mentions("--cookie", "curl"),
    ),
    Rule(
        re.compile(
            r"--(?<![\w-]--)[\w-]*?(?P<word>(?i:password|passwd|token|secret|api-?key))[ \t]+"
            rf"(?!-){_NOT_REDACTED}(?P<secret>[^\s'\"`]+)"
        ),
        flag_kind,
    ),
    Rule(
        re.compile(
            rf"(?P<word>{_KEY_WORD})(?P<kq>\\?[\"'])?"
            rf"(?P<sep>[ \t]*(?::=|=>|[:=])(?![:=])[ \t]*(?:\r?\n(?![ \t\"'\\]|{_KEY_AHEAD}))?)"
            rf"(?P<q>\\?[\"'])?{_NOT_REDACTED}"
            rf"(?P<secret>(?(q)(?:(?!(?P=q))(?:\\.|[^\n]))+|{_BARE_VALUE}))(?(q)(?:(?P=q)|(?=\n)|\Z))",
            re.IGNORECASE,
        ),
        key_value_kind,
        anchor=_KEY_WORD_BEFORE_SEPARATOR,
    ),
    Rule(  # prose: "the password is X", "pw was X", "the API key is now X", "token for svc-ci is: X", and
        # "set the secret to X" (`to`: `prose_kind` looks for the verb)
        re.compile(
            rf"(?P<word>[PpSsTtAa](?<![A-Za-z][PpSsTtAa])(?i:{_PROSE_WORDS}))"
            r"(?:[ \t]+(?i:for)[ \t]+[\w.@-]{1,40})?[ \t]+"
            r"(?i:(?:(?:is|was)[ \t]+)?(?:set|changed|reset)[ \t]+to|(?:is|was)(?:[ \t]+(?:now|still))?"
            r"|(?P<to>to))"
            r":?[ \t]+"
            rf"(?P<q>[\"'`])?{_NOT_REDACTED}(?P<secret>(?(q)[^\"'`\n]+|{_BARE_VALUE}))(?(q)(?P=q))"
        ),
        prose_kind,
        gate=mentions("pass", "pw", "secret", "token", "key"),
    ),
    Rule(  # prose without "is": "password hunter2", "passwd 'Tr0ub4dor&3'"
        re.compile(
            r"(?P<word>[Pp](?<![A-Za-z][Pp])(?i:assword|asswd|assphrase))[ \t]+"
            rf"(?P<q>[\"'`])?{_NOT_REDACTED}(?P<secret>(?(q)[^\s\"'`]+|{_BARE_VALUE}))(?(q)(?P=q))"
        ),
        password_word_kind,
        gate=mentions("pass"),
    ),
    Rule(  # a user and password after a login word: "creds admin:hunter2", "login with admin / Winter2024!"
        re.compile(
            r"(?P<word>[CcLlSs](?<![A-Za-z][CcLlSs])"
            r"(?i:(?<=[Cc])red(?:s|entials?)|(?<=[Ll])og[ -]?in|(?<=[Ss])ign[ -]?in))(?![A-Za-z])"
            r"(?:[ \t]+(?i:is|are|was|were|with|as|using|for))?[ \t]*:?[ \t]+[\"'`]?"
            rf"[\w.@+-]{{1,64}}(?:[ \t]+/[ \t]+|:){_NOT_REDACTED}(?P<secret>{_BARE_VALUE})"
        ),
        user_password_kind,
        gate=mentions("cred", "login", "log in", "log-in", "sign in", "signin", "sign-in"),
    ),
    Rule(
        re.compile(
            r"(?P<secret>[A-Za-z0-9+/](?<![\w+/=.:-][A-Za-z0-9+/])[A-Za-z0-9+/]{39})(?![\w+/=-]|\.\w)"
        ),
        aws_secret_kind,
        gate=near_aws,
    ),
    Rule(  # a long key right after a secret word: "the api key 9f8e...", "token kR7p...", also `key=9f8e...`
        re.compile(
            r"(?P<word>[KkSsTtPpCc](?<![A-Za-z][KkSsTtPpCc])"
            r"(?i:ey|ecret|oken|assword|asswd|assphrase|redentials?))"
            r"(?:[ \t]+|(?<=[Yy])(?P<sep>[\"']?[ \t]*[=:])[ \t]*)"
            rf"(?P<q>[\"'`]?){_NOT_REDACTED}(?P<secret>[A-Za-z0-9+/_-]{{20,}}={{0,2}})(?P=q)(?![\w+/=-]|\.\w)"
        ),
        bare_key_kind,
        gate=mentions("key", "secret", "token", "pass", "credential"),
    ),
)

EMAIL_RULE = Rule(
    re.compile(r"(?P<secret>[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])"),
    "email",
    anchor=re.compile(r"@[\w.%+-]+"),  # reversed: the `@`, then the whole local part
)
PHONE_RULE = Rule(
    re.compile(  # the first character, then "nothing phone-like before it", then the rest
        r"(?P<secret>[+(0-9](?<![\w+.-][+(0-9])(?:(?<=\+)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
        r"|(?<=\()\d{3}\)[ ]?\d{3}[.-]\d{4}|(?<=\d)\d{2}[.-]\d{3}[.-]\d{4}))(?![\w-]|\.\d)"
    ),
    phone_kind,
)
