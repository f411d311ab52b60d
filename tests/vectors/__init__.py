"""Tests against the public test vectors in ``../shared/vectors`` (or ``JATI_VECTORS_DIR``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def vectors_dir() -> Path:
    override = os.environ.get("JATI_VECTORS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    """A vector file by name; a missing file fails the run (vectors are never skipped)."""
    data: dict[str, Any] = json.loads((vectors_dir() / name).read_text(encoding="utf-8"))
    return data
