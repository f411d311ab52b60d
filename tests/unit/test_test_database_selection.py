"""The PostgreSQL run must fail, never skip, when its server cannot be reached (CI contract)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_env

ROOT = Path(__file__).resolve().parents[2]


def test_an_unreachable_test_database_fails_the_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/unit/identity/service/test_settings.py"],
        cwd=ROOT,
        env=clean_env(JATI_TEST_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "PostgreSQL cannot be reached" in result.stdout + result.stderr
