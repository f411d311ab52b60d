"""The lock is enforced (issue 15): ``tools/lockfile.py check`` fails when pyproject.toml and
requirements.lock disagree, and the repository's own pair agrees."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _lockfile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lockfile", ROOT / "tools" / "lockfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lockfile = _lockfile()


def _pyproject(dependencies: list[str], test: list[str] | None = None) -> dict[str, Any]:
    return {
        "build-system": {"requires": ["setuptools>=77"]},
        "project": {
            "dependencies": dependencies,
            "optional-dependencies": {"test": test or [], "bench": [], "other": ["ignored"]},
        },
    }


def _lock(pyproject: dict[str, Any], *pins: str) -> str:
    body = "".join(f"{pin} \\\n    --hash=sha256:{'0' * 64}\n" for pin in pins)
    return f"# header\n{lockfile.DIGEST_PREFIX}{lockfile.digest(pyproject)}\n{body}"


def test_an_agreeing_lock_passes() -> None:
    pyproject = _pyproject(["cryptography>=43", "PyJWT>=2.9"], test=["pytest>=8"])
    lock = _lock(pyproject, "cryptography==51.0.1", "pyjwt==2.15.1", "pytest==9.0.0",
                 "setuptools==84.2.1")  # fmt: skip
    assert lockfile.check(pyproject, lock) == []


def test_a_dependency_added_without_relocking_fails() -> None:
    before = _pyproject(["cryptography>=43"])
    lock = _lock(before, "cryptography==51.0.1", "setuptools==84.2.1")
    after = _pyproject(["cryptography>=43", "httpx>=0.27"])
    problems = lockfile.check(after, lock)
    assert any("changed since requirements.lock was made" in p for p in problems)
    assert any("httpx is not in requirements.lock" in p for p in problems)


def test_a_removed_dependency_fails_too() -> None:
    before = _pyproject(["cryptography>=43", "httpx>=0.27"])
    lock = _lock(before, "cryptography==51.0.1", "httpx==0.28.1", "setuptools==84.2.1")
    assert lockfile.check(_pyproject(["cryptography>=43"]), lock) != []


def test_a_pin_outside_the_specifier_fails() -> None:
    pyproject = _pyproject(["uvicorn[standard]>=0.51"])
    lock = _lock(pyproject, "uvicorn==0.30.6", "setuptools==84.2.1")
    assert lockfile.check(pyproject, lock) == [
        "requirements.lock pins uvicorn==0.30.6, outside >=0.51"
    ]


def test_order_and_spacing_of_requirements_do_not_change_the_digest() -> None:
    a = _pyproject(["cryptography>=43", "PyJWT>=2.9"])
    b = _pyproject(["PyJWT>=2.9", "cryptography>=43"])
    assert lockfile.digest(a) == lockfile.digest(b)


def test_the_repository_lock_agrees_with_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert lockfile.check(pyproject, lock) == []
    assert "--hash=sha256:" in lock
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lockfile.py"), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
