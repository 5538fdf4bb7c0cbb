"""A real Prometheus Alertmanager notifies the bot's `/debrief/alertmanager`, end to end.

The alerts are posted to Alertmanager's own API (`/api/v2/alerts`), the way Prometheus posts them; Alertmanager
groups them, sends them with the bearer token from its `http_config`, repeats the checkout group
(`repeat_interval`) and sends each resolution (`send_resolved`). What the bot kept is read the way
`debrief timeline --json` and `!incident signals` show it. The binary is Debian's `prometheus-alertmanager`
(`.ci/run` installs it): without it the test is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from agent.settings import Settings
from agent.signals import unmatched_signals
from debrief.cli.timeline import timeline_json
from tests.plugin_fixtures import Chat, bot_settings, chat
from tests.test_plugin_webhooks import base_url, free_port

__all__ = ["base_url", "chat"]

SECRET = "am-bearer-s3cret"
WAIT_S = 60.0  # CI machines are slow; every wait polls until its condition holds or this runs out
CHECKOUT = ("checkout-1", "checkout-2", "checkout-3")
RESOLVED = re.compile(
    r"Alert resolved after [0-9hms ]+: HighErrorRate: 5xx above 5% on (\S+) \(follows E(\d+)\)"
)

# The README's receiver; the checkout group is redelivered as often as it can be, the others not within the test.
CONFIG = """\
route:
  receiver: debrief
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['service="checkout"']
      repeat_interval: 1s
receivers:
  - name: debrief
    webhook_configs:
      - url: {url}/debrief/alertmanager
        send_resolved: true
        max_alerts: 50
        http_config:
          authorization:
            type: Bearer
            credentials_file: {secret_file}
"""

T = TypeVar("T")


@pytest.fixture
def debrief_settings(tmp_path: Path) -> Settings:
    return bot_settings(tmp_path, DEBRIEF_WEBHOOK_SECRET=SECRET)


@dataclass
class Alertmanager:
    """A running Alertmanager: its API and metrics at `url`, its log at `log`."""

    url: str
    log: Path

    def post(self, *alerts: dict[str, Any]) -> None:
        response = requests.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=10)
        assert response.status_code == 200, response.text

    def notifications(self, at_least: int) -> int | None:
        """Notifications Alertmanager sent to webhooks (its own counter), once there are `at_least`."""
        sent = self._counter("alertmanager_notifications_total")
        return sent if sent >= at_least else None

    def failed_notifications(self) -> int:
        """Notifications that met an error or a status other than 2xx."""
        return self._counter("alertmanager_notifications_failed_total")

    def _counter(self, name: str) -> int:
        metrics = requests.get(f"{self.url}/metrics", timeout=10).text
        found = re.search(rf'^{name}\{{integration="webhook"\}} (\S+)$', metrics, re.MULTILINE)
        if found is None:
            pytest.fail(f"Alertmanager's /metrics has no {name} for webhooks")
        return int(float(found.group(1)))

    def wait_for(self, what: str, probe: Callable[[], T | None]) -> T:
        """Poll `probe` until it returns something; fail with `what` and Alertmanager's log after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while (found := probe()) is None:
            if time.monotonic() > deadline:
                pytest.fail(f"waited {WAIT_S:.0f}s for {what}; Alertmanager said:\n{self.log_tail()}")
            time.sleep(0.2)
        return found

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found:
        return found
    reason = "no Alertmanager binary: apt-get install prometheus-alertmanager (.ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def alertmanager(base_url: str, tmp_path: Path) -> Iterator[Alertmanager]:
    """Alertmanager on a free local port, clustering off, notifying the bot's webhook with the bearer token."""
    binary = alertmanager_binary()
    config = tmp_path / "alertmanager.yml"
    secret_file = tmp_path / "debrief-secret"
    secret_file.write_text(f"{SECRET}\n")  # as `echo` writes it: Alertmanager trims the newline
    config.write_text(CONFIG.format(url=base_url, secret_file=secret_file))
    port = free_port()
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    am = Alertmanager(f"http://127.0.0.1:{port}", log)
    try:
        am.wait_for("Alertmanager to be ready", lambda: _ready(am, process) or None)
        yield am
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(am: Alertmanager, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        pytest.fail(f"Alertmanager exited with {process.returncode} before it was ready:\n{am.log_tail()}")
    try:
        return requests.get(f"{am.url}/-/ready", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def alert(labels: dict[str, str], starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    """An alert as Prometheus posts it; `ends` in the past resolves it."""
    posted: dict[str, Any] = {"labels": labels, "startsAt": starts.isoformat()}
    if "instance" in labels:
        posted["annotations"] = {"summary": f"5xx above 5% on {labels['instance']}"}
    if ends is not None:
        posted["endsAt"] = ends.isoformat()
    return posted


def checkout(instance: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    labels = {"alertname": "HighErrorRate", "service": "checkout", "instance": instance, "severity": "page"}
    return alert(labels, starts, ends)


def payments(starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    labels = {"alertname": "HighErrorRate", "service": "payments", "instance": "payments-1"}
    return alert(labels, starts, ends)


def watchdog(starts: datetime) -> dict[str, Any]:
    return alert({"alertname": "Watchdog", "severity": "none", "namespace": "monitoring"}, starts)


def alert_events(chat: Chat) -> list[dict[str, Any]]:
    """INC-1's alert events as `debrief timeline INC-1 --all --json` prints them."""
    shown = timeline_json(chat.settings, "INC-1", show_all=True)
    return [event for event in shown["events"] if event["kind"] == "alert"]


def unmatched(chat: Chat) -> list[str]:
    engine = chat.engine()
    try:
        return [signal.text for signal in unmatched_signals(engine)]
    finally:
        engine.close()


def test_a_real_alertmanager_group_fires_repeats_and_resolves_onto_the_incident(
    chat: Chat, alertmanager: Alertmanager
) -> None:
    assert chat.ask("!incident start Checkout 5xx --service checkout").startswith("INC-1 started")
    fired = datetime.now(UTC)

    # The heartbeat first, alone, so its delivery is known: answered, and nothing kept. It never resolves.
    alertmanager.post(watchdog(fired))
    alertmanager.wait_for("the Watchdog notification", lambda: alertmanager.notifications(at_least=1))
    assert alertmanager.failed_notifications() == 0  # the bearer token and the content type are accepted
    assert (alert_events(chat), unmatched(chat)) == ([], [])

    alertmanager.post(*(checkout(name, fired) for name in CHECKOUT), payments(fired))
    alertmanager.wait_for("the checkout alerts", lambda: len(alert_events(chat)) >= 3 or None)
    # Watchdog and payments are sent once each (repeat_interval 1h): 3 more notifications are checkout's.
    alertmanager.wait_for("two checkout redeliveries", lambda: alertmanager.notifications(at_least=5))
    firing = alert_events(chat)
    assert sorted(event["text"] for event in firing) == [
        f"Alert firing: HighErrorRate: 5xx above 5% on {name}" for name in CHECKOUT
    ]
    assert {event["at"] for event in firing} == {fired.isoformat()}
    assert unmatched(chat) == ["Alert firing: HighErrorRate: 5xx above 5% on payments-1"]

    # One instance recovers first (a notification with one resolved and two firing alerts), then the rest.
    first_end = datetime.now(UTC) - timedelta(milliseconds=100)
    alertmanager.post(checkout(CHECKOUT[0], fired, first_end))
    alertmanager.wait_for("the first resolution", lambda: len(alert_events(chat)) >= 4 or None)
    rest_end = datetime.now(UTC) - timedelta(milliseconds=100)
    alertmanager.post(*(checkout(name, fired, rest_end) for name in CHECKOUT[1:]), payments(fired, rest_end))
    alertmanager.wait_for("every resolution", lambda: len(alert_events(chat)) >= 6 or None)
    alertmanager.wait_for("the payments resolution", lambda: len(unmatched(chat)) >= 2 or None)

    events = alert_events(chat)
    assert (len(events), events[:3]) == (6, firing)  # the redeliveries added nothing, changed nothing
    firing_ids = {event["text"].rsplit(" ", 1)[1]: event["id"] for event in firing}
    resolved = {
        match.group(1): (int(match.group(2)), event["at"])
        for event in events[3:]
        if (match := RESOLVED.fullmatch(event["text"]))
    }
    ends = dict(zip(CHECKOUT, (first_end, rest_end, rest_end), strict=True))
    assert resolved == {name: (firing_ids[name], end.isoformat()) for name, end in ends.items()}
    assert alertmanager.failed_notifications() == 0
    newest, oldest = unmatched(chat)
    assert re.fullmatch(r"Alert resolved after \d+s: HighErrorRate: 5xx above 5% on payments-1", newest)
    assert oldest == "Alert firing: HighErrorRate: 5xx above 5% on payments-1"
    listing = chat.ask("!incident signals")
    assert listing.count("payments-1") == 2 and "Watchdog" not in listing, listing
    assert "Watchdog" not in str(timeline_json(chat.settings, "INC-1", show_all=True))
