"""Passkey figures (issue 18, part 2), each a ratio against a baseline measured in the same
run, rounds of the figure and its baseline interleaved, each rate the median of its rounds:

- **Assertion verification / raw ``cryptography`` ECDSA P-256 verify** (target >= 0.5): what
  Jati does in memory per passkey sign-in (open the ceremony state, parse the
  ``AuthenticationResponseJSON``, verify it against the stored credential:
  :meth:`~identity.login.webauthn.RelyingParty.open`, ``parse_assertion``,
  ``verify_assertion``), against ``public_key.verify(signature, data, ECDSA(SHA256))`` on the
  same signature and signed bytes with the key already loaded. No database.
- **Passkey sign-ins per second / password sign-ins per second** (target >= 20): one real
  ``jati serve --workers 2`` (issuer ``http://localhost:<port>``, the authenticator's origin
  the same), with :data:`CITIZENS` citizens who each have a password hashed with the DEFAULT
  argon2 profile (RFC 9106 low-memory) and an ES256 passkey (registered through the passkey
  service in set-up). :data:`THREADS` client threads sign in as a browser does: ``GET
  /login`` (the CSRF token and its cookie), then either ``POST /login/passkey/options``, a
  signature by the software authenticator (:mod:`tests.webauthn_authenticator`) and ``POST
  /login/passkey``, or ``POST /login`` with NIK and password; each must answer 303 with a
  session cookie. Each sign-in starts with no cookies; each thread keeps one keep-alive
  connection per round (new ones each round) and signs in as its own citizens in turn, so
  that no account is in flight twice and the login throttle's production defaults stand.

The server runs on PostgreSQL when ``JATI_BENCH_DATABASE_URL`` (or
``JATI_TEST_DATABASE_URL``) is set, else on SQLite. The client threads share the machine with
the server (the figure is the server's rate under that load).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from itertools import cycle
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256
from fido2.utils import websafe_decode
from fido2.webauthn import CollectedClientData

from audit.entry import Actor, ActorKind
from bench.audit_fixtures import PG_URL, bench_database
from bench.common import Figure, free_port, jati_server
from identity.citizens.passwords import DEFAULT_PROFILE
from identity.login.webauthn import GET, RelyingParty
from identity.service.factories import (
    build_account_access,
    build_audit_log,
    build_citizen_service,
    utc_now,
)
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.pages_helpers import csrf_of
from tests.webauthn_authenticator import SoftAuthenticator

MASTER_KEY = "q3J8m2cVQ2yG4xYk9zWv0tP7nR5sH1bL6eD3fA8uJ0o"
BIRTHDATE = "1990-01-01"
PASSWORD = "kata-sandi-yang-panjang-sekali"
THREADS = 4
CITIZENS = 8 * THREADS
SESSION_COOKIE = "jati_session"


def _nik(n: int) -> str:
    """A synthetic NIK: DKI Jakarta, a woman born 1990-01-01, serial ``n`` (from 1)."""
    return f"317101410190{n:04d}"


def _rounds(candidates: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each candidate's rate in each of ``rounds`` rounds, the candidates run in turn."""
    rates: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, measure in candidates.items():
            rates[name].append(measure())
    return rates


def _medians(rates: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in rates.items()}


def _loop_rate(call: Callable[[], object], seconds: float) -> float:
    calls = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            call()
        calls += 50
    return calls / elapsed


# ---------------------------------------------------------------- verification


def verification_figure(*, quick: bool = False) -> Figure:
    origin = "http://localhost:8000"
    relying_party = RelyingParty(rp_id="localhost", origin=origin)
    authenticator = SoftAuthenticator(origin=origin)
    now = utc_now()
    options, state = relying_party.creation_options(
        user_handle=os.urandom(64), user_name="Bench", display_name="Bench", exclude=[], now=now
    )
    credential = relying_party.verify_registration(
        relying_party.open(state, "webauthn.create", now), authenticator.create(options)
    )
    options, state = relying_party.request_options(now)
    response = authenticator.get(options)

    def jati() -> None:
        challenge = relying_party.open(state, GET, now)
        assertion = relying_party.parse_assertion(response)
        relying_party.verify_assertion(
            challenge,
            assertion,
            credential_data=credential.credential_data,
            backup_eligible=credential.backup_eligible,
        )

    inner = response["response"]
    signature = websafe_decode(inner["signature"])
    client_data = CollectedClientData(websafe_decode(inner["clientDataJSON"]))
    signed = websafe_decode(inner["authenticatorData"]) + client_data.hash
    private = next(iter(authenticator.credentials.values())).private_key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    public_key = private.public_key()
    algorithm = ec.ECDSA(SHA256())

    def raw() -> None:
        public_key.verify(signature, signed, algorithm)

    jati()  # warm: the credential's parsed key is cached by its bytes, as in a worker
    rounds, seconds = (5, 0.2) if quick else (9, 0.5)
    median = _medians(
        _rounds(
            {"raw": lambda: _loop_rate(raw, seconds), "jati": lambda: _loop_rate(jati, seconds)},
            rounds,
        )
    )
    return Figure(
        "passkey assertion verification (state, parse, checks, ES256) / raw cryptography "
        "ECDSA P-256 verify",
        median["jati"],
        median["raw"],
        "per second",
        target=0.5,
        note=f"{1e6 / median['jati']:.0f} µs against {1e6 / median['raw']:.0f} µs",
    )


# ---------------------------------------------------------------- sign-ins over HTTP


class _Browser:
    """A lean browser: one keep-alive connection and a cookie jar (names only: every cookie
    goes with every request, which the pages tolerate)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("set-cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, text

    def close(self) -> None:
        self.connection.close()


def _signed_in(browser: _Browser, status: int, text: str, how: str) -> None:
    if status != 303 or SESSION_COOKIE not in browser.cookies:
        raise RuntimeError(f"{how} sign-in answered {status}: {text[:300]}")


def passkey_sign_in(browser: _Browser, authenticator: SoftAuthenticator, credential: bytes) -> None:
    browser.cookies.clear()
    _status, page = browser.request("GET", "/login")
    token = csrf_of(page)
    status, options = browser.request("POST", "/login/passkey/options", {"csrf_token": token})
    if status != 200:
        raise RuntimeError(f"passkey options answered {status}: {options[:300]}")
    signed = authenticator.get(json.loads(options), credential_id=credential)
    form = {"csrf_token": token, "credential": json.dumps(signed)}
    status, text = browser.request("POST", "/login/passkey", form)
    _signed_in(browser, status, text, "passkey")


def password_sign_in(browser: _Browser, nik: str) -> None:
    browser.cookies.clear()
    _status, page = browser.request("GET", "/login")
    form = {"csrf_token": csrf_of(page), "nik": nik, "password": PASSWORD}
    status, text = browser.request("POST", "/login", form)
    _signed_in(browser, status, text, "password")


def _enrol(settings: Settings, database: Database, authenticator: SoftAuthenticator) -> None:
    """:data:`CITIZENS` citizens, each with a password (the settings' profile) and a passkey
    held by ``authenticator``, through the services ``jati`` builds."""
    master_key, _ = settings.load_master_key(create=False)
    _, pseudonymizer = build_audit_log(settings, database, master_key)
    citizens = build_citizen_service(settings, database, master_key, pseudonymizer=pseudonymizer)
    passkeys = build_account_access(settings, database, citizens).passkeys
    operator = Actor(kind=ActorKind.SYSTEM, id="bench")
    for n in range(1, CITIZENS + 1):
        citizen_id = citizens.register(
            nik=_nik(n), name=f"Warga {n}", birthdate=date.fromisoformat(BIRTHDATE),
            password=PASSWORD, actor=operator,
        )  # fmt: skip
        options, state = passkeys.registration_options(
            citizen_id, user_name="Akun Jati", display_name="Akun Jati"
        )
        passkeys.register(state, authenticator.create(options), citizen_id=citizen_id)


def _threads(work: Callable[[int], None], seconds: float) -> float:
    """Run ``work(thread)`` in :data:`THREADS` threads for ``seconds``; the rate it ran at."""
    done = [0] * THREADS
    stop = time.monotonic() + seconds
    failures: list[BaseException] = []

    def loop(i: int) -> None:
        try:
            while time.monotonic() < stop:
                work(i)
                done[i] += 1
        except BaseException as error:  # reported once the threads are joined
            failures.append(error)

    start = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sum(done) / (time.perf_counter() - start)


def sign_in_figure(*, quick: bool = False) -> Figure:
    rounds, seconds = (3, 4.0) if quick else (5, 8.0)
    kind = "postgresql" if PG_URL else "sqlite"
    port = free_port()
    issuer = f"http://localhost:{port}"
    with (
        tempfile.TemporaryDirectory(prefix="jati-bench-passkeys-") as tmp,
        bench_database(kind) as db,
    ):
        env = {
            "JATI_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "JATI_MASTER_KEY": MASTER_KEY,
            "JATI_ISSUER": issuer,
            "JATI_PASSWORD_PROFILE": DEFAULT_PROFILE,
            "JATI_DATA_DIR": str(Path(tmp) / "data"),
        }
        settings = Settings(
            database_url=env["JATI_DATABASE_URL"], master_key=MASTER_KEY, issuer=issuer,
            password_profile=DEFAULT_PROFILE, data_dir=Path(env["JATI_DATA_DIR"]),
        )  # fmt: skip
        authenticator = SoftAuthenticator(origin=issuer)
        _enrol(settings, db, authenticator)
        credentials = list(authenticator.credentials)
        # each thread its own citizens: its own authenticator (counters) and its own NIKs
        own = [range(i, CITIZENS, THREADS) for i in range(THREADS)]
        per_thread = [
            SoftAuthenticator(
                origin=issuer,
                credentials={credentials[n]: authenticator.credentials[credentials[n]] for n in o},
            )
            for o in own
        ]
        passkey_turns = [cycle([credentials[n] for n in o]) for o in own]
        password_turns = [cycle([_nik(n + 1) for n in o]) for o in own]
        browsers: list[_Browser] = []

        def passkey(i: int) -> None:
            passkey_sign_in(browsers[i], per_thread[i], next(passkey_turns[i]))

        def password(i: int) -> None:
            password_sign_in(browsers[i], next(password_turns[i]))

        def measure(work: Callable[[int], None]) -> Callable[[], float]:
            def rate() -> float:
                for browser in browsers:
                    browser.close()
                browsers[:] = [_Browser(port) for _ in range(THREADS)]
                return _threads(work, seconds)

            return rate

        with jati_server(2, env, port=port):
            measure(passkey)()  # warm both workers
            measure(password)()
            rates = _rounds({"password": measure(password), "passkey": measure(passkey)}, rounds)
            for browser in browsers:
                browser.close()
    median = _medians(rates)
    per_round = ", ".join(
        f"{k / p:.1f}" for k, p in zip(rates["passkey"], rates["password"], strict=True)
    )
    return Figure(
        f"passkey sign-ins/s on 2 workers, {kind} / password sign-ins/s (argon2 {DEFAULT_PROFILE})",
        median["passkey"],
        median["password"],
        "sign-ins/s",
        target=20,
        note=f"{THREADS} client threads, {CITIZENS} citizens; each round's ratio: {per_round}",
    )


def run(*, quick: bool = False) -> list[Figure]:
    return [verification_figure(quick=quick), sign_in_figure(quick=quick)]
