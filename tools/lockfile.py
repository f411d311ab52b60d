"""``requirements.lock``: every dependency at an exact version, with the hashes of its files.

``make lock`` writes the lock from ``pyproject.toml`` (runtime dependencies, the ``test`` and
``bench`` extras, and what building Jati itself needs) with uv's resolver, for every platform
and Python 3.11+; ``make serve``, ``make test`` and ``.ci/run`` install from it with
``pip --require-hashes``, so the same commands install the same files every day.

``python tools/lockfile.py check`` fails when ``pyproject.toml`` and the lock disagree:

- the lock's header records a digest of the dependency lists it was made from, so any change
  to them (added, removed or changed requirement) without ``make lock`` is caught, offline;
- each requirement of ``pyproject.toml`` must be met by the version the lock pins for it
  (which catches a hand-edited lock);
- after installation, ``pip check`` (run by the Makefile) proves the pins complete.

``python tools/lockfile.py stamp`` adds the digest line to a lock uv has just written, and
``build-requires`` prints ``[build-system] requires`` for uv to lock beside the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
EXTRAS = ("test", "bench")
DIGEST_PREFIX = "# pyproject.toml dependencies sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def requirements(pyproject: dict[str, Any]) -> list[str]:
    """What the lock is made from: build requirements, dependencies and the locked extras."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    found: list[str] = list(pyproject["build-system"]["requires"])
    found += project.get("dependencies", [])
    for extra in EXTRAS:
        found += extras.get(extra, [])
    return found


def digest(pyproject: dict[str, Any]) -> str:
    """SHA-256 over the dependency lists in a canonical form (order and comments ignored)."""
    canonical = json.dumps(sorted(" ".join(r.split()) for r in requirements(pyproject)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def pins(lock_text: str) -> dict[str, list[str]]:
    """Normalised project name -> the versions pinned for it (several under markers)."""
    found: dict[str, list[str]] = {}
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match:
            found.setdefault(_normalise(match.group(1)), []).append(match.group(2))
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check(pyproject: dict[str, Any], lock_text: str) -> list[str]:
    """Every way the lock disagrees with ``pyproject.toml``, in words (empty: they agree)."""
    problems: list[str] = []
    recorded = [
        line.removeprefix(DIGEST_PREFIX).strip()
        for line in lock_text.splitlines()
        if line.startswith(DIGEST_PREFIX)
    ]
    if recorded != [digest(pyproject)]:
        problems.append(
            "the dependencies in pyproject.toml changed since requirements.lock was made"
        )
    try:
        from packaging.requirements import Requirement
    except ImportError:  # before installation: the digest is checked, the pins after
        return problems
    locked = pins(lock_text)
    for text in requirements(pyproject):
        requirement = Requirement(text)
        versions = locked.get(_normalise(requirement.name), [])
        if not versions:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(
                f"requirements.lock pins {requirement.name}=={versions[0]}, "
                f"outside {requirement.specifier}"
            )
    return problems


def main(argv: list[str]) -> int:
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    if argv[1:] == ["stamp"]:
        lines = LOCK.read_text(encoding="utf-8").splitlines(keepends=True)
        lines = [line for line in lines if not line.startswith(DIGEST_PREFIX)]
        header = 0
        while header < len(lines) and lines[header].startswith("#"):
            header += 1
        lines.insert(header, f"{DIGEST_PREFIX}{digest(pyproject)}\n")
        LOCK.write_text("".join(lines), encoding="utf-8")
        return 0
    if argv[1:] == ["build-requires"]:  # uv's input for what building Jati needs
        print("\n".join(pyproject["build-system"]["requires"]))
        return 0
    if argv[1:] == ["check"]:
        if not LOCK.exists():
            print("requirements.lock is missing: run `make lock`", file=sys.stderr)
            return 1
        problems = check(pyproject, LOCK.read_text(encoding="utf-8"))
        for problem in problems:
            print(f"lock: {problem}", file=sys.stderr)
        if problems:
            print("run `make lock` and commit requirements.lock", file=sys.stderr)
            return 1
        return 0
    print("usage: python tools/lockfile.py check|stamp|build-requires", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
