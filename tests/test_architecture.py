"""The house rules, read from the code's own imports (every import statement, inside functions too).

- `agent/` is the engine: it imports nothing of the chat host (`debrief`), the plugins, the backends or Errbot.
- No import cycle among `agent/` modules, lazy imports and imports for type checking included.
- The host and the backends never import the plugins; the backends never import the host.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("agent", "debrief", "backends", "plugins")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((REPO / package).rglob("*.py"))}


def imported(path: Path) -> Iterator[str]:
    """Every module name an import statement in `path` names (a `from x import y` names `x`, and `x.y`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def edges(package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (names that are not modules are dropped).

    Importing `a.b.c` first runs the packages `a` and `a.b`: those count too, unless the importer is inside them
    (a package's own modules run while it is being imported).
    """
    known = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        ancestors = {".".join(name.split(".")[:n]) for n in range(1, len(name.split(".")) + 1)}
        targets: set[str] = set()
        for target in imported(path):
            parts = target.split(".")
            targets |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)} - ancestors
        graph[name] = {target for target in targets if target in known and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def outside_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {target}"
        for name, path in modules(package).items()
        for target in imported(path)
        if target.split(".")[0] in forbidden
    ]


def test_the_engine_imports_no_chat_host_plugin_backend_or_errbot() -> None:
    assert outside_imports("agent", ("debrief", "plugins", "backends", "errbot", "flask", "slack_sdk")) == []


def test_no_import_cycle_among_engine_modules() -> None:
    assert cycles(edges("agent")) == []


@pytest.mark.parametrize(
    ("package", "forbidden"), [("debrief", ("plugins",)), ("backends", ("plugins", "debrief"))]
)
def test_imports_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    assert outside_imports(package, forbidden) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_a_lazy_import_through_a_package_is_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shape that was in `agent/` before: filing imports postmortem.gate, postmortem lazily imports filing."""
    files = {
        "pkg/__init__.py": "",
        "pkg/filing.py": "from pkg.postmortem.gate import check\n",
        "pkg/postmortem/__init__.py": "from pkg.postmortem.workflow import Workflow\n",
        "pkg/postmortem/gate.py": "def check(): ...\n",
        "pkg/postmortem/workflow.py": "def publish():\n    from pkg.filing import file\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)

    assert cycles(edges("pkg")) == [["pkg.filing", "pkg.postmortem", "pkg.postmortem.workflow"]]
