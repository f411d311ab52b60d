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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text

from audit.log import AuditLog
from identity.citizens.passwords import TEST_PROFILE
from identity.citizens.service import CitizenService
from identity.service.factories import build_audit_log, build_citizen_service, utc_now
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import TEST_MASTER_KEY

JATI = [sys.executable, "-m", "identity.service.cli"]


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


def operator_env(tmp_path: Path, database_url: str, **values: str) -> dict[str, str]:
    """The environment of a ``jati`` an operator runs in ``tmp_path``: the test's database,
    the test master key, a data dir of its own and the cheapest password profile, plus
    ``values``."""
    return clean_env(
        JATI_DATABASE_URL=database_url,
        JATI_MASTER_KEY=TEST_MASTER_KEY,
        JATI_DATA_DIR=str(tmp_path / "data"),
        JATI_PASSWORD_PROFILE=TEST_PROFILE,
        **values,
    )


@dataclass
class Operator:
    """An operator running ``jati`` in ``cwd`` with ``env``, on ``database``."""

    cwd: Path
    env: dict[str, str]
    database: Database

    def jati(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``jati args``, which never prints a traceback."""
        result = run_jati(*args, cwd=self.cwd, env=self.env, stdin=stdin)
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, result.stdout, result.stderr


def in_process(
    settings: Settings, database: Database, clock: Callable[[], datetime] = utc_now
) -> tuple[AuditLog, CitizenService]:
    """The audit log and the citizen service (its clock ``clock``) that ``jati`` builds from
    ``settings`` and their master key, here in the test's process."""
    master_key, _ = settings.load_master_key(create=False)
    audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
    citizens = build_citizen_service(
        settings, database, master_key, pseudonymizer=pseudonymizer, clock=clock
    )
    return audit_log, citizens


def jati_cli(cwd: Path, env: Mapping[str, str]) -> Callable[..., str]:
    """``jati`` run in ``cwd`` with ``env``: each command must succeed; returns its stdout."""

    def jati(*args: str, stdin: str | None = None) -> str:
        result = run_jati(*args, cwd=cwd, env=env, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return jati


def add_citizen(jati: Callable[..., str], citizen: Mapping[str, str], password: str) -> None:
    """``jati citizen add`` of ``citizen`` (nik, name, birthdate, email) with ``password``."""
    jati(
        "citizen", "add", "--nik", citizen["nik"], "--name", citizen["name"],
        "--birthdate", citizen["birthdate"], "--email", citizen["email"], "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip


def add_bansos_purpose(jati: Callable[..., str], client_id: str) -> None:
    """``jati purpose add``: the app's consent purpose ``bansos`` (name and birthdate)."""
    jati(
        "purpose", "add", "--client", client_id, "--code", "bansos", "--basis", "a",
        "--item", "name", "--item", "birthdate", "--retention-days", "365",
        "--description-id", "Menilai kelayakan bantuan sosial",
    )  # fmt: skip


def row_counts(database: Database) -> dict[str, int]:
    """Rows per table, every table: what a refused request must leave unchanged."""
    with database.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


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
        stop(process, timeout=15)


def stop(process: subprocess.Popen[str], *, timeout: float) -> None:
    """SIGTERM a process still running, and kill it if it has not ended within ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def demo_printed(stdout: str) -> dict[str, str]:
    """The ``  name  value`` lines ``jati demo`` prints (names in a 17-character column)."""
    lines = [line for line in stdout.splitlines() if line.startswith("  ")]
    return {line[2:19].strip(): line[20:].split()[0] for line in lines}


def _all_answer(*urls: str) -> bool:
    try:
        return all(http_get(url, timeout=0.5)[0] == 200 for url in urls)
    except OSError:
        return False


@contextmanager
def running_demo(
    *, cwd: Path, env: Mapping[str, str]
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], str]]:
    """Start ``jati demo`` on two free ports and wait until it has printed its values and
    both Jati and the example app answer; yields (process, the values it printed by name,
    the stdout read so far). A process still running at the end gets SIGTERM."""
    port, app_port = free_port(), free_port()
    process = subprocess.Popen(
        [*JATI, "demo", "--port", str(port), "--app-port", str(app_port)],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        head = ""
        printed: dict[str, str] = {}
        while "data dir" not in printed:
            line = process.stdout.readline()
            assert line, f"jati demo exited: {process.communicate()[1]}"
            head += line
            printed.update(demo_printed(line))
        deadline = time.monotonic() + 20
        while not _all_answer(printed["Jati"] + "/healthz", printed["example app"] + "/"):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "jati demo did not answer"
            time.sleep(0.05)
        yield process, printed, head
    finally:
        stop(process, timeout=20)
