"""``jati serve``: prepare the data directory and database, then run uvicorn.

Client addresses (what the login and client-authentication throttles count per address) are
each connection's TCP peer unless the operator names the reverse proxies to believe
(``--forwarded-allow-ips`` or ``JATI_FORWARDED_ALLOW_IPS``): only a request from one of
them has its ``X-Forwarded-For`` and ``X-Forwarded-Proto`` applied. uvicorn's own default
trusts 127.0.0.1 (or its ``FORWARDED_ALLOW_IPS`` variable), which would let anything on the
host, or any local proxy passing the header through, pick the address it is counted under;
Jati therefore passes ``proxy_headers`` and ``forwarded_allow_ips`` explicitly.

Every keep-alive response must leave at once: asyncio sets ``TCP_NODELAY`` on an accepted
socket only when its listening socket says ``IPPROTO_TCP``; without it each response waits on
Nagle's algorithm and the client's delayed ACK (about 40 ms a request). uvicorn's
multi-worker mode from 0.51 on (the floor in pyproject.toml) hands each worker a listening
socket rebuilt with its real protocol, so accepted connections get ``TCP_NODELAY``; earlier
releases kept ``proto`` 0 and Jati had to re-label the socket. ``tests/http/test_serve.py``
checks the option on the served sockets themselves, whatever uvicorn is installed, and
``bench/healthz_workers.py`` measures the effect.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from identity.keys.signing_keys import SUPPORTED_ALGORITHMS, KeySealer
from identity.service.database import migrate
from identity.service.factories import build_audit_log
from identity.service.logging_setup import UVICORN_LOG_CONFIG
from identity.service.settings import Settings
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore

log = logging.getLogger(__name__)

APP_FACTORY = "identity.service.app:create_app_from_environment"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Trusted proxies (normalised, ``""`` for none); None: ``JATI_FORWARDED_ALLOW_IPS``.
    forwarded_allow_ips: str | None = None


def prepare(settings: Settings, options: ServeOptions) -> Settings:
    """Everything that must happen once, before any worker starts.

    Checks production settings, creates the data directory, loads or generates the master
    key, fills in the default issuer and applies migrations. Returns the settings in force,
    which are also exported as ``JATI_*`` variables for the worker processes.
    """
    settings.check_production()
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    master_key, generated = settings.model_copy(update={"data_dir": data_dir}).load_master_key()
    if generated:
        print(
            f"WARNING: using a GENERATED master key in {data_dir / 'master.key'} "
            "(development only; back it up, set JATI_MASTER_KEY in production).",
            file=sys.stderr,
        )
    issuer = settings.issuer or f"http://{browser_host(options.host)}:{options.port}"
    os.environ["JATI_DATA_DIR"] = str(data_dir)
    os.environ["JATI_ISSUER"] = issuer
    effective = settings.model_copy(update={"data_dir": data_dir, "issuer": issuer})

    database = Database(effective.resolved_database_url, pool_size=1)
    try:
        before = migrate.current_revisions(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.current_revisions(database.engine)
        if before != after:
            log.info("database migrated from %s to %s", sorted(before), sorted(after))
        audit_log, _ = build_audit_log(effective, database, master_key)
        audit_log.initialize()
        SqlKeyStore(database=database, sealer=KeySealer(master_key)).ensure(
            SUPPORTED_ALGORITHMS, now=datetime.now(UTC)
        )
    finally:
        database.dispose()
    return effective


def run(settings: Settings, options: ServeOptions) -> None:
    """Start serving until SIGTERM or Ctrl-C; then stop gracefully."""
    effective = prepare(settings, options)
    if options.workers > 1:
        metrics_dir = effective.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(mode=0o700)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    trusted = trusted_proxies(effective, options)
    config = jati_config(options, trusted)
    base = f"http://{browser_host(options.host)}:{options.port}"
    print(
        f"Jati is serving on {base} with {options.workers} worker(s)\n"
        f"  issuer:    {effective.issuer}\n"
        f"  health:    {base}/healthz   ready: {base}/readyz   metrics: {base}/metrics\n"
        f"  API docs:  {base}/docs\n"
        f"  data dir:  {effective.data_dir}\n"
        f"  proxies:   {trusted or 'none trusted (X-Forwarded-For is ignored)'}\n"
        "Press Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    sock = config.bind_socket()
    server = uvicorn.Server(config)
    exit_cleanly_on_stop()
    if options.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])


def trusted_proxies(settings: Settings, options: ServeOptions) -> str:
    """The proxies whose forwarded headers are believed: the command line's, else the
    setting's; ``""`` for none."""
    if options.forwarded_allow_ips is not None:
        return options.forwarded_allow_ips
    return settings.forwarded_allow_ips or ""


def jati_config(options: ServeOptions, trusted: str = "") -> uvicorn.Config:
    """uvicorn's configuration for Jati (``jati serve``, and ``jati demo`` with one worker and
    no trusted proxy): the app factory, Jati's JSON logs, 10 seconds to finish on a stop."""
    return server_config(
        APP_FACTORY,
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        log_config=UVICORN_LOG_CONFIG,
        graceful_seconds=10,
        trusted=trusted,
    )


def server_config(
    app: str | Callable[..., Any],
    *,
    host: str,
    port: int,
    log_config: dict[str, Any] | None,
    graceful_seconds: int,
    trusted: str = "",
    workers: int = 1,
    factory: bool = False,
) -> uvicorn.Config:
    """A uvicorn server as Jati runs every one: no access log (an app's would show
    ``?code=...&state=...``), no ``Server`` header, and ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` believed only from the ``trusted`` proxies (``""``: none, so each
    request's address is its TCP peer), never uvicorn's default or ``FORWARDED_ALLOW_IPS``."""
    return uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or [],
    )


def exit_cleanly_on_stop() -> None:
    """uvicorn re-raises the stop signal once it has shut down gracefully; a stop asked for
    with SIGTERM or Ctrl-C is then a clean exit (status 0), not a death by signal."""
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _ignore_signal)


def browser_host(host: str) -> str:
    """The host a browser on this machine uses for a server bound to ``host``."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - display only
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _ignore_signal(_signum: int, _frame: object) -> None:
    """Handler left in place after uvicorn's graceful shutdown."""
