"""``jati serve`` and the rest of the CLI, as an operator runs them (real processes)."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import pytest
import uvicorn

from identity.server import _NoDelayConfig
from tests.conftest import PG_URL
from tests.helpers import clean_env, http_get, run_jati, serving

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


def _nodelay_of_accepted_connection(listener: socket.socket) -> int:
    nodelay: list[int] = []

    async def scenario() -> None:
        def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if nodelay:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())
    assert nodelay, "no connection accepted"
    return nodelay[0]


def test_worker_sockets_get_tcp_nodelay() -> None:
    """The multi-worker listening socket must make asyncio set TCP_NODELAY on connections
    (uvicorn leaves proto=0, so asyncio skips it and each response waits ~40 ms)."""
    config = _NoDelayConfig("identity.app:create_app_from_environment", host="127.0.0.1", port=0)
    listener = config.bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted_connection(listener) != 0


def test_plain_uvicorn_socket_misses_tcp_nodelay() -> None:
    # The regression guarded above, reproduced: a socket bound as uvicorn binds it.
    config = uvicorn.Config("identity.app:create_app_from_environment", host="127.0.0.1", port=0)
    listener = config.bind_socket()
    assert listener.proto == 0
    assert _nodelay_of_accepted_connection(listener) == 0


def test_commands_other_than_serve_never_generate_a_master_key(tmp_path: Path) -> None:
    """A new key would make existing data unreadable and checkpoints unverifiable."""
    result = run_jati("audit", "verify", cwd=tmp_path, env=clean_env())
    assert result.returncode == 2
    assert "no master key" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "jati-data" / "master.key").exists()
