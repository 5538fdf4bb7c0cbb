"""Who may post alerts and deploys: a shared secret, checked the way each sender supports it.

Alertmanager sends it as `Authorization: Bearer <secret>` (its webhook `http_config.authorization`); GitHub signs
the body with it (`X-Hub-Signature-256: sha256=<hmac>`). Without DEBRIEF_WEBHOOK_SECRET the webhooks accept anyone,
which is only fit for a local console.
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
