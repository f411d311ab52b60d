"""The project's Python source as the architecture checks read it (``test_architecture.py`` and
``test_layers.py`` in ``tests/unit``): modules by dotted name, and what each imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_modules(*folders: str, skip_migrations: bool = False) -> dict[str, Path]:
    """Every module below ``folders`` (paths from the repository root), by dotted name."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if skip_migrations and "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(source: str, module: str, *, members: bool = False) -> set[str]:
    """The modules ``module``'s source imports (relative imports resolved); with ``members``,
    also ``package.name`` for each ``from package import name``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")[: -node.level] if node.level else []
            prefix = ".".join([*base, node.module or ""]).strip(".")
            if node.level or node.module:
                names.add(prefix)
            if members:
                names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names
