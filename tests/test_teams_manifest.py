"""The Teams app manifest template: fills in, stays within Teams' limits, and lists only commands the bot has."""

from __future__ import annotations

import ast
import json
import struct
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
MANIFEST_DIR = REPO / "backends" / "teams" / "manifest"
ERRBOT_COMMANDS = {"help"}  # Errbot's core plugins


def filled_manifest() -> dict[str, Any]:
    text = MANIFEST_DIR.joinpath("manifest.json").read_text()
    for placeholder, value in {
        "{{TEAMS_APP_ID}}": "00000000-0000-4000-8000-00000000b07a",
        "{{BOT_DOMAIN}}": "debrief.example.com",
        "{{ORGANIZATION}}": "Example Corp",
    }.items():
        text = text.replace(placeholder, value)
    assert "{{" not in text
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def bot_commands() -> set[str]:
    """Names of Debrief's chat commands: every `@botcmd` function in plugins/, `_` read as a space."""
    names = set()
    for path in (REPO / "plugins").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                "botcmd" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                names.add(node.name.replace("_", " "))
    return names | ERRBOT_COMMANDS


def test_the_bot_is_the_app_in_every_scope() -> None:
    manifest = filled_manifest()
    [bot] = manifest["bots"]

    assert manifest["manifestVersion"] == "1.17"
    assert bot["botId"] == manifest["id"] == manifest["webApplicationInfo"]["id"]
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}


def test_the_bot_reads_channel_messages_without_being_mentioned() -> None:
    """The timeline needs every message, not only those that @mention the bot (resource-specific consent)."""
    permissions = filled_manifest()["authorization"]["permissions"]["resourceSpecific"]

    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in permissions


def test_command_lists_name_real_commands_within_teams_limits() -> None:
    known = bot_commands()
    [bot] = filled_manifest()["bots"]

    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert command["title"].startswith("!"), (
                "Teams types the title after the mention: it must be a command"
            )
            assert command["title"][1:] in known
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_texts_fit_teams_limits() -> None:
    manifest = filled_manifest()

    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000


@pytest.mark.parametrize(("name", "size"), [("color.png", 192), ("outline.png", 32)])
def test_icons_have_the_sizes_teams_requires(name: str, size: int) -> None:
    data = MANIFEST_DIR.joinpath(name).read_bytes()

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (size, size)
