"""Token validation for `/api/messages`, in process, against the fake OpenID metadata / JWKS endpoint."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from backends.teams.auth import AuthError, KeysUnavailable, SigningKeys, TokenValidator, accepted_issuers
from tests.fakes.teams_connector import APP_ID, FakeTeams, SigningKey

TENANT = "6f1c3a52-93a4-4a7b-9d1e-2b7f0c8e4d11"
OTHER_TENANT = "0b5e8c1d-7a2f-4e3b-8c9d-1f2e3a4b5c6d"
ENTRA_V2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def teams() -> Iterator[FakeTeams]:
    with FakeTeams() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def validator(teams: FakeTeams, clock: Clock) -> TokenValidator:
    keys = SigningKeys([teams.metadata_url], clock=clock, min_refresh_s=60)
    return TokenValidator(APP_ID, accepted_issuers(TENANT), keys)


def check(
    validator: TokenValidator, token: str, teams: FakeTeams, channel: str = "msteams"
) -> dict[str, object]:
    return validator.validate(f"Bearer {token}", teams.service_url, channel)


def test_bot_connector_token_is_accepted_and_keys_are_fetched_once(
    validator: TokenValidator, teams: FakeTeams
) -> None:
    claims = check(validator, teams.token(), teams)
    check(validator, teams.token(), teams)

    assert claims["aud"] == APP_ID
    assert teams.metadata_requests == 1


# Entra ID tokens (the emulator path of the spec) carry no serviceurl claim; they name the calling app instead:
# `appid` in a v1 token, `azp` in a v2 token, and that app must be this bot.
ENTRA_V1 = f"https://sts.windows.net/{TENANT}/"
BOT_FRAMEWORK_TENANT = "d6d49420-f39b-4df7-a1dc-d59a935871db"
ENTRA_TOKENS: dict[str, dict[str, Any]] = {
    "v2 from the bot's tenant": {"iss": ENTRA_V2, "tid": TENANT, "ver": "2.0", "azp": APP_ID},
    "v1 from the bot's tenant": {"iss": ENTRA_V1, "tid": TENANT, "ver": "1.0", "appid": APP_ID},
    "v1 from the Bot Framework's tenant": {
        "iss": f"https://sts.windows.net/{BOT_FRAMEWORK_TENANT}/",
        "tid": BOT_FRAMEWORK_TENANT,
        "ver": "1.0",
        "appid": APP_ID,
    },
}


@pytest.mark.parametrize("case", list(ENTRA_TOKENS))
def test_entra_token_for_this_bot_is_accepted_without_a_service_url_claim(
    validator: TokenValidator, teams: FakeTeams, case: str
) -> None:
    claims = check(validator, teams.token(serviceurl=None, **ENTRA_TOKENS[case]), teams)

    assert claims["iss"] == ENTRA_TOKENS[case]["iss"]


OTHER_APP = "22222222-3333-4444-8555-666666666666"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"ver": "2.0"}, "azp is not this bot"),
        ({"ver": "2.0", "azp": OTHER_APP}, "azp is not this bot"),  # another bot calling (a skill): refused
        ({"ver": "2.0", "appid": APP_ID}, "azp is not this bot"),  # a v2 token names its caller in azp only
        ({"ver": "1.0", "azp": APP_ID}, "appid is not this bot"),
        ({"ver": "1.0", "appid": OTHER_APP}, "appid is not this bot"),
        ({"azp": APP_ID, "appid": APP_ID}, "unknown token version None"),
        ({"ver": "3.0", "azp": APP_ID, "appid": APP_ID}, "unknown token version '3.0'"),
    ],
)
def test_entra_token_that_does_not_name_this_bot_as_its_caller_is_refused(
    validator: TokenValidator, teams: FakeTeams, claims: dict[str, Any], reason: str
) -> None:
    token = teams.token(iss=ENTRA_V2, tid=TENANT, serviceurl=None, **claims)

    with pytest.raises(AuthError, match=reason):
        check(validator, token, teams)


def test_entra_token_with_a_service_url_claim_must_still_match_the_activity(
    validator: TokenValidator, teams: FakeTeams
) -> None:
    token = teams.token(
        serviceurl="https://smba.trafficmanager.net/amer/", **ENTRA_TOKENS["v2 from the bot's tenant"]
    )

    with pytest.raises(AuthError, match="does not match the activity"):
        check(validator, token, teams)


def test_bot_framework_token_without_a_service_url_claim_is_refused(
    validator: TokenValidator, teams: FakeTeams
) -> None:
    with pytest.raises(AuthError, match="token serviceUrl None does not match"):
        check(validator, teams.token(serviceurl=None), teams)


def test_issuers_are_the_bot_framework_its_tenants_and_the_bots_own_tenant() -> None:
    assert accepted_issuers(TENANT.upper()) == {
        "https://api.botframework.com",
        *(
            template.format(tenant)
            for tenant in (
                BOT_FRAMEWORK_TENANT,
                "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
                "69e9b82d-4842-4902-8d1e-abc5b98a55e8",
                TENANT,
            )
            for template in ("https://sts.windows.net/{}/", "https://login.microsoftonline.com/{}/v2.0")
        ),
    }


# Ten minutes after the test starts (a time taken when the tests are collected is long past in a long run).
NOT_YET = object()


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (
            {"iss": f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0", "tid": OTHER_TENANT},
            "untrusted issuer",
        ),
        ({"iss": ENTRA_V2, "tid": OTHER_TENANT, "ver": "2.0", "azp": APP_ID}, "tenant does not match"),
        ({"nbf": NOT_YET}, "invalid token"),
        ({"exp": None}, "invalid token"),
        ({"serviceurl": "https://smba.trafficmanager.net/amer/"}, "does not match the activity"),
    ],
)
def test_token_with_a_wrong_claim_is_refused(
    validator: TokenValidator, teams: FakeTeams, claims: dict[str, Any], reason: str
) -> None:
    claims = {name: int(time.time()) + 600 if value is NOT_YET else value for name, value in claims.items()}
    with pytest.raises(AuthError, match=reason):
        check(validator, teams.token(**claims), teams)


def test_clock_skew_of_under_a_minute_is_tolerated(validator: TokenValidator, teams: FakeTeams) -> None:
    check(validator, teams.token(exp=int(time.time()) - 30), teams)

    with pytest.raises(AuthError, match="token expired"):
        check(validator, teams.token(exp=int(time.time()) - 90), teams)


def test_service_url_matches_regardless_of_a_trailing_slash_and_scheme_case(
    validator: TokenValidator, teams: FakeTeams
) -> None:
    claimed = "HTTP" + teams.service_url.removeprefix("http").rstrip("/")

    validator.validate(f"Bearer {teams.token(serviceurl=claimed)}", teams.service_url, "msteams")


def test_key_that_does_not_endorse_the_channel_is_refused(
    validator: TokenValidator, teams: FakeTeams
) -> None:
    with pytest.raises(AuthError, match="not endorsed for channel 'slack'"):
        check(validator, teams.token(), teams, channel="slack")


def test_symmetric_or_unsigned_tokens_are_refused(validator: TokenValidator, teams: FakeTeams) -> None:
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 600}
    hs256 = jwt.encode(claims, "a-shared-secret-of-sufficient-length!", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")

    for token in (hs256, unsigned):
        with pytest.raises(AuthError, match="must be RS256"):
            check(validator, token, teams)


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt"])
def test_missing_or_malformed_authorization_is_refused(
    validator: TokenValidator, teams: FakeTeams, header: str | None
) -> None:
    with pytest.raises(AuthError):
        validator.validate(header, teams.service_url, "msteams")


def test_rotated_key_is_fetched_when_a_token_names_it_but_not_more_than_once_a_minute(
    validator: TokenValidator, teams: FakeTeams, clock: Clock
) -> None:
    check(validator, teams.token(), teams)
    rotated = SigningKey.generate()
    teams.keys.append(rotated)

    clock.now += 30
    with pytest.raises(AuthError, match="unknown key"):
        check(validator, teams.token(key=rotated), teams)
    assert teams.metadata_requests == 1

    clock.now += 31
    check(validator, teams.token(key=rotated), teams)
    assert teams.metadata_requests == 2


def test_keys_are_refetched_after_a_day(validator: TokenValidator, teams: FakeTeams, clock: Clock) -> None:
    check(validator, teams.token(), teams)
    clock.now += 24 * 3600 + 1

    check(validator, teams.token(), teams)

    assert teams.metadata_requests == 2


def test_unreachable_metadata_means_keys_unavailable(teams: FakeTeams) -> None:
    teams.metadata_down = True
    validator = TokenValidator(APP_ID, accepted_issuers(None), SigningKeys([teams.metadata_url]))

    with pytest.raises(KeysUnavailable, match="cannot fetch signing keys"):
        check(validator, teams.token(), teams)


def test_metadata_outage_keeps_the_cached_keys(
    validator: TokenValidator, teams: FakeTeams, clock: Clock
) -> None:
    check(validator, teams.token(), teams)
    teams.metadata_down = True
    clock.now += 24 * 3600 + 1

    check(validator, teams.token(), teams)


def test_one_unreachable_metadata_document_does_not_stop_the_others(teams: FakeTeams) -> None:
    keys = SigningKeys(["http://127.0.0.1:9/entra/openid", teams.metadata_url])
    validator = TokenValidator(APP_ID, accepted_issuers(None), keys)

    assert check(validator, teams.token(), teams)["aud"] == APP_ID
