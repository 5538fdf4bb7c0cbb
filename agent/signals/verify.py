"""Who may post alerts and deploys: a shared secret, checked the way each sender supports it.

Alertmanager, Grafana and the generic events send it as `Authorization: Bearer <secret>` (Alertmanager's webhook
`http_config.authorization`, Grafana's contact point "Authorization header"); GitHub signs the raw body with it
(`X-Hub-Signature-256: sha256=<hmac>`), form-encoded deliveries included. PagerDuty issues its own signing secret
per subscription (DEBRIEF_PAGERDUTY_SECRET) and sends `X-PagerDuty-Signature: v1=<hmac>[,v1=<hmac>...]` (several
while a secret rotates; one must match); a PagerDuty subscription can instead carry the bearer token as a custom
header. Without any secret the webhooks accept anyone, which is only fit for a local console.
"""

from __future__ import annotations

import hashlib
import hmac


def bearer_ok(secret: str | None, authorization: str) -> bool:
    """True when no secret is configured or the `Authorization` header carries it as a bearer token."""
    if secret is None:
        return True
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), secret.encode())


def github_signature_ok(secret: str | None, signature: str, body: bytes) -> bool:
    """True when no secret is configured or `signature` (X-Hub-Signature-256) is the body's HMAC-SHA256."""
    if secret is None:
        return True
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.encode(), expected.encode())


def pagerduty_signature_ok(secret: str | None, signatures: str, body: bytes) -> bool:
    """True when one of the `v1=` signatures (X-PagerDuty-Signature) is the body's HMAC-SHA256 with `secret`."""
    if secret is None:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    offered = [part.strip() for part in signatures.split(",") if part.strip()]
    return any(hmac.compare_digest(item.encode(), expected.encode()) for item in offered)
