"""``/authorize`` under a flood of wrong client secrets / ``/authorize`` unloaded (issue 17,
defect 2, target <= 2): bad secrets at the token endpoint must not starve other routes.

The attack is the issue's: 16 keep-alive connections, each sending ``POST /token`` with the
real client id and a random Basic secret as soon as the previous answer arrives, bounded in
count (:data:`ATTACK_REQUESTS`) and time (:data:`ATTACK_SECONDS`), on loopback only.
Unthrottled, each such request cost an argon2id verification on the threads every route
shares; ``/authorize`` went from 7 ms to about 1,000 ms (median). Now the address is locked
after 20 failures (429, no hash, the answer held 0.5 s so that a caller retrying at once
cannot turn refusals into a flood of cheap requests), and hashes run on a bounded pool of
their own at a lower CPU priority.

``/authorize`` (a valid request: its pending request is stored, 303 to the login page) is
timed from one more connection, one request at a time: first unloaded, then for as long as
the attack lasts, from its first request; the figure is the ratio of the medians. The
attack's answers are counted too (401: a hash was computed; 429: throttled; 503: the hashing
pool was full) with the hashes per second it forced.

The server is ``jati serve --workers 2`` with the default argon2 profile (the real cost),
on PostgreSQL when ``JATI_BENCH_DATABASE_URL`` (or ``JATI_TEST_DATABASE_URL``) is set, else
on SQLite. Client and server share the machine's cores, as in every Jati benchmark: the
attacker's own CPU use weighs on the figure too.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.audit_fixtures import PG_URL, bench_database
from bench.common import Figure, jati_server
from identity.citizens.passwords import DEFAULT_PROFILE

MASTER_KEY = "q3J8m2cVQ2yG4xYk9zWv0tP7nR5sH1bL6eD3fA8uJ0o"
REDIRECT = "http://127.0.0.1:9/cb"
CONNECTIONS = 16
ATTACK_REQUESTS = 200_000
ATTACK_SECONDS = 20.0
UNLOADED_REQUESTS = 200


def _jati(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "identity.service.cli", *args],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"jati {args[0]} failed: {result.stderr}")
    return result.stdout


def _authorize_path(client_id: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid", "state": secrets.token_hex(8), "nonce": secrets.token_hex(8),
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256",
    }  # fmt: skip
    return "/authorize?" + urlencode(query)


def _authorize_times(
    base: str, client_id: str, *, count: int, until: float, attack: Attack | None = None
) -> list[float]:
    """Seconds of each ``/authorize``, one at a time on one keep-alive connection, until
    ``count`` were timed, the monotonic clock passes ``until`` or ``attack`` is over."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    times: list[float] = []
    try:
        while len(times) < count and time.monotonic() < until:
            if attack is not None and attack.over.is_set():
                break
            path = _authorize_path(client_id)
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            if response.status != 303:
                raise RuntimeError(f"/authorize answered {response.status}")
    finally:
        connection.close()
    return times


class Attack:
    """:data:`CONNECTIONS` threads sending wrong secrets back to back (see the docstring)."""

    def __init__(self, base: str, client_id: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.client_id = client_id
        self.answers: Counter[int] = Counter()
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._connection) for _ in range(CONNECTIONS)]
        self._running = CONNECTIONS
        self.over = threading.Event()  # every connection has sent its last request
        self.started = self.ended = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _next(self) -> bool:
        with self._lock:
            if self.sent >= ATTACK_REQUESTS or self._stop.is_set():
                return False
            self.sent += 1
            return True

    def _connection(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        body = urlencode({"grant_type": "refresh_token", "refresh_token": "x"})
        try:
            while self._next():
                raw = f"{self.client_id}:{secrets.token_urlsafe(32)}".encode()
                headers = {
                    "Authorization": "Basic " + base64.b64encode(raw).decode(),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                try:
                    connection.request("POST", "/token", body, headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    status = 0  # the connection failed; a new one is opened
                with self._lock:
                    self.answers[status] += 1
        finally:
            connection.close()
            with self._lock:
                self._running -= 1
                if not self._running:
                    self.ended = time.monotonic()
                    self.over.set()


def run(*, quick: bool = False) -> list[Figure]:
    attack_seconds = ATTACK_SECONDS / 2 if quick else ATTACK_SECONDS
    kind = "postgresql" if PG_URL else "sqlite"
    with (
        tempfile.TemporaryDirectory(prefix="jati-bench-flood-") as tmp,
        bench_database(kind) as db,
    ):
        env_extra = {
            "JATI_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "JATI_MASTER_KEY": MASTER_KEY,
            "JATI_PASSWORD_PROFILE": DEFAULT_PROFILE,
            "JATI_DATA_DIR": str(Path(tmp) / "data"),
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("JATI_")} | env_extra
        app = ["--name", "Bench", "--redirect-uri", REDIRECT, "--scope", "openid"]
        client_id = json.loads(_jati(env, "client", "add", *app, "--json"))["client_id"]
        with jati_server(2, env=env_extra) as base:
            _authorize_times(base, client_id, count=20, until=time.monotonic() + 10)  # warm-up
            unloaded = _authorize_times(
                base, client_id, count=UNLOADED_REQUESTS, until=time.monotonic() + 30
            )
            attack = Attack(base, client_id)
            attack.start()
            try:
                loaded = _authorize_times(
                    base,
                    client_id,
                    count=10**9,
                    until=attack.started + attack_seconds,
                    attack=attack,
                )
            finally:
                attack.stop()
    before, during = statistics.median(unloaded), statistics.median(loaded)
    seconds = attack.ended - attack.started
    answers = ", ".join(f"{status or 'error'}: {n}" for status, n in sorted(attack.answers.items()))
    hashes = attack.answers[401]
    return [
        Figure(
            f"/authorize p50 under {CONNECTIONS} connections of wrong client secrets / unloaded,"
            f" 2 workers, {kind}",
            during * 1000,
            before * 1000,
            "ms",
            target=2.0,
            higher_is_better=False,
            note=(
                f"{len(loaded)} timed during {seconds:.1f} s of attack, {len(unloaded)} unloaded;"
                f" p90 {_p90(loaded) * 1000:.1f} / {_p90(unloaded) * 1000:.1f} ms; attack sent"
                f" {sum(attack.answers.values())} ({answers}); {hashes / seconds:.1f} hashes/s"
                " forced"
            ),
        )
    ]


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) >= 10 else max(values)
