"""Who may post to `/api/messages`: the bearer token on every activity, per the Bot Connector authentication spec.

A token is accepted when it is RS256-signed by one of Microsoft's published keys (OpenID metadata -> JWKS,
cached, refetched daily or when a token names an unknown key), was issued by the Bot Framework or by Entra ID for
the bot's tenant or Microsoft's own service tenants, is meant for this bot (`aud` = app id), is within its
lifetime (a minute of clock skew allowed), and names the activity's `serviceUrl`. A key that lists endorsements
must endorse the activity's channel.

Why not the Agents SDK's `JwtTokenValidator`: its key URLs are fixed to Microsoft's public cloud (no sovereign
clouds, no local fake), it checks issuers only on opt-in, lets a serviceUrl mismatch through with a warning, and
is async. The issuer lists are still Microsoft's, taken from the SDK.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from microsoft_agents.hosting.core import AuthenticationConstants
from microsoft_agents.hosting.core.authorization._entra_issuers import (
    entra_issuer_info,
    well_known_first_party_issuers,
)

from agent.errors import DebriefError

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER
ALGORITHMS = ["RS256"]
LEEWAY_S = 60.0
KEYS_MAX_AGE_S = 24 * 3600.0
# An unknown key id refetches the keys at most this often: forged tokens cannot make us hammer Microsoft.
KEYS_MIN_REFRESH_S = 60.0
HTTP_TIMEOUT_S = 10.0


class AuthError(DebriefError):
    """The request is not from Microsoft's Bot Connector for this bot; the message says why (for the log)."""


class KeysUnavailable(AuthError):
    """Microsoft's signing keys cannot be fetched, so no token can be checked."""


@dataclass(frozen=True)
class SigningKey:
    jwk: jwt.PyJWK
    endorsements: frozenset[str] | None  # channels the key may sign for; None: any


def accepted_issuers(tenant_id: str | None) -> frozenset[str]:
    """The Bot Framework, Microsoft's first-party service tenants, and the bot's own Entra tenant."""
    issuers = set(well_known_first_party_issuers(None))
    if tenant_id:
        issuers.add(AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V1.format(tenant_id))
        issuers.add(AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V2.format(tenant_id))
    return frozenset(issuers)


class SigningKeys:
    """Microsoft's token signing keys, from one or more OpenID metadata documents, cached."""

    def __init__(
        self,
        metadata_urls: Sequence[str],
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_age_s: float = KEYS_MAX_AGE_S,
        min_refresh_s: float = KEYS_MIN_REFRESH_S,
    ) -> None:
        self._urls = tuple(metadata_urls)
        self._session = session or requests.Session()
        self._clock = clock
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = 0.0  # last successful fetch
        self._tried_at = 0.0  # last attempt, successful or not
        self._lock = threading.Lock()

    def get(self, kid: str) -> SigningKey:
        """The key with id `kid`; refetches when the cache is old or (rate-limited) when `kid` is unknown."""
        with self._lock:
            if self._due(kid):
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise AuthError(f"token signed with unknown key {kid!r}")
        return key

    def _due(self, kid: str) -> bool:
        if not self._keys:
            return True
        now = self._clock()
        stale = now - self._fetched_at > self._max_age_s
        return now - self._tried_at >= self._min_refresh_s and (stale or kid not in self._keys)

    def _refresh(self) -> None:
        """Fetch every document; one that fails keeps its previous keys, all failing keeps the whole cache."""
        self._tried_at = self._clock()
        keys: dict[str, SigningKey] = {}
        failures: list[str] = []
        for url in self._urls:
            try:
                keys.update(self._fetch(url))
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                failures.append(f"{url}: {exc}")
        if failures:
            log.warning("Teams: cannot fetch signing keys from %s", "; ".join(failures))
        if not keys and not self._keys:
            raise KeysUnavailable(f"cannot fetch signing keys ({'; '.join(failures)})")
        if keys:
            self._keys = {**self._keys, **keys} if failures else keys
            self._fetched_at = self._tried_at
            log.info("Teams: %d signing keys", len(self._keys))

    def _fetch(self, metadata_url: str) -> dict[str, SigningKey]:
        metadata = self._json(metadata_url)
        jwks = self._json(str(metadata["jwks_uri"]))
        keys: dict[str, SigningKey] = {}
        for jwk in jwks["keys"]:
            try:
                key = jwt.PyJWK(jwk)
            except jwt.PyJWKError as exc:
                log.info("Teams: skipping unusable signing key %s: %s", jwk.get("kid"), exc)
                continue
            endorsements = jwk.get("endorsements")
            keys[str(jwk.get("kid"))] = SigningKey(
                key, None if endorsements is None else frozenset(endorsements)
            )
        return keys

    def _json(self, url: str) -> Mapping[str, Any]:
        response = self._session.get(url, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"{url} did not return a JSON object")
        return data


class TokenValidator:
    """Checks the `Authorization` header of an inbound activity; `validate` returns the token's claims."""

    def __init__(
        self, app_id: str, issuers: Collection[str], keys: SigningKeys, leeway_s: float = LEEWAY_S
    ) -> None:
        self._app_id = app_id
        self._issuers = list(issuers)
        self._keys = keys
        self._leeway_s = leeway_s

    def validate(
        self, authorization: str | None, service_url: str | None, channel_id: str | None
    ) -> dict[str, Any]:
        """Raise `AuthError` (or `KeysUnavailable`) unless the header holds a valid token for this activity."""
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"malformed token: {exc}") from None
        if header.get("alg") not in ALGORITHMS or not header.get("kid"):
            raise AuthError(f"token must be RS256 with a key id, got alg={header.get('alg')!r}")
        key = self._keys.get(str(header["kid"]))
        if key.endorsements is not None and channel_id not in key.endorsements:
            raise AuthError(f"signing key is not endorsed for channel {channel_id!r}")
        claims = self._decode(token, key)
        _check_tenant(claims)
        _check_service_url(claims, service_url)
        return claims

    def _decode(self, token: str, key: SigningKey) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.jwk.key,
                algorithms=ALGORITHMS,
                audience=self._app_id,
                issuer=self._issuers,
                leeway=self._leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("token from an untrusted issuer") from None
        except jwt.InvalidSignatureError:
            raise AuthError("token signature does not verify") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        return claims


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("no bearer token")
    return token.strip()


def _check_tenant(claims: Mapping[str, Any]) -> None:
    """An Entra issuer names its tenant; the token's `tid` must be that tenant (as Microsoft's SDK checks)."""
    info = entra_issuer_info(claims.get("iss"))
    tid = claims.get("tid")
    if info is not None and isinstance(tid, str) and tid.lower() != info.tenant:
        raise AuthError("token tenant does not match its issuer")


def _check_service_url(claims: Mapping[str, Any], service_url: str | None) -> None:
    """Bot Framework tokens carry the serviceUrl they were issued for: replies go nowhere else."""
    claimed = claims.get(AuthenticationConstants.SERVICE_URL_CLAIM)
    if claimed is None and claims.get("iss") != BOT_FRAMEWORK_ISSUER:
        return
    if not isinstance(claimed, str) or not service_url or _normal(claimed) != _normal(service_url):
        raise AuthError(f"token serviceUrl {claimed!r} does not match the activity's {service_url!r}")


def _normal(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
