"""Where the bot may send its connector token: the allow-list of Bot Connector hosts, in process."""

from __future__ import annotations

import pytest

from backends.teams.service_urls import ServiceUrls


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/teams/",
        "https://SMBA.TrafficManager.net/apac",
        "https://smba.trafficmanager.net:443/amer/",
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "https://smba.infra.dod.teams.microsoft.us/teams",
        "https://webchat.botframework.com/",
        "https://directline.botframework.com/",
    ],
)
def test_microsofts_connector_hosts_are_allowed_by_default(url: str) -> None:
    assert ServiceUrls().allows(url)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "smba.trafficmanager.net/amer/",
        "http://smba.trafficmanager.net/amer/",  # the token would travel in clear text
        "ftp://smba.trafficmanager.net/amer/",
        "https://attacker.example.com/svc/",
        "https://smba.trafficmanager.net.attacker.example.com/",
        "https://evilsmba.trafficmanager.net/",
        "https://botframework.com/",
        "https://botframework.com.attacker.example.com/",
        "https://attackerbotframework.com/",
        "https://user@smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net@attacker.example.com/",
        "https://attacker.example.com\\@smba.trafficmanager.net/",
        "https://attacker.example.com/?smba.trafficmanager.net",
        "https://attacker.example.com#@smba.trafficmanager.net",
        "https://smba.trafficmanager.net /amer/",
        "https://smba.trafficmanager.net\t/amer/",
        "https://smba.trafficmanager.net:notaport/",
        "https://smba.trafficmanager.net./amer/",
        "https://smba%2etrafficmanager.net/amer/",
        "https://smba.trafficmanager.net\u3002attacker.example.com/",
        "http://127.0.0.1:3978/",  # loopback is not Microsoft's unless configured
        "https://[::1]/",
    ],
)
def test_anything_else_is_refused(url: str | None) -> None:
    assert not ServiceUrls().allows(url)


def test_configured_hosts_replace_the_defaults() -> None:
    urls = ServiceUrls(["smba.trafficmanager.cn", "*.botframework.azure.cn"])

    assert urls.allows("https://smba.trafficmanager.cn/teams/")
    assert urls.allows("https://webchat.botframework.azure.cn/")
    assert not urls.allows("https://smba.trafficmanager.net/amer/")


def test_plain_http_is_allowed_only_to_a_configured_loopback_host() -> None:
    urls = ServiceUrls(["127.0.0.1", "localhost", "::1", "connector.internal.example"])

    assert urls.allows("http://127.0.0.1:3978/svc/")
    assert urls.allows("http://localhost:3978/")
    assert urls.allows("http://[::1]:3978/")
    assert urls.allows("https://connector.internal.example/")
    assert not urls.allows("http://connector.internal.example/")
