"""Errbot keeps its state (`self[key] = value` of plugins and backends) in Debrief's database, on every backend.

The storage is driven the way Errbot drives it: loaded by name through Errbot's own loader from the bot config,
used through Errbot's `StoreMixin` (what `BotPlugin` and the backends inherit), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from errbot.bootstrap import get_storage_plugin
from errbot.storage import StoreMixin

from agent.settings import load_settings
from agent.store import BotState, Store, StoreError
from debrief.bot.config import STORAGE_DIR, config_namespace, errbot_config
from tests.store_fixtures import backend, db_url

__all__ = ["backend", "db_url"]


@dataclass(frozen=True)
class ConversationRef:
    """A stand-in for what a backend keeps: an object of its own class, not only dicts and strings."""

    conversation_id: str
    service_url: str


def load_storage(db_url: str, tmp_path: Path) -> Any:
    """The storage plugin Errbot loads from Debrief's config for a bot on `db_url`."""
    settings = load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_DATABASE_URL=db_url)
    return get_storage_plugin(config_namespace(settings, backend="Test"))


@contextmanager
def opened(storage: Any, namespace: str) -> Iterator[StoreMixin]:
    """A namespace as a plugin sees it (`self[key]`, `len(self)`, ...), closed afterwards as Errbot does."""
    state = StoreMixin()
    state.open_storage(storage, namespace)
    try:
        yield state
    finally:
        state.close_storage()


@pytest.mark.parametrize("chat", ["Text", "Test", "SlackV3", "Teams"])
def test_every_backend_keeps_errbots_state_in_debriefs_database(chat: str, tmp_path: Path) -> None:
    settings = load_settings(DEBRIEF_DATA_DIR=tmp_path / "data", DEBRIEF_BACKEND=chat, DEBRIEF_ADMINS="alice")
    config = errbot_config(settings)
    assert (config["STORAGE"], config["STORAGE_CONFIG"]) == ("DebriefSQL", {"url": settings.database})
    assert config["BOT_EXTRA_STORAGE_PLUGINS_DIR"] == str(STORAGE_DIR)
    storage = get_storage_plugin(config_namespace(settings))
    assert type(storage).__name__ == "DebriefSQLStoragePlugin"
    with opened(storage, "core") as core:
        core["configs"] = {"Webserver": {"PORT": 3978}}
    assert not list((tmp_path / "data" / "errbot").glob("*.db*")), "no Shelf files are written"


def test_values_round_trip_through_debriefs_database(db_url: str, tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "configs": {"Webserver": {"HOST": "0.0.0.0", "PORT": 3978, "SSL": {"enabled": False}}},
        "conversations": {
            "19:abc@thread.tacv2": ConversationRef("19:abc@thread.tacv2", "https://smba.example")
        },
        "acl": ("alice", "bob"),
        "seen": datetime(2024, 3, 1, 10, 2, tzinfo=UTC),
        "raw": b"\x00\xff",
        "nothing": None,
        "ünïcode kéy": ["ok"],
    }
    storage = load_storage(db_url, tmp_path)
    with opened(storage, "Teams") as state:
        for key, value in values.items():
            state[key] = value
        assert {key: state[key] for key in values} == values
        assert sorted(state) == sorted(values)
    store = Store(db_url)
    assert BotState(store, "Teams").keys() == sorted(values)  # rows in the bot_state table
    store.close()


def test_setting_a_key_again_replaces_its_value(db_url: str, tmp_path: Path) -> None:
    storage = load_storage(db_url, tmp_path)
    with opened(storage, "core") as core:
        core["configs"] = {}
        with core.mutable("configs", {}) as configs:  # how Errbot updates a plugin's configuration
            configs["Webserver"] = {"PORT": 3978}
        assert core["configs"] == {"Webserver": {"PORT": 3978}}
        assert len(core) == 1


def test_an_unknown_key_raises_key_error_as_errbot_expects(db_url: str, tmp_path: Path) -> None:
    storage = load_storage(db_url, tmp_path)
    with opened(storage, "ACLs") as state:
        with pytest.raises(KeyError):
            state["missing"]
        with pytest.raises(KeyError):
            del state["missing"]
        assert "missing" not in state
        assert state.get("missing", "default") == "default"
        with state.mutable("missing", {"new": 1}) as value:  # a default for a key never stored
            assert value == {"new": 1}
        assert state["missing"] == {"new": 1}


def test_removed_keys_are_gone_and_namespaces_are_separate(db_url: str, tmp_path: Path) -> None:
    storage = load_storage(db_url, tmp_path)
    with opened(storage, "DebriefIncidents") as plugin, opened(storage, "Teams") as backend:
        plugin["a"], plugin["b"] = 1, 2
        backend["a"] = "the backend's own a"
        del plugin["a"]
        assert "a" not in plugin and plugin["b"] == 2
        assert (len(plugin), list(plugin.keys())) == (1, ["b"])
        assert (len(backend), list(backend.keys()), backend["a"]) == (1, ["a"], "the backend's own a")


def test_a_write_is_committed_when_it_returns_and_outlives_the_bot(db_url: str, tmp_path: Path) -> None:
    """A second bot on the same database (its own connections) sees every write at once, removals too."""
    first, second = load_storage(db_url, tmp_path), load_storage(db_url, tmp_path)
    with opened(first, "Teams") as writer, opened(second, "Teams") as reader:
        writer["conversations"] = {"19:abc": "ref"}
        assert reader["conversations"] == {"19:abc": "ref"}
        reader["conversations"] = {"19:abc": "ref", "19:def": "ref"}
        assert writer["conversations"] == {"19:abc": "ref", "19:def": "ref"}
        writer["temporary"] = 1
        del writer["temporary"]
        assert "temporary" not in reader
    # Every namespace closed: the bot is gone. A new one (and the first, reopened) finds what was stored.
    for storage in (load_storage(db_url, tmp_path), first):
        with opened(storage, "Teams") as state:
            assert state["conversations"] == {"19:abc": "ref", "19:def": "ref"}


def test_two_bots_setting_the_same_new_key_at_once_both_succeed(db_url: str, tmp_path: Path) -> None:
    bots = [load_storage(db_url, tmp_path) for _ in range(2)]
    start = threading.Barrier(len(bots))
    errors: list[BaseException] = []

    def write(storage: Any, name: str) -> None:
        try:
            with opened(storage, "core") as core:
                start.wait(timeout=10)
                for n in range(20):
                    core[f"key-{n}"] = name
        except BaseException as exc:  # collected and asserted on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(bot, f"bot-{i}")) for i, bot in enumerate(bots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with opened(bots[0], "core") as core:
        assert len(core) == 20
        assert {core[f"key-{n}"] for n in range(20)} <= {"bot-0", "bot-1"}


def test_a_database_that_cannot_open_fails_the_start_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the database folder"):
        load_storage(f"sqlite:///{tmp_path / 'file' / 'debrief.db'}", tmp_path)
