"""The redactor's contract: no planted secret survives, the words around it do, and ordinary incident text is
left exactly as it was."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from agent.redact import RedactingFilter, Redactor, install_log_redaction, redact
from tests.redact_fixtures import PATHOLOGICAL, benign_sentences
from tests.redact_plants import CORPUS, Case

EVERY_KIND = {
    *("aws-access-key", "aws-secret-key", "gcp-api-key", "azure-storage-key", "azure-sas", "private-key"),
    *("github-token", "gitlab-token", "slack-token", "slack-webhook", "atlassian-token", "vault-token"),
    *("stripe-key", "openai-key", "anthropic-key", "twilio-key", "twilio-token", "sendgrid-key"),
    *("npm-token", "pypi-token", "google-oauth-token", "jwt", "bearer-token", "basic-auth"),
    *("url-credentials", "password", "secret", "token", "api-key"),
    *("discord-token", "discord-webhook", "telegram-token", "password-hash", "cookie", "card-number"),
    *("credential", "key"),
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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "login with admin / Winter2024! on the bastion",
            "login with admin / [REDACTED:password] on the bastion",
        ),
        ("password hunter2", "password [REDACTED:password]"),
        ("passwd Tr0ub4dor&3", "passwd [REDACTED:password]"),
        ("creds admin:hunter2Secret", "creds admin:[REDACTED:password]"),
        ("creds `admin:hunter2Secret`", "creds `admin:[REDACTED:password]`"),
        ("set the secret to hunter2", "set the secret to [REDACTED:secret]"),
        ("key=9f86d081884c7d659a2feaa0c55ad015", "key=[REDACTED:key]"),
    ],
    ids=[
        "login-user-slash-password",
        "password-word",
        "passwd-word",
        "creds-user-colon",
        "creds-in-backticks",
        "set-to",
        "bare-key",
    ],
)
def test_credentials_in_plain_prose_are_redacted(line: str, expected: str) -> None:
    """As people type them in an incident channel (found by a probe through the bot)."""
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
    # near misses of the plain-prose credential rules: a word, a name, a ticket, a date, a command: no secret
    "password-then-word": "password reset failed for users; password hashing uses PBKDF2",
    "password-then-identifier": "password grant_type rejected by keycloak; password auth_failed events",
    "password-then-ids": "password v2.3.1 rollout, password 2024-03-01 rotation, password (INC-1234) notes",
    "password-then-command": "the password `kubectl -n payments get secret db -o yaml` prints is base64",
    "password-then-class-name": "password PasswordEncoder and BCryptPasswordEncoder are configured",
    "secret-to-a-calm-on-call": "the secret to a calm on-call is a good runbook",
    "secret-to-without-set": "hand the api key to alice.b, never paste the secret to #inc-42",
    "login-with-sso": "login with SSO is broken; login with SSO / MFA works for admins",
    "login-to-the-cluster": "Login to the cluster. Check the status of that node:",
    "login-with-role": "login with admin / read-only role, credentials payments-db:readonly",
    "login-host-port": "docker login registry.example.com:5000 then login node-1:2222",
    "login-time": "last login: 2024-03-01T09:55:12.123Z from 10.0.3.17",
    "creds-in-vault": "creds vault:secret/data/checkout-2024, login https://sso.example.com/x1",
    "credentials-arn": "credentials arn:aws:iam::123456789012:role/checkout-deployer expired",
    "creds-image-tag": "creds checkout-api:v1.42.0-rc1 image was pulled without credentials",
    "set-token-ttl": "set the token TTL to 3600s and the password expiry to 90d",
    "set-password-to-expire": "set the password to expire in 90 days, set the secret to payments-db-creds",
    "key-not-secret": "cache key=9f86d081884c7d659a2feaa0c55ad015 missed, idempotency_key="
    "3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b, s3 key=builds/9fceb02d0ae598e95dc970b74767f19372d61af8.zip",
    "key-names": "secretKeyRef.key: url, sort_key=4bf92f3577b34da6a3ce929d0e0e4736, key: checkout-db",
    # ... and lines of installed packages' code and docs that an earlier draft of those rules redacted
    "password-then-exclamation": 'raise ValueError("No password provided!")',
    "password-and-or": "passing an empty password and/or salt to crypto.pbkdf2() would cause a fatal error",
    "password-comparison": 'if self.password == other.password and password != "-":',
    "set-token-to-identifier": "# for that, we need to set next text token to audio_eos_start_delay_token_id",
    "websocket-key": '"Sec-WebSocket-Key": "k9kFAUWNAMmf5OEMfTlOEA==",',
    # ... and in Debrief's own test data: a PagerDuty webhook's dedup id
    "pagerduty-incident-key": '"incident_key": "d387d7bd2e0a4294a5307339dfe1669a", "dedup_key": "x"',
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
