"""The planted-secret corpus, shared by the redaction tests and bench/redact.py (which reports its recall):
every way a secret shows up (`PLANTS`), each pasted into realistic places (`CARRIERS`), from a fixed seed."""

from __future__ import annotations

import base64
import itertools
import json
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
    # Credentials in plain prose: a password right after its word, a user and password after a login word, a
    # secret "set to" a value with words between, a key by its bare name
    lambda r: Plant("password", "password ", password(r)),
    lambda r: Plant("password", "passwd ", password(r), " for the break-glass account"),
    lambda r: Plant("password", "login with admin / ", password(r), " on the bastion"),
    lambda r: Plant("password", "creds admin:", password(r)),
    lambda r: Plant("password", "Credentials: deploy:", body(r, ALNUM, 16), " (staging only)"),
    lambda r: Plant("password", "log in as root / ", password(r)),
    lambda r: Plant("secret", "set the secret to ", body(r, ALNUM, 24)),
    lambda r: Plant("password", "we reset the admin password to '", password(r), "' for now"),
    lambda r: Plant("token", "changed the deploy token for svc-ci to ", body(r, URLSAFE, 32)),
    lambda r: Plant("key", "key=", body(r, HEX, 32)),
    lambda r: Plant("key", '"key": "', body(r, HEX, 32), '"'),
    lambda r: Plant("password", "login: `deploy:", password(r), "`"),
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
