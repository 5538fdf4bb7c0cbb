"""The redactor's contract: no planted secret survives, the words around it do, and ordinary incident text is
left exactly as it was."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import random
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from agent.redact import RedactingFilter, Redactor, install_log_redaction, redact
from tests.redact_fixtures import PATHOLOGICAL, benign_sentences

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
BASE64 = ALNUM + "+/"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits


def body(rng: random.Random, alphabet: str, length: int) -> str:
    """A random token body that, like real ones, has at least one digit."""
    chars = [rng.choice(alphabet) for _ in range(length)]
    chars[rng.randrange(length)] = rng.choice(string.digits)
    return "".join(chars)


def password(rng: random.Random, symbols: str = "!#%^*_+-") -> str:
    return body(rng, ALNUM, rng.randint(9, 18)) + rng.choice(symbols) + rng.choice(string.digits)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Plant:
    """A secret as it shows up in text: `prefix + value + suffix`; `secrets` must all disappear."""

    kind: str
    prefix: str
    value: str
    suffix: str = ""
    secrets: tuple[str, ...] = ()

    @property
    def fragment(self) -> str:
        return self.prefix + self.value + self.suffix

    @property
    def must_vanish(self) -> tuple[str, ...]:
        return self.secrets or (self.value,)


def pem(rng: random.Random, label: str, newline: str = "\n") -> Plant:
    lines = tuple(body(rng, BASE64, 64) for _ in range(rng.randint(3, 6)))
    return Plant(
        "private-key",
        f"-----BEGIN {label}-----{newline}",
        newline.join(lines),
        f"{newline}-----END {label}-----",
        lines,
    )


def jwt(rng: random.Random) -> Plant:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": f"user-{rng.randint(1000, 9999)}", "exp": rng.randint(1_700_000_000, 1_800_000_000)}
    payload = b64url(json.dumps(claims).encode())
    signature = body(rng, URLSAFE, 43)
    return Plant(
        "jwt", "Authorization: Bearer ", f"{header}.{payload}.{signature}", secrets=(payload, signature)
    )


def basic_auth(rng: random.Random) -> Plant:
    credentials = base64.b64encode(f"svc-deploy:{password(rng)}".encode()).decode()
    return Plant("basic-auth", "curl -H 'Authorization: Basic ", credentials, "' https://ci.example.com/api")


def slack_webhook(rng: random.Random) -> Plant:
    path = f"T{body(rng, UPPER_DIGITS, 8)}/B{body(rng, UPPER_DIGITS, 10)}/{body(rng, ALNUM, 24)}"
    return Plant("slack-webhook", "https://hooks.slack.com/services/", path)


def discord_token(rng: random.Random) -> str:
    """A bot token: the base64 of the bot's snowflake id, a timestamp, an HMAC."""
    user_id = base64.b64encode(str(rng.randint(10**17, 10**19)).encode()).decode().rstrip("=")
    return f"{user_id}.{body(rng, URLSAFE, 6)}.{body(rng, URLSAFE, 38)}"


def telegram_token(rng: random.Random) -> str:
    return f"{rng.randint(10**8, 10**10 - 1)}:AA{body(rng, URLSAFE, 33)}"


def cookies(rng: random.Random, prefix: str, suffix: str = "") -> Plant:
    session, csrf = body(rng, URLSAFE, 32), body(rng, ALNUM, 24)
    return Plant("cookie", prefix, f"session={session}; csrftoken={csrf}", suffix, (session, csrf))


def luhn_valid(digits: str) -> bool:
    doubled = [int(d) * 2 - 9 * (int(d) > 4) for d in digits[-2::-2]]
    return (sum(int(d) for d in digits[::-2]) + sum(doubled)) % 10 == 0


def card(rng: random.Random, prefix: str, length: int, groups: tuple[int, ...] = (), sep: str = " ") -> str:
    """A card number with a valid check digit, printed in `groups` (one run when empty)."""
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits += next(d for d in string.digits if luhn_valid(digits + d))
    cuts = [sum(groups[:i]) for i in range(len(groups) + 1)] if groups else [0, length]
    return sep.join(digits[a:b] for a, b in itertools.pairwise(cuts))


def broken(rng: random.Random, kind: str, token: str, inside: str, prefix: str = "") -> Plant:
    """`token` with `inside` (an invisible character, a line break) in its middle: no half may survive."""
    cut = rng.randint(8, len(token) - 8)
    return Plant(kind, prefix, token[:cut] + inside + token[cut:], secrets=(token[:cut], token[cut:]))


def xoxb(rng: random.Random) -> str:
    return f"xoxb-{body(rng, string.digits, 11)}-{body(rng, string.digits, 13)}-" + body(rng, ALNUM, 24)


PlantMaker = Callable[[random.Random], Plant]

# Every way a secret shows up: vendor tokens bare and in config, credentials in URLs, headers, PEM blocks, and
# generic values of secret-named keys in key=value, key: value, JSON, env and CLI forms.
PLANTS: tuple[PlantMaker, ...] = (
    lambda r: Plant("aws-access-key", "aws_access_key_id = ", "AKIA" + body(r, UPPER_DIGITS, 16)),
    lambda r: Plant(
        "aws-access-key", "creds belong to ", "ASIA" + body(r, UPPER_DIGITS, 16), " (assumed role)"
    ),
    lambda r: Plant("aws-secret-key", "aws_secret_access_key = ", body(r, BASE64, 40)),
    lambda r: Plant("aws-secret-key", "export AWS_SECRET_ACCESS_KEY=", body(r, BASE64, 40)),
    lambda r: Plant("aws-secret-key", '"SecretAccessKey": "', body(r, BASE64, 40), '"'),
    lambda r: Plant(
        "gcp-api-key", "https://maps.googleapis.com/maps/api/geocode/json?key=", "AIza" + body(r, URLSAFE, 35)
    ),
    lambda r: Plant(
        "azure-storage-key",
        "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=",
        body(r, BASE64, 86) + "==",
        ";EndpointSuffix=core.windows.net",
    ),
    lambda r: Plant(
        "azure-sas",
        "https://acme.blob.core.windows.net/logs?sv=2022-11-02&sr=c&sig=",
        body(r, ALNUM, 43) + "%3D",
    ),
    lambda r: Plant(
        "github-token", "", r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + body(r, ALNUM, 36)
    ),
    lambda r: Plant(
        "github-token", "GITHUB_TOKEN=", "github_pat_" + body(r, ALNUM, 22) + "_" + body(r, ALNUM, 59)
    ),
    lambda r: Plant(
        "github-token", "https://x-access-token:", "ghs_" + body(r, ALNUM, 36), "@github.com/acme/ops.git"
    ),
    lambda r: Plant(
        "gitlab-token", "git clone https://oauth2:", "glpat-" + body(r, URLSAFE, 20), "@gitlab.com/acme/infra"
    ),
    lambda r: Plant(
        "slack-token",
        "SLACK_BOT_TOKEN=",
        f"xoxb-{body(r, string.digits, 11)}-{body(r, string.digits, 13)}-" + body(r, ALNUM, 24),
    ),
    lambda r: Plant(
        "slack-token",
        "",
        f"xoxp-{body(r, string.digits, 11)}-{body(r, string.digits, 12)}-" + body(r, HEX, 32),
    ),
    lambda r: Plant("slack-token", "legacy ", f"xoxa-2-{body(r, string.digits, 12)}-{body(r, ALNUM, 30)}"),
    lambda r: Plant(
        "slack-token",
        "SLACK_APP_TOKEN: ",
        f"xapp-1-A{body(r, UPPER_DIGITS, 10)}-{body(r, string.digits, 13)}-" + body(r, HEX, 64),
    ),
    lambda r: Plant("slack-token", "refresh with ", "xoxe-1-" + body(r, URLSAFE, 140)),
    slack_webhook,
    lambda r: Plant("stripe-key", "", r.choice(["sk_live_", "rk_live_", "sk_test_"]) + body(r, ALNUM, 24)),
    lambda r: Plant("openai-key", "OPENAI_API_KEY=", "sk-" + body(r, ALNUM, 48)),
    lambda r: Plant("openai-key", "", "sk-proj-" + body(r, URLSAFE, 120)),
    lambda r: Plant("anthropic-key", '"api_key": "', "sk-ant-api03-" + body(r, URLSAFE, 93) + "AA", '"'),
    lambda r: Plant("twilio-key", "account ", "AC" + body(r, HEX, 32)),
    lambda r: Plant("twilio-key", "api key sid ", "SK" + body(r, HEX, 32)),
    lambda r: Plant("twilio-token", "TWILIO_AUTH_TOKEN=", body(r, HEX, 32)),
    lambda r: Plant("sendgrid-key", "", f"SG.{body(r, URLSAFE, 22)}.{body(r, URLSAFE, 43)}"),
    lambda r: Plant("npm-token", "//registry.npmjs.org/:_authToken=", "npm_" + body(r, ALNUM, 36)),
    lambda r: Plant(
        "pypi-token", "twine upload -u __token__ -p ", "pypi-AgEIcHlwaS5vcmc" + body(r, URLSAFE, 150)
    ),
    lambda r: Plant("atlassian-token", "JIRA_API_TOKEN=", body(r, ALNUM, 24)),
    lambda r: Plant("atlassian-token", 'jira_api_token: "', body(r, ALNUM, 24), '"'),
    lambda r: Plant("atlassian-token", "confluence token ", "ATATT3xFfGF0" + body(r, URLSAFE, 180)),
    lambda r: Plant("google-oauth-token", "access token ", "ya29." + body(r, URLSAFE, 150)),
    jwt,
    lambda r: pem(r, "RSA PRIVATE KEY"),
    lambda r: pem(r, "EC PRIVATE KEY"),
    lambda r: pem(r, "OPENSSH PRIVATE KEY"),
    lambda r: pem(r, "PGP PRIVATE KEY BLOCK"),
    lambda r: pem(r, "PRIVATE KEY", newline="\\n"),
    lambda r: Plant("vault-token", "VAULT_TOKEN=", "hvs." + body(r, URLSAFE, 90)),
    lambda r: Plant("bearer-token", "Authorization: Bearer ", body(r, URLSAFE, 40)),
    lambda r: Plant("bearer-token", '"authorization": "Bearer ', body(r, URLSAFE, 40), '"'),
    basic_auth,
    lambda r: Plant(
        "url-credentials", "postgresql://checkout:", body(r, ALNUM, 20), "@db-1.internal:5432/checkout"
    ),
    lambda r: Plant("url-credentials", "redis://:", body(r, ALNUM, 24), "@cache-0.cache:6379/0"),
    lambda r: Plant("url-credentials", "amqps://orders:", body(r, ALNUM, 16), "@rabbit.internal/prod"),
    lambda r: Plant("password", "password=", password(r)),
    lambda r: Plant("password", "passwd: ", password(r)),
    lambda r: Plant("password", 'DB_PASSWORD="', password(r), '"'),
    lambda r: Plant("password", '"password": "', password(r), '"'),
    lambda r: Plant("password", "export PGPASSWORD=", password(r)),
    lambda r: Plant("password", "mysql --password ", password(r)),
    lambda r: Plant("password", "curl -u admin:", password(r), " https://grafana.example.com/api/health"),
    lambda r: Plant("password", "Server=sql-1;User Id=sa;Password=", password(r, "!#%^*_+-&"), ";"),
    lambda r: Plant("password", "{'pwd': '", password(r), "'}"),
    lambda r: Plant("secret", "client_secret=", body(r, URLSAFE, 40)),
    lambda r: Plant("secret", "SLACK_SIGNING_SECRET=", body(r, HEX, 32)),
    lambda r: Plant("secret", '"client_secret": "', body(r, URLSAFE, 40), '"'),
    lambda r: Plant("secret", "  webhook_secret: ", body(r, ALNUM, 32)),
    lambda r: Plant("token", "token=", body(r, URLSAFE, 32)),
    lambda r: Plant("token", "export DEPLOY_TOKEN=", body(r, ALNUM, 40)),
    lambda r: Plant(
        "token", "https://status.example.com/reset?access_token=", body(r, URLSAFE, 32), "&next=/"
    ),
    lambda r: Plant("token", "X-Auth-Token: ", body(r, HEX, 40)),
    lambda r: Plant("api-key", "api_key=", body(r, HEX, 32)),
    lambda r: Plant("api-key", "apikey: ", body(r, ALNUM, 32)),
    lambda r: Plant("api-key", "X-Api-Key: ", body(r, ALNUM, 36)),
    lambda r: Plant("api-key", '"DD_API_KEY": "', body(r, HEX, 32), '"'),
    lambda r: Plant("private-key", "SIGNING_PRIVATE_KEY=", body(r, BASE64, 44)),
    # Passwords on command lines (the port after `ssh -p` stays) and in prose
    lambda r: Plant("password", "mysql -h db-1 -u root -p", password(r), " checkout"),
    lambda r: Plant("password", "mysql -uroot --password=", password(r), " -e 'show processlist'"),
    lambda r: Plant("password", "docker login -u deploy -p ", password(r), " registry.example.com"),
    lambda r: Plant("password", "docker login registry.example.com -u deploy --password ", password(r)),
    lambda r: Plant("password", "sshpass -p ", password(r), " ssh -p 2222 ops@bastion-1"),
    lambda r: Plant("password", "redis-cli -h cache-0 -a ", password(r), " ping"),
    lambda r: Plant("password", "the admin password is ", password(r), " until we rotate it"),
    lambda r: Plant("password", "pw is ", password(r)),
    lambda r: Plant("password", "the passphrase was changed to '", password(r), "'"),
    lambda r: Plant("password", "password=\n", password(r)),
    lambda r: Plant("secret", "the webhook secret is ", body(r, ALNUM, 24)),
    lambda r: Plant("token", "the deploy token for svc-ci is: ", body(r, URLSAFE, 32)),
    # Keys without their names: a bare AWS secret key near AWS words, long keys right after a secret word
    lambda r: Plant("aws-secret-key", "aws creds for the deploy user: ", body(r, BASE64, 40)),
    lambda r: Plant("aws-secret-key", "AWS said the signature for ", body(r, BASE64, 40), " does not match"),
    lambda r: Plant("api-key", "the api key ", body(r, HEX, 40), " is in the old runbook"),
    lambda r: Plant("token", "Token ", body(r, ALNUM, 32)),
    lambda r: Plant("private-key", "private key `", body(r, BASE64, 44), "`"),
    lambda r: Plant("credential", "service credentials ", body(r, HEX, 40)),
    lambda r: Plant("secret", "new webhook secret '", body(r, URLSAFE, 32), "'"),
    lambda r: Plant("password", "db password ", body(r, ALNUM, 24), " (rotated)"),
    # Card numbers (Luhn-valid, a known issuer)
    lambda r: Plant(
        "card-number", "customer says card ", card(r, "4", 16, (4, 4, 4, 4)), " was charged twice"
    ),
    lambda r: Plant("card-number", '"pan": "', card(r, r.choice(["51", "53", "55", "2221"]), 16), '"'),
    lambda r: Plant("card-number", "amex ", card(r, "37", 15, (4, 6, 5), "-"), ", exp 12/27"),
    # Dodges: zero-width characters inside a token, look-alike letters, a token wrapped onto the next line
    lambda r: broken(r, "github-token", "ghp_" + body(r, ALNUM, 36), "\u200b"),  # zero-width space
    lambda r: broken(r, "slack-token", xoxb(r), "\u200c"),  # zero-width non-joiner
    lambda r: broken(r, "aws-access-key", "AKIA" + body(r, UPPER_DIGITS, 16), "\u200d"),  # zero-width joiner
    lambda r: broken(r, "openai-key", "sk-" + body(r, ALNUM, 48), "\u2060"),  # word joiner
    lambda r: broken(r, "gitlab-token", "glpat-" + body(r, URLSAFE, 20), "\ufeff"),  # BOM
    lambda r: Plant("github-token", "", "\uff47\uff48\uff50\uff3f" + body(r, ALNUM, 36)),  # full-width ghp_
    lambda r: Plant("github-token", "", "gh\u0440_" + body(r, ALNUM, 36)),  # Cyrillic er for p
    lambda r: Plant("slack-token", "", "\u0445o\u0445" + xoxb(r)[3:]),  # Cyrillic ha for x
    lambda r: Plant(
        "aws-access-key", "", "\u0410\u041aI\u0410" + body(r, UPPER_DIGITS, 16)
    ),  # Cyrillic A and K
    lambda r: Plant("openai-key", "", "\u0455k-" + body(r, ALNUM, 48)),  # Cyrillic dze for s
    lambda r: Plant("password", "p\u0430ssw\u043erd=", password(r)),  # Cyrillic a and o in the key
    lambda r: broken(r, "slack-token", xoxb(r), "\n"),
    lambda r: broken(r, "github-token", "ghp_" + body(r, ALNUM, 36), "\n", "GH_TOKEN="),
    lambda r: broken(
        r, "github-token", "github_pat_" + body(r, ALNUM, 22) + "_" + body(r, ALNUM, 59), "\r\n"
    ),
    # Chat-bot tokens and webhooks
    lambda r: Plant("discord-token", "DISCORD_BOT_TOKEN=", discord_token(r)),
    lambda r: Plant("discord-token", "bot token ", discord_token(r), " was in the repo"),
    lambda r: Plant(
        "discord-webhook",
        "https://discord.com/api/webhooks/",
        f"{r.randint(10**17, 10**19)}/{body(r, URLSAFE, 68)}",
    ),
    lambda r: Plant("telegram-token", "TELEGRAM_TOKEN: ", telegram_token(r)),
    lambda r: Plant(
        "telegram-token", "https://api.telegram.org/bot", telegram_token(r), "/sendMessage?chat_id=-1001234"
    ),
    # Password hashes (htpasswd, crypt): offline-crackable
    lambda r: Plant("password-hash", "admin:", f"$apr1${body(r, ALNUM, 8)}${body(r, ALNUM + './', 22)}"),
    lambda r: Plant("password-hash", "deploy:", "{SHA}" + body(r, BASE64, 27) + "="),
    lambda r: Plant("password-hash", "ops:", f"$2y$10${body(r, ALNUM + './', 53)}"),
    # Cookies
    lambda r: cookies(r, "Cookie: "),
    lambda r: cookies(r, "curl -H 'Cookie: ", "' https://shop.example.com/cart"),
    lambda r: cookies(r, "curl -b '", "' https://shop.example.com/cart"),
    lambda r: Plant("cookie", "Set-Cookie: sid=", body(r, URLSAFE, 40), "; Path=/; HttpOnly; Secure"),
)


@dataclass(frozen=True)
class Carrier:
    """A realistic place a fragment is pasted into; `kept` must come through untouched."""

    name: str
    template: str
    kept: tuple[str, ...]


CARRIERS = (
    Carrier(
        "chat",
        "alice: heads up, I pasted {fragment} in #inc-checkout by mistake, rotating it now",
        ("alice: heads up, I pasted ", " in #inc-checkout by mistake, rotating it now"),
    ),
    Carrier(
        "runbook",
        "3. Restart the worker with `{fragment}` and watch the checkout dashboard for 5 minutes.",
        ("3. Restart the worker with `", "` and watch the checkout dashboard for 5 minutes."),
    ),
    Carrier(
        "json-log",
        '{{"ts": "2024-03-01T10:03:10Z", "level": "error", "service": "checkout-api", '
        '"msg": "config loaded: {fragment}", "pod": "checkout-api-7d9f8b6c4-x2x9z"}}',
        (
            '{"ts": "2024-03-01T10:03:10Z", "level": "error", "service": "checkout-api", '
            '"msg": "config loaded: ',
            '", "pod": "checkout-api-7d9f8b6c4-x2x9z"}',
        ),
    ),
    Carrier(
        "yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: checkout-db\n# {fragment}\n  region: eu-west-1\n",
        ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: checkout-db\n# ", "\n  region: eu-west-1\n"),
    ),
    Carrier(
        "shell",
        "$ kubectl -n payments logs deploy/checkout-api --since=10m | grep 401  # saw: {fragment}\n$ echo ok",
        ("$ kubectl -n payments logs deploy/checkout-api --since=10m | grep 401  # saw: ", "\n$ echo ok"),
    ),
    Carrier(
        "stack-trace",
        'Traceback (most recent call last):\n  File "/app/payments/client.py", line 88, in charge\n'
        "    resp = session.post(url, headers=headers)\n"
        "requests.exceptions.HTTPError: 401 Client Error for url: https://api.example.com/v1/charges "
        "(sent {fragment})",
        (
            'Traceback (most recent call last):\n  File "/app/payments/client.py", line 88, in charge\n',
            "HTTPError: 401 Client Error for url: https://api.example.com/v1/charges (sent ",
            ")",
        ),
    ),
    Carrier(
        "alert",
        "[FIRING:1] CheckoutHighErrorRate checkout-api (prod) | runbook: https://rb.example.com/checkout"
        " | debug: {fragment}\nlabels: severity=page team=payments",
        (
            "[FIRING:1] CheckoutHighErrorRate checkout-api (prod) | runbook: https://rb.example.com/checkout"
            " | debug: ",
            "\nlabels: severity=page team=payments",
        ),
    ),
)


@dataclass(frozen=True)
class Case:
    plant: Plant
    carrier: Carrier

    @property
    def text(self) -> str:
        return self.carrier.template.format(fragment=self.plant.fragment)


def corpus(seed: int = 20240301) -> Iterator[tuple[str, Case]]:
    rng = random.Random(seed)
    for index, make in enumerate(PLANTS):
        for carrier in CARRIERS:
            plant = make(rng)
            yield f"{index:02d}-{plant.kind}-{carrier.name}", Case(plant, carrier)


CORPUS = dict(corpus())


EVERY_KIND = {
    *("aws-access-key", "aws-secret-key", "gcp-api-key", "azure-storage-key", "azure-sas", "private-key"),
    *("github-token", "gitlab-token", "slack-token", "slack-webhook", "atlassian-token", "vault-token"),
    *("stripe-key", "openai-key", "anthropic-key", "twilio-key", "twilio-token", "sendgrid-key"),
    *("npm-token", "pypi-token", "google-oauth-token", "jwt", "bearer-token", "basic-auth"),
    *("url-credentials", "password", "secret", "token", "api-key"),
    *("discord-token", "discord-webhook", "telegram-token", "password-hash", "cookie", "card-number"),
    "credential",
}


def test_corpus_plants_hundreds_of_secrets_of_every_kind() -> None:
    assert len(CORPUS) >= 200
    assert {case.plant.kind for case in CORPUS.values()} == EVERY_KIND


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_planted_secret_is_redacted_and_its_surroundings_kept(case: Case) -> None:
    out = redact(case.text)

    assert [secret for secret in case.plant.must_vanish if secret in out] == []
    assert f"{case.plant.prefix}[REDACTED:{case.plant.kind}]{case.plant.suffix}" in out
    assert [kept for kept in case.carrier.kept if kept not in out] == []


AWS_SECRET = "9Ba/VoVKsmQnSr0wGXa0wBJEKdMrXqiVGq7bQz8j"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f"leaked pair AKIA2OGYBAH6STMMNXNN {AWS_SECRET}",
            "leaked pair [REDACTED:aws-access-key] [REDACTED:aws-secret-key]",
        ),
        (f"AKIA2OGYBAH6STMMNXNN,{AWS_SECRET}", "[REDACTED:aws-access-key],[REDACTED:aws-secret-key]"),
        (
            f"the amazon creds are in 1password, not {AWS_SECRET}!",
            "the amazon creds are in 1password, not [REDACTED:aws-secret-key]!",
        ),
        (f"build cache {AWS_SECRET} restored", f"build cache {AWS_SECRET} restored"),  # no AWS context: kept
    ],
    ids=["next-to-access-key-id", "credentials-csv", "near-aws-words", "no-aws-context-kept"],
)
def test_bare_aws_secret_key_is_redacted_only_near_aws_context(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_text_read_through_its_normalised_view_is_redacted_like_plain_text(case: Case) -> None:
    """A full-width word far from the secret sends the text through the normalised view: same result."""
    assert redact("\uff4f\uff4b " + case.text) == "\uff4f\uff4b " + redact(case.text)


def test_token_ending_a_line_leaves_the_next_line_alone() -> None:
    token = "ghp_" + "x7Yk2" * 8
    text = f"rotate {token}\nThanks, and 2nd line: AbCdEf12 stays\nDB_PASSWORD=x9Yk2\nDB_HOST=db-1"

    assert redact(text) == (
        "rotate [REDACTED:github-token]\nThanks, and 2nd line: AbCdEf12 stays\n"
        "DB_PASSWORD=[REDACTED:password]\nDB_HOST=db-1"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=\nHunter2x9!", "password=\n[REDACTED:password]"),
        ("OLD_TOKEN=\nNEW_TOKEN=abcdef123456", "OLD_TOKEN=\nNEW_TOKEN=[REDACTED:token]"),
        ('token=\n"password": "Hunter2x9"', 'token=\n"password": "[REDACTED:password]"'),
        ("token:\nexport PASSWORD=Hunter2x9", "token:\nexport PASSWORD=[REDACTED:password]"),
        ("API_TOKEN=\nDB_USER=app", "API_TOKEN=\nDB_USER=app"),
    ],
    ids=[
        "value-on-next-line",
        "next-line-is-a-key",
        "next-line-is-json",
        "next-line-is-a-command",
        "empty-key",
    ],
)
def test_a_key_ending_a_line_takes_the_next_line_as_value_unless_it_holds_a_key(
    text: str, expected: str
) -> None:
    assert redact(text) == expected


def test_redacting_twice_changes_nothing() -> None:
    once = [redact(case.text) for case in CORPUS.values()]
    assert [redact(text) for text in once] == once


def test_a_placeholder_escaped_for_a_chat_reply_is_not_redacted_again() -> None:
    """A chat reply shows people's text literally, `[` escaped for Markdown: `\\[REDACTED:token]` (a private key's
    placeholder may lose its escape: the whole body between the PEM labels is replaced)."""
    once = [redact(case.text) for case in CORPUS.values()]
    escaped = [text.replace("[REDACTED:", "\\[REDACTED:") for text in once]
    assert [redact(text).replace("\\[REDACTED:", "[REDACTED:") for text in escaped] == once


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_does_not_stall_the_redactor(text: str) -> None:
    """Every outgoing message passes the redactor: a crafted one must not stall the bot (quadratic: minutes).

    The bound only catches that blow-up (10x the old 2 s target); bench/redact.py measures the actual time.
    """
    started = time.perf_counter()
    redact(text, emails=True, phones=True)
    assert time.perf_counter() - started < 20.0


INCIDENT_TEXT = [
    "!incident start Checkout 5xx spike --sev SEV2 --service checkout-api",
    "error rate 12% on checkout-api since the 09:55 deploy, p99 latency 2.3s",
    "pod checkout-api-7d9f8b6c4-x2x9z is in CrashLoopBackOff, restarts: 14",
    "deployed abc1234 at 2024-03-01T09:55:12Z, rolled back to 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "request id 3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b failed with 503 from 10.0.3.17:8443 and 2001:db8::1",
    "dashboard: https://grafana.example.com/d/abc123/checkout?orgId=1&from=now-1h&var-pod=checkout-api",
    "password reset emails are failing for EU customers",
    "the token bucket rate limiter dropped 1,234 requests; Token: expired for the old session",
    "we should rotate the secret in vault after this; the API key was revoked at 10:32 UTC",
    "LLM usage: max_tokens=4000 prompt_tokens: 1200 completion_tokens: 310",
    "secretName: checkout-db, secretKeyRef.key: url, kind: Secret",
    "image registry.example.com/acme/token-service:1.42.0@sha256:"
    "9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
    "git remote: git@github.com:acme/checkout.git, branch hotfix/INC-42-timeouts",
    "Basic auth is failing for the admin page; Authorization: denied for bob",
    "401 Unauthorized: bearer token missing from request to /v1/charges",
    "password: reset by alice, passwd: unchanged",
    "see RUNBOOK-7 step 4: `kubectl rollout undo deployment/checkout-api -n payments`",
    "export DB_PASSWORD=${DB_PASSWORD} and token: <your-token> come from the vault agent",
    "build 2024.03.01.1234 shipped by task-runner-5f6d7c8b9-abcde; order 4815162342 affected",
    "sk-learn job and the ghp-mirror cron are unrelated",
]


@pytest.mark.parametrize("line", INCIDENT_TEXT)
def test_ordinary_incident_text_is_unchanged(line: str) -> None:
    assert redact(line) == line


# Benign text that looks like a secret to a careless rule; each case is named after what it is.
LOOK_ALIKES = {
    "commit-sha-7": "deployed abc1234 to prod, then reverted to 9fceb02",
    "commit-sha-40": "git revert 9fceb02d0ae598e95dc970b74767f19372d61af8 (token refresh fix)",
    "commit-sha-40-near-aws": "aws lambda update-function-code --s3-key "
    "build/9fceb02d0ae598e95dc970b74767f19372d61af8.zip",
    "uuid": "request id 3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b failed with 503",
    "w3c-traceparent": "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "trace-and-span-ids": "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "trace-id-near-aws": "aws x-ray trace 1-5759e988-bd862e3fe1be46a994272793, "
    "otel trace 4bf92f3577b34da6a3ce929d0e0e4736",
    "arn-role": "assumed arn:aws:iam::123456789012:role/checkout-deployer via sts",
    "arn-secret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/checkout/db-AbCdEf",
    "image-digest": "registry.example.com/acme/checkout@sha256:"
    "9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
    "pwd-path": "pwd: /var/lib/postgresql/data",
    "pwd-env": "PWD=/home/runner/work/checkout OLDPWD=/home/runner",
    "k8s-secret-name": "kubectl -n payments describe secret/db-credentials",
    "k8s-get-secret": "kubectl get secret payments-api-tls -o yaml",
    "k8s-secret-in-prose": "the secret is payments-db-credentials in namespace payments",
    "version-strings": "upgraded from v1.27.3 to 1.28.0-eks-a5565f8, chart 5.10.0, build 2024.03.01.1234",
    "timestamps": "2024-03-01T09:55:12.123Z, epoch 1709286912, 1709286912123 ms, 1709286912123456789 ns",
    "ipv4-and-ports": "10.0.3.17:8443 and 192.168.1.254:5432 refused; ports 80, 443, 8080; nodePort 30080",
    "ipv6": "2001:db8::1 and fe80::1ff:fe23:4567:890a unreachable",
    "ticket-ids": "see INC-4242, OPS-1234, PagerDuty Q3Z9ABCD1EFG2H and GitHub #1234",
    "luhn-failing-card-shapes": "order 4111 1111 1111 1112, invoice 5500000000000005",
    "decimal-trace-id": "dd.trace_id=5981632842380137542 dd.span_id=1746923045987261304",
    "aws-log-path": "aws s3 ls s3://logs/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/03/01/",
    "aws-request-ids": "AWS request id 4442587FB7D0A2F9, x-amz-id-2: "
    "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=",
    "cache-key": "cache key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 missed",
    "public-key": "public key AAAAC3NzaC1lZDI1NTE5AAAAIGx7kq9wLm2P4Rt8sVb3 added for alice",
    "token-and-password-prose": "the token is expired and the password is wrong; pw is on the sticky note",
    "secret-in-vault-prose": "the secret is stored in vault at secret/data/checkout",
    "ssh-port": "sshpass -f ~/.pw ssh -p 2222 ops@bastion-1",
    "docker-run-port": "docker run -p 8080:80 -v /data:/data nginx:1.25",
    "mysql-password-prompt": "mysql -h db-1 -u root -p checkout",
    "mkdir-p": "mkdir -p /var/lib/debrief && cp -p a.conf b.conf",
    "git-checkout-b": "git checkout -b fix/token-refresh",
    "shell-references": 'curl -H "Authorization: Bearer $(oc whoami -t)" -H "Cookie: $COOKIE" https://x.io',
    "cookie-prose": "cookie: consent banner broken on checkout",
    "env-with-empty-values": "DB_PASSWORD=\nAPI_TOKEN=\nDB_USER=app\npassword:\n  secretKeyRef: db",
    "wrapped-prose": "the token\nExpired at 10:32; rotate ghp tokens\nWeekly on Mondays",
    "wrapped-log-lines": "ERROR checkout-api-7d9f8b6c4-x2x9z\n503 upstream\nreq=3f2b8c1e9a4d",
    "cyrillic-prose": "\u041f\u0440\u0438\u0432\u0435\u0442, \u0442\u043e\u043a\u0435\u043d "
    "\u0438\u0441\u0442\u0451\u043a: restart pod checkout-api",  # "Hi, the token expired: ..."
    "full-width-text": "\uff43\uff48\uff45\uff43\uff4b\uff4f\uff55\uff54 \uff15\uff10\uff13 errors",
    "emoji-with-joiners": "\U0001f469\u200d\U0001f4bb on call: deploy done \u2705",
}


@pytest.mark.parametrize("text", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_secret_look_alike_is_not_redacted(text: str) -> None:
    assert redact(text) == text
    assert redact(text, emails=True, phones=True) == text


def test_benign_incident_sentences_are_left_alone() -> None:
    """The false-positive measure: of 400 sentences from real postmortems and runbooks (no secrets), how many
    get any redaction. 0 per 100 (before this measure existed: 1 per 100, shell variables taken for tokens);
    bench/redact.py also reports it over every sentence and file of the shared corpus."""
    sentences = benign_sentences()
    changed = [sentence for sentence in sentences if redact(sentence) != sentence]

    assert len(sentences) >= 200
    assert changed == []


@pytest.mark.parametrize("line", [line for line in INCIDENT_TEXT if "@" not in line])
def test_ordinary_incident_text_is_unchanged_with_email_and_phone_redaction_on(line: str) -> None:
    assert redact(line, emails=True, phones=True) == line


CONTACTS = [
    ("email", "bob.smith+oncall@example.com"),
    ("email", "sre-team@payments.acme.co.uk"),
    ("phone", "+1 415 555 0123"),
    ("phone", "+14155550123"),
    ("phone", "+44 20 7946 0958"),
    ("phone", "(415) 555-0123"),
    ("phone", "415-555-0123"),
]


@pytest.mark.parametrize(("kind", "contact"), CONTACTS)
def test_emails_and_phones_are_kept_unless_asked_for(kind: str, contact: str) -> None:
    line = f"escalate to {contact} if the pager stays quiet"

    assert redact(line) == line
    assert redact(line, emails=True, phones=True) == f"escalate to [REDACTED:{kind}] if the pager stays quiet"


def test_email_and_phone_flags_are_independent() -> None:
    line = "call +1 415 555 0123 or mail oncall@example.com"

    assert redact(line, emails=True) == "call +1 415 555 0123 or mail [REDACTED:email]"
    assert redact(line, phones=True) == "call [REDACTED:phone] or mail oncall@example.com"


def test_redactor_applies_the_options_it_was_built_with() -> None:
    redactor = Redactor(emails=True)
    line = "password=hunter2x9 from oncall@example.com"

    assert redactor(line) == "password=[REDACTED:password] from [REDACTED:email]"
    assert redactor("") == ""


class Capture(logging.Handler):
    """A real handler that keeps what it would have written."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, Capture]]:
    log = logging.getLogger("debrief.test_redact")
    capture = Capture()
    capture.addFilter(RedactingFilter(Redactor()))
    log.addHandler(capture)
    log.propagate = False
    yield log, capture
    log.removeHandler(capture)
    log.propagate = True


def test_secret_in_log_args_never_reaches_the_log(logger: tuple[logging.Logger, Capture]) -> None:
    log, capture = logger
    token = "ghp_" + "x7Yk2" * 8

    log.warning("retrying %s with token=%s", "checkout-api", token)
    log.warning("github said no to %(token)s", {"token": token})

    assert capture.lines == [
        "WARNING debrief.test_redact retrying checkout-api with token=[REDACTED:github-token]",
        "WARNING debrief.test_redact github said no to [REDACTED:github-token]",
    ]


def test_secret_in_a_logged_traceback_is_redacted(logger: tuple[logging.Logger, Capture]) -> None:
    log, capture = logger
    try:
        raise ConnectionError("cannot reach postgresql://checkout:Sup3rS3cret9@db-1:5432/checkout")
    except ConnectionError:
        log.exception("database down")

    (line,) = capture.lines
    assert "Sup3rS3cret9" not in line
    assert "Traceback (most recent call last)" in line
    assert "ConnectionError: cannot reach postgresql://checkout:[REDACTED:url-credentials]@db-1:5432" in line


def test_malformed_log_call_drops_its_args_instead_of_leaking_or_raising(
    logger: tuple[logging.Logger, Capture],
) -> None:
    log, capture = logger

    log.error("login as %s failed with %s", "hunter2x9")

    (line,) = capture.lines
    assert "hunter2x9" not in line
    assert line.startswith("ERROR debrief.test_redact login as %s failed with %s [log arguments dropped")


@pytest.fixture
def root_capture() -> Iterator[Capture]:
    root = logging.getLogger()
    capture = Capture()
    root.addHandler(capture)
    yield capture
    root.removeHandler(capture)
    for handler in root.handlers:
        for log_filter in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(log_filter)


def test_installed_redaction_covers_every_logger_through_root_handlers(root_capture: Capture) -> None:
    install_log_redaction(Redactor())
    install_log_redaction(Redactor(emails=True))

    logging.getLogger("debrief.trackers.jira").error(
        "jira rejected api_key=%s for %s", "9f8e7d6c5b4a39281706", "a@b.io"
    )

    (installed,) = root_capture.filters  # the second call replaced the first filter
    assert isinstance(installed, RedactingFilter)
    assert root_capture.lines == [
        "ERROR debrief.trackers.jira jira rejected api_key=[REDACTED:api-key] for [REDACTED:email]"
    ]
