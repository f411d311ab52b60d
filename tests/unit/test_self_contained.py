"""The repository stands alone (issue 15): a clone with nothing beside it runs its tests, so no
file of it may read a path outside the repository, such as the ``shared/`` folder that the
project's own workplace keeps next to the clone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
                "node_modules", "jati-data", "build", "__pycache__"}  # fmt: skip
TEXT_SUFFIXES = {".py", ".toml", ".cfg", ".ini", ".sh", ".js", ".mjs", ".json", ".md", ""}
#: A path that climbs out of the repository to a sibling folder, or names the shared vectors.
OUTSIDE = re.compile(r"\.\./(?:\.\./)*shared\b|\bshared/vectors\b|JATI_VECTORS_DIR")


def _files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        if any(part in SKIPPED_DIRS for part in path.relative_to(ROOT).parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            found.append(path)
    return found


def test_no_file_reads_a_path_outside_the_repository() -> None:
    offending = []
    for path in _files():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offending == []


def test_the_vectors_are_in_the_repository_with_their_sources() -> None:
    data = ROOT / "tests" / "vectors" / "data"
    sources = (data / "SOURCES.md").read_text(encoding="utf-8")
    vector_files = sorted(p.name for p in data.glob("*.json"))
    assert len(vector_files) >= 4
    for name in vector_files:
        assert f"`{name}`" in sources, f"{name} has no entry in SOURCES.md"
