"""Helpers for tests that run the real ``jati`` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

JATI = [sys.executable, "-m", "identity.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JATI_")}
    env.update(values)
    return env


def run_jati(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*JATI, *args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def serving(
    *args: str, cwd: Path, env: Mapping[str, str], ready_within: float = 5.0
) -> Iterator[tuple[subprocess.Popen[str], str, float]]:
    """Start ``jati serve`` and wait for /healthz; yields (process, base URL, seconds to ready)."""
    port = free_port()
    process = subprocess.Popen(
        [*JATI, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            elapsed = time.monotonic() - started
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"jati serve exited with {process.returncode}: {err}")
            try:
                if http_get(base + "/healthz", timeout=0.5)[0] == 200:
                    break
            except OSError:
                pass
            if elapsed > ready_within * 3:
                raise AssertionError("jati serve did not answer /healthz")
            time.sleep(0.05)
        yield process, base, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
