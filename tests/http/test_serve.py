"""``jati serve`` and the rest of the CLI, as an operator runs them (real processes)."""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.helpers import JATI, clean_env, http_get, run_jati, serving

pytestmark = pytest.mark.slow


def test_zero_config_serve_on_sqlite(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env=clean_env()) as (process, base, seconds):
        assert seconds < 5
        status, body = http_get(base + "/readyz")
        assert status == 200, body
        data_dir = tmp_path / "jati-data"
        assert (data_dir / "jati.db").exists()
        key_file = data_dir / "master.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        _, err = process.communicate()
    assert "GENERATED" in err and "master key" in err
    assert base in err  # the URLs are printed
    assert "Traceback" not in err


def test_serve_on_the_configured_database(tmp_path: Path, database_url: str) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url, JATI_DATA_DIR=str(tmp_path / "d"))
    with serving(cwd=tmp_path, env=env) as (_process, base, seconds):
        assert seconds < 5
        assert http_get(base + "/readyz")[0] == 200
    if PG_URL:
        assert not (tmp_path / "d" / "jati.db").exists()


def test_two_workers_serve_and_stop_on_sigint(tmp_path: Path, database_url: str) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url)
    with serving("--workers", "2", cwd=tmp_path, env=env) as (process, base, _):
        for _ in range(10):
            assert http_get(base + "/healthz")[0] == 200
        assert "jati_http_requests_total" in http_get(base + "/metrics")[1].decode()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_production_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    result = run_jati(
        "serve", cwd=tmp_path, env=clean_env(JATI_ENV="production", JATI_ISSUER="http://x")
    )
    assert result.returncode == 2
    assert "JATI_MASTER_KEY is not set" in result.stderr
    assert "must be an https URL" in result.stderr
    assert "JATI_DATABASE_URL is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "jati-data").exists()


def test_db_upgrade_is_idempotent_and_reports(tmp_path: Path, database_url: str) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url)
    first = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "upgraded" in first.stdout
    second = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert second.returncode == 0 and "already at" in second.stdout
    current = run_jati("db", "current", cwd=tmp_path, env=env)
    assert '"state": "current"' in current.stdout


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_jati(
        "db", "upgrade", cwd=tmp_path, env=clean_env(JATI_DATABASE_URL="mysql://u@h/d")
    )
    assert result.returncode != 0
    assert result.stderr.startswith("jati: error:")
    assert "Traceback" not in result.stderr
    bad_setting = run_jati(
        "db",
        "current",
        cwd=tmp_path,
        env=clean_env(JATI_ENV="staging", JATI_AUDIT_ORIGIN="not valid sekr3t-value"),
    )
    assert bad_setting.returncode == 2 and "Traceback" not in bad_setting.stderr
    assert "JATI_ENV" in bad_setting.stderr and "JATI_AUDIT_ORIGIN" in bad_setting.stderr
    assert "sekr3t-value" not in bad_setting.stderr  # named, never echoed
    usage = run_jati("serve", "--workers", "0", cwd=tmp_path)
    assert usage.returncode == 2 and "--workers" in usage.stderr


def test_generate_master_key_prints_a_usable_key(tmp_path: Path) -> None:
    result = run_jati("secrets", "generate-master-key", cwd=tmp_path)
    key = result.stdout.strip()
    assert result.returncode == 0 and len(key) == 43
    env = clean_env(
        JATI_ENV="production",
        JATI_MASTER_KEY=key,
        JATI_ISSUER="https://id.example.go.id",
        JATI_DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
    )
    assert run_jati("db", "upgrade", cwd=tmp_path, env=env).returncode == 0


_SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture (a "common" syscall)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (uvicorn's workers are children of ``jati serve``)."""
    found = [pid]
    for current in found:
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        found.extend(int(child) for child in children)
    return found


def _socket_inode(local: tuple[str, int], remote: tuple[str, int]) -> int:
    """The inode of the IPv4 TCP socket with this local and remote address (/proc/net/tcp)."""

    def encoded(address: tuple[str, int]) -> str:
        host = socket.inet_aton(address[0])[::-1].hex().upper()  # little-endian on x86/arm
        return f"{host}:{address[1]:04X}"

    want = (encoded(local), encoded(remote))
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == want:
            return int(fields[9])
    raise AssertionError(f"no socket {local} -> {remote} in /proc/net/tcp")


def _served_socket_nodelay(serve_pid: int, local: tuple[str, int], peer: tuple[str, int]) -> int:
    """TCP_NODELAY of the socket a worker of ``serve_pid`` accepted from ``peer``.

    The option lives on the server's own socket, which no client can see, so the worker's file
    descriptor is duplicated into this process with pidfd_getfd(2) and asked directly.
    """
    inode = _socket_inode(local, peer)
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in _descendants(serve_pid):
        fd_dir = Path(f"/proc/{pid}/fd")
        for entry in fd_dir.iterdir():
            try:
                target = os.readlink(entry)
            except FileNotFoundError:
                continue
            if target != f"socket:[{inode}]":
                continue
            pidfd = os.pidfd_open(pid)
            try:
                duplicate = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(entry.name), 0)
                assert duplicate >= 0, os.strerror(ctypes.get_errno())
            finally:
                os.close(pidfd)
            sock = socket.socket(fileno=duplicate)
            try:
                return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                sock.close()
    raise AssertionError("no worker holds the accepted connection")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and uses pidfd_getfd(2)")
def test_two_workers_accept_keep_alive_connections_with_tcp_nodelay(
    tmp_path: Path, database_url: str
) -> None:
    """Every keep-alive response must leave at once, not wait ~40 ms on Nagle's algorithm and
    the client's delayed ACK: whatever uvicorn is installed, an accepted connection of
    ``jati serve --workers 2`` has TCP_NODELAY on (``bench/healthz_workers.py`` measures it)."""
    env = clean_env(JATI_DATABASE_URL=database_url)
    with serving("--workers", "2", cwd=tmp_path, env=env) as (process, base, _):
        port = int(base.rsplit(":", 1)[1])
        seen: list[int] = []
        # Several connections, so that each of the two workers is likely to accept one.
        for _ in range(4):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                for _ in range(2):  # keep-alive: two requests on the same connection
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    assert response.status == 200
                    response.read()
                assert connection.sock is not None
                peer = connection.sock.getsockname()
                seen.append(_served_socket_nodelay(process.pid, ("127.0.0.1", port), peer))
            finally:
                connection.close()
    assert seen and all(value != 0 for value in seen), seen


def test_commands_other_than_serve_never_generate_a_master_key(tmp_path: Path) -> None:
    """A new key would make existing data unreadable and checkpoints unverifiable."""
    result = run_jati("audit", "verify", cwd=tmp_path, env=clean_env())
    assert result.returncode == 2
    assert "no master key" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "jati-data" / "master.key").exists()


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path: Path) -> None:
    """`jati db grants --role jati_app | head -1`: the rest goes unread, quietly."""
    process = subprocess.Popen(
        [*JATI, "db", "grants", "--role", "jati_app"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    err = process.stderr.read()
    assert process.wait(timeout=30) == 141, err
    assert err == ""
