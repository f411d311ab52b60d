"""DESIGN.md §1: dependencies point identity -> consent -> audit, cores are framework-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.source_tree import ROOT, imported_names, python_modules

PACKAGES = ("identity", "consent", "audit")
#: Which top-level packages each package may import.
ALLOWED = {"audit": {"audit"}, "consent": {"consent", "audit"}, "identity": set(PACKAGES)}
ADAPTER_PARTS = {"storage", "http", "cli", "service"}


def _modules() -> dict[str, Path]:
    return python_modules(*PACKAGES)


def _imports(path: Path, module: str) -> set[str]:
    return imported_names(path.read_text(), module)


def _is_core(module: str) -> bool:
    return not (set(module.split(".")[1:]) & ADAPTER_PARTS)


def test_dependencies_point_down() -> None:
    violations = []
    for module, path in _modules().items():
        own = module.split(".")[0]
        for name in _imports(path, module):
            top = name.split(".")[0]
            if top in PACKAGES and top not in ALLOWED[own]:
                violations.append(f"{module} imports {name}")
    assert violations == []


def test_no_import_cycle_between_modules() -> None:
    modules = _modules()
    graph = {m: {n for n in _imports(p, m) if n in modules and n != m} for m, p in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("package", PACKAGES)
def test_cores_import_without_fastapi_or_sqlalchemy(package: str) -> None:
    cores = sorted(m for m in _modules() if m.split(".")[0] == package and _is_core(m))
    assert cores, "every package has a core"
    program = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('fastapi', 'sqlalchemy', 'starlette', 'alembic'):\n"
        "            raise ImportError('framework import from a core: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {cores!r}:\n"
        "    __import__(m)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_architecture_check_catches_a_core_importing_a_framework(tmp_path: Path) -> None:
    # The blocker above must actually block: a module importing sqlalchemy fails under it.
    program = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'sqlalchemy':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import audit.storage.naming\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
