"""Tests against public test vectors kept in this repository, in ``tests/vectors/data/``.

Each file there is a copy of public material (``data/SOURCES.md`` says where each comes
from: the RFC section, or the upstream test-data path). Nothing here reads a path outside
the repository, so a clone with nothing beside it runs these tests (issue 15).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().with_name("data")


def load_vectors(name: str) -> dict[str, Any]:
    """A vector file by name; a missing file fails the run (vectors are never skipped)."""
    data: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return data
