"""Who may post to `/api/messages`: the bearer token on every activity, per Microsoft's Bot Connector
authentication spec (learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-authentication)
and the Bot Framework SDK that implements it (botbuilder-python's `botframework.connector.auth`).

Every token is RS256-signed by one of Microsoft's published keys (OpenID metadata -> JWKS, cached, refetched daily
or when a token names an unknown key), meant for this bot (`aud` = app id) and within its lifetime (a minute of
clock skew allowed). A key that lists endorsements must endorse the activity's channel. Then, by issuer:

- The Bot Connector (`iss` https://api.botframework.com; the spec's "Connector to Bot" path, `ChannelValidation`)
  names the activity's `serviceUrl` in its `serviceurl` claim (requirement 7 of that path,
  `ChannelValidation.authenticate_channel_token_with_service_url`): replies, and the bot's token, go there.
- Entra ID (`https://sts.windows.net/<tenant>/` v1, `https://login.microsoftonline.com/<tenant>/v2.0` v2) for the
  Bot Framework's tenants or the bot's own (the spec's "Emulator to Bot" path, `EmulatorValidation`) has no
  `serviceurl`. It names the app that asked for it, which must be this bot: `ver` "1.0" -> `appid`, "2.0" ->
  `azp`, any other version refused (requirement 5 of that path, `EmulatorValidation.authenticate_emulator_token`).
  Another app as caller is a skill (bot-to-bot) call, which Bot Framework refuses without a list of allowed
  callers (`JwtTokenValidation.validate_claims`); Debrief has none. Its `tid` must be the issuer's tenant (the
  Agents SDK's tenant binding), and a `serviceurl` claim, if it has one, must still match.

Why not the Agents SDK's `JwtTokenValidator`: its key URLs are fixed to Microsoft's public cloud (no sovereign
clouds, no local fake), it checks issuers only on opt-in, lets a serviceUrl mismatch through with a warning, does
not check `appid`/`azp`, and is async. Only the SDK's public constants are used here.
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

from agent.errors import DebriefError

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER
ENTRA_ISSUER_TEMPLATES = (
    AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V1,  # https://sts.windows.net/{0}/
    AuthenticationConstants.VALID_TOKEN_ISSUER_URL_TEMPLATE_V2,  # https://login.microsoftonline.com/{0}/v2.0
)
# Microsoft's tenants whose Entra tokens reach bots: d6d49420 and f8cdef31 are the spec's emulator issuers
# (security protocol v3.1 and v3.2), 69e9b82d is among the Agents SDK's always-trusted first-party issuers.
BOT_FRAMEWORK_TENANTS = (
    "d6d49420-f39b-4df7-a1dc-d59a935871db",
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "69e9b82d-4842-4902-8d1e-abc5b98a55e8",
)
# Where an Entra token names the app that requested it, by token version (`ver`).
CALLER_CLAIMS = {"1.0": AuthenticationConstants.APP_ID_CLAIM, "2.0": AuthenticationConstants.AUTHORIZED_PARTY}
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
    """The Bot Connector, and Entra ID for the Bot Framework's tenants and the bot's own (GUIDs in lower case)."""
    tenants = (*BOT_FRAMEWORK_TENANTS, *([tenant_id.lower()] if tenant_id else []))
    entra = {template.format(tenant) for template in ENTRA_ISSUER_TEMPLATES for tenant in tenants}
    return frozenset({BOT_FRAMEWORK_ISSUER, *entra})


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
        if claims["iss"] != BOT_FRAMEWORK_ISSUER:  # Entra ID: the only path whose tokens lack serviceurl
            _check_tenant(claims)
            _check_caller(claims, self._app_id)
            if AuthenticationConstants.SERVICE_URL_CLAIM not in claims:
                return claims
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
    tid = claims.get(AuthenticationConstants.TENANT_ID_CLAIM)
    if isinstance(tid, str) and tid.lower() != _issuer_tenant(str(claims["iss"])):
        raise AuthError("token tenant does not match its issuer")


def _issuer_tenant(issuer: str) -> str | None:
    for template in ENTRA_ISSUER_TEMPLATES:
        prefix, suffix = template.split("{0}")
        if issuer.startswith(prefix) and issuer.endswith(suffix):
            return issuer[len(prefix) : len(issuer) - len(suffix)].lower()
    return None


def _check_caller(claims: Mapping[str, Any], app_id: str) -> None:
    """An Entra token was requested by this bot (`appid` in v1, `azp` in v2), not by another app calling it."""
    version = claims.get(AuthenticationConstants.VERSION_CLAIM)
    claim = CALLER_CLAIMS.get(version) if isinstance(version, str) else None
    if claim is None:
        raise AuthError(f"Entra token of unknown token version {version!r}")
    if claims.get(claim) != app_id:
        raise AuthError(f"Entra token's {claim} is not this bot: {claims.get(claim)!r}")


def _check_service_url(claims: Mapping[str, Any], service_url: str | None) -> None:
    """The token's serviceUrl is the activity's: replies, and the bot's token, go nowhere else."""
    claimed = claims.get(AuthenticationConstants.SERVICE_URL_CLAIM)
    if not isinstance(claimed, str) or not service_url or _normal(claimed) != _normal(service_url):
        raise AuthError(f"token serviceUrl {claimed!r} does not match the activity's {service_url!r}")


def _normal(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
