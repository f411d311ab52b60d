"""Shared pieces of the benchmarks: result lines, servers, load generation."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One benchmark result: ``value / baseline`` against a target."""

    name: str
    value: float
    baseline: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def line(self) -> str:
        target = ""
        if self.target is not None:
            sign = ">=" if self.higher_is_better else "<="
            target = f"  target {sign} {self.target:g}: {'MET' if self.met else 'MISSED'}"
        note = f"  ({self.note})" if self.note else ""
        return (
            f"{self.name}: ratio {self.ratio:.3f}  "
            f"[{self.value:,.1f} / {self.baseline:,.1f} {self.unit}]{target}{note}"
        )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jati_server(
    workers: int, env: dict[str, str] | None = None, *, port: int | None = None
) -> Iterator[str]:
    """Run ``jati serve`` with ``workers`` in a throwaway data dir (``env`` may name another)
    on ``port`` (a free one by default); yields its base URL."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="jati-bench-") as tmp:
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("JATI_")}
        run_env.update({"JATI_LOG_LEVEL": "WARNING", "JATI_DATA_DIR": str(Path(tmp) / "d")})
        run_env.update(env or {})
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "identity.service.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process, workers)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(base: str, process: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("jati serve exited during start")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    # Let every worker finish importing before measuring.
                    time.sleep(1.0 + 0.5 * workers)
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("jati serve did not become ready")


def wrk_requests_per_second(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    script: Path | None = None,
    timeout: int = 2,
) -> float:
    """Requests per second that wrk sustains against ``url`` over keep-alive connections
    (``script``: a wrk Lua script, e.g. to POST a body)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench needs wrk (a load generator written in C): apt-get install wrk")
    extra = ["-s", str(script)] if script else []
    result = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout}s",
            "--latency",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"cannot read wrk output:\n{result.stdout}")
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"errors during the load:\n{result.stdout}")
    return float(match.group(1))
