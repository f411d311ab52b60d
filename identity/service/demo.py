"""``jati demo``: Jati with a demo citizen and an example relying app, for development only.

On the data directory ``jati serve`` uses (``./jati-data/`` with zero configuration), and
prepared the same way (:func:`identity.service.server.prepare`: data dir, master key, migrations,
signing keys, audit log), it creates what a developer needs to watch one sign-in end to
end, then serves Jati and, on a second port, the example app of ``examples/relying_app/``:

- a **relying app** (authorization code flow, PKCE, ``client_secret_basic``, scopes
  ``openid profile email``) whose redirect URI is the example's ``/callback``;
- its **purpose** on consent (UU PDP Art. 20(2)(a)) covering the claims it asks for, and a
  published **notice** with the seven Art. 21 items in Bahasa Indonesia and English and a
  DPO contact (Art. 53);
- a **citizen** with a valid NIK (a woman born on 6 August 1993 in Kota Semarang: day
  46 = 6 + 40) and a password, both printed.

Idempotent: each step looks for what it would create and keeps it, so a second run changes
nothing and prints the same credentials. The app's ``client_id`` names the example's origin
(``jati-demo-8001`` for ``http://127.0.0.1:8001``), so an example on another port gets its
own app instead of an app with a redirect URI that no longer fits.

**The client secret is derived, not stored.** ``client_secret = base64url(HKDF-SHA-256(master
key, "jati/demo/client-secret/v1/<client_id>"))`` (:mod:`identity.keys.derived_keys`), and the
app is registered with it (``ClientRegistry`` keeps only its argon2id hash, as for any app).
Every run derives the same secret from the same master key, so nothing secret is added to
the data directory and nothing has to stay in sync with the database: the database and the
master key remain Jati's only state, as they are for the audit and pairwise keys. The
alternatives were worse: a secret file in the data dir (mode 0600) is one more secret that
can drift from the database (a reset database with an old file, or the reverse); registering
again on every run (or rotating the hash) is not idempotent and leaves stale apps, grants
and audit actors behind.

Danger: the demo citizen's password is printed and public, and so is the client secret.
``jati demo`` therefore refuses ``JATI_ENV=production``, and a ``--host`` a browser would not
reach as loopback (``0.0.0.0`` is accepted, for a container: it is reached as 127.0.0.1).
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import uvicorn

from audit.entry import Actor, ActorKind, LegalBasis
from consent.notices import DpoContact, NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose
from identity.errors import IdentityError
from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import CLIENT_SECRET_KEY, derive_key
from identity.service.server import (
    ServeOptions,
    browser_host,
    exit_cleanly_on_stop,
    jati_config,
    prepare,
    server_config,
)
from identity.service.settings import Settings

__all__ = [
    "DEMO_APP_NAME",
    "DEMO_BIRTHDATE",
    "DEMO_EMAIL",
    "DEMO_NAME",
    "DEMO_NIK",
    "DEMO_PASSWORD",
    "DEMO_SCOPE",
    "DemoOptions",
    "DemoRefused",
    "DemoSetup",
    "demo_client_id",
    "demo_client_secret",
    "run",
    "set_up",
]

DEMO_NIK = "3374014608930001"
DEMO_NAME = "Sekar Ayu Wulandari"
DEMO_BIRTHDATE = date(1993, 8, 6)
DEMO_EMAIL = "sekar.wulandari@contoh.example"
DEMO_PASSWORD = "sandi-demo-jati"  # noqa: S105 - public on purpose: a development demo
DEMO_APP_NAME = "Layanan Contoh (demo)"
DEMO_SCOPE = "openid profile email"
DEMO_PURPOSE = "layanan-contoh"
DEMO_ACTOR = Actor(kind=ActorKind.SYSTEM, id="jati-demo")
EXAMPLE_APP = Path(__file__).resolve().parents[2] / "examples" / "relying_app" / "app.py"
#: How a browser reaches the example (a loopback host) -> what the client id says of it.
_ORIGIN_LABELS = {"127.0.0.1": "", "localhost": "localhost-", "[::1]": "ipv6-"}
#: Art. 21(1) a-g, in both languages.
_NOTICE_ITEMS = {
    "legality": ("Persetujuan Anda (UU PDP Pasal 20 ayat (2) huruf a).",
                 "Your consent (UU PDP Art. 20(2)(a))."),
    "purposes": ("Menampilkan data Anda di Layanan Contoh, sebuah aplikasi demo.",
                 "Showing your data in Layanan Contoh, a demo app."),
    "data_types": ("Nama, tanggal lahir dan alamat email: data pribadi umum.",
                   "Name, birth date and email address: general personal data."),
    "retention": ("Disimpan di memori aplikasi selama sesi saja, paling lama 30 hari.",
                  "Kept in the app's memory for the session only, at most 30 days."),
    "details_collected": ("Hanya klaim yang Anda setujui, dari Jati, saat Anda masuk.",
                          "Only the claims you agree to, from Jati, when you sign in."),
    "processing_period": ("Selama Anda masuk; berakhir saat Anda keluar atau menarik "
                          "persetujuan.", "While you are signed in; it ends when you sign "
                          "out or withdraw your consent."),
    "rights": ("Anda dapat menarik persetujuan kapan saja di halaman akun Jati dan melihat "
               "siapa yang menggunakan data Anda.", "You can withdraw your consent at any "
               "time on your Jati account page and see who used your data."),
}  # fmt: skip


class DemoRefused(IdentityError):
    """``jati demo`` will not run here (production, a host other than loopback, a busy
    port, no example app); the message says why and what to do."""

    code = "demo_refused"


@dataclass(frozen=True, slots=True)
class DemoOptions(ServeOptions):
    """Jati's address as for ``jati serve`` (one worker, and no proxy trusted whatever
    ``forwarded_allow_ips`` says), and the example app's port."""

    app_port: int = 8001
    setup_only: bool = False


@dataclass(frozen=True, slots=True)
class DemoSetup:
    """What the demo created or found, and the URLs to print."""

    issuer: str
    example_url: str
    redirect_uri: str
    client_id: str
    client_secret: str = field(repr=False)
    citizen_id: str = field(repr=False)

    def lines(self, data_dir: Path) -> list[str]:
        rows = [
            ("example app", f"{self.example_url}   (Masuk dengan Jati)"),
            ("Jati", self.issuer),
            ("who used my data", f"{self.issuer}/account#access-log"),
            ("NIK", DEMO_NIK),
            ("password", DEMO_PASSWORD),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            ("redirect_uri", self.redirect_uri),
            ("data dir", str(data_dir)),
        ]
        return [
            "Jati demo (development only: the demo password and secret are public)",
            *(f"  {name:<17} {value}" for name, value in rows),
        ]


def demo_client_id(host: str, app_port: int) -> str:
    """The demo app's id for an example at ``http://<browser host>:<app_port>``."""
    label = _ORIGIN_LABELS.get(browser_host(host))
    if label is None:
        raise DemoRefused(
            "jati demo serves this machine only: give --host 127.0.0.1, ::1, localhost or "
            "0.0.0.0 (the example's http redirect URI must be on loopback, RFC 8252 §8.3)"
        )
    return f"jati-demo-{label}{app_port}"


def demo_client_secret(master_key: bytes, client_id: str) -> str:
    """The demo app's secret: derived from the master key, the same on every run."""
    raw = derive_key(master_key, CLIENT_SECRET_KEY + client_id.encode())
    return b64url_encode(raw)


def demo_notice() -> NoticeContent:
    return NoticeContent(
        controller="Layanan Contoh (aplikasi demo Jati)",
        items={name: LocalizedText(id_, en) for name, (id_, en) in _NOTICE_ITEMS.items()},
        dpo=DpoContact(name="Pejabat Pelindungan Data (demo)", email="ppd@contoh.example"),
    )


def demo_purpose(client_id: str) -> Purpose:
    return Purpose(
        app_id=client_id,
        code=DEMO_PURPOSE,
        description=LocalizedText(
            "Menampilkan nama, tanggal lahir dan email Anda di Layanan Contoh",
            "Show your name, birth date and email in Layanan Contoh",
        ),
        legal_basis=LegalBasis.CONSENT,
        data_items=tuple(DataItem.parse(item) for item in ("name", "birthdate", "email")),
        retention_days=30,
    )


def refuse_production(settings: Settings) -> None:
    if settings.is_production:
        raise DemoRefused(
            "jati demo is for development only (it creates a citizen whose password is "
            "public): unset JATI_ENV=production"
        )


# ---------------------------------------------------------------- the demo's data


def set_up(settings: Settings, options: DemoOptions) -> DemoSetup:
    """Create (or find) the demo app, its purpose and notice, and the demo citizen.

    ``settings`` are those :func:`identity.service.server.prepare` returned (data dir, issuer and
    schema ready). Idempotent: what exists is kept as it is.
    """
    from audit.storage.store import SqlAuditStore
    from identity.citizens.passwords import PasswordService
    from identity.oidc.client_metadata import new_relying_app, validate_client_secret
    from identity.service.factories import build_audit_log, build_citizen_service, build_consent
    from identity.storage.clients import SqlClientStore
    from identity.storage.database import Database

    refuse_production(settings)
    client_id = demo_client_id(options.host, options.app_port)
    example_url = f"http://{browser_host(options.host)}:{options.app_port}"
    redirect_uri = f"{example_url}/callback"
    master_key, _ = settings.load_master_key(create=False)
    client_secret = demo_client_secret(master_key, client_id)
    passwords = PasswordService(profile=settings.password_profile, production=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        clients = SqlClientStore(database=database)
        if clients.get(client_id) is None:
            # ClientRegistry.register draws a random client_id; the demo needs a known one,
            # so it validates and stores the app as register does, with its derived secret.
            app = new_relying_app(
                client_id=client_id,
                created_at=datetime.now(UTC),
                name=DEMO_APP_NAME,
                scope=DEMO_SCOPE,
                redirect_uris=[redirect_uri],
                purposes=[f"{DEMO_PURPOSE}:{LegalBasis.CONSENT.value}"],
            )
            secret_hash = passwords.hash(validate_client_secret(client_secret))
            clients.add(app, secret_hash=secret_hash)
        _, pseudonymizer = build_audit_log(settings, database, master_key)
        audit = SqlAuditStore(engine=database.engine)
        ledger, _ = build_consent(settings, database, audit, pseudonymizer)
        if all(p.code != DEMO_PURPOSE for p in ledger.purposes(client_id)):
            ledger.register_purpose(demo_purpose(client_id))
        ledger.publish_notice(client_id, demo_notice())  # the same text: nothing changes
        citizens = build_citizen_service(
            settings, database, master_key, pseudonymizer=pseudonymizer, passwords=passwords
        )
        citizen_id = citizens.find_by_nik(DEMO_NIK) or citizens.register(
            nik=DEMO_NIK,
            name=DEMO_NAME,
            birthdate=DEMO_BIRTHDATE,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            actor=DEMO_ACTOR,
        )
    finally:
        database.dispose()
    return DemoSetup(
        issuer=settings.effective_issuer,
        example_url=example_url,
        redirect_uri=redirect_uri,
        client_id=client_id,
        client_secret=client_secret,
        citizen_id=citizen_id,
    )


# ---------------------------------------------------------------- serving both


def run(settings: Settings, options: DemoOptions) -> None:
    """Prepare as ``jati serve`` does, set the demo up, print it, then serve Jati and the
    example app until SIGTERM or Ctrl-C."""
    refuse_production(settings)
    demo_client_id(options.host, options.app_port)  # refuse a bad --host before anything
    if options.port == options.app_port:
        raise DemoRefused("--port and --app-port must differ")
    effective = prepare(settings, options)
    demo = set_up(effective, options)
    print("\n".join(demo.lines(effective.data_dir)), flush=True)
    if not options.setup_only:
        serve(options, demo)


def serve(options: DemoOptions, demo: DemoSetup) -> None:
    """Jati in the main thread, as ``jati serve`` with one worker; the example app in a
    second uvicorn server on a thread beside it. Both sockets are bound first, so a busy
    port is one clear error before anything runs; a stop signal ends Jati's server, which
    then stops the example's."""
    example_app = load_example_app()(
        issuer=demo.issuer,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        redirect_uri=demo.redirect_uri,
    )
    # No proxy is trusted (jati_config's and server_config's default), so each request's
    # address is its TCP peer and no X-Forwarded-For can choose the address the throttles
    # count (SECURITY.md T11).
    jati = uvicorn.Server(jati_config(options))
    example = uvicorn.Server(
        server_config(
            example_app,
            host=options.host,
            port=options.app_port,
            log_config=None,
            graceful_seconds=5,
        )
    )
    jati_socket = _listen(jati.config)
    example_socket = _listen(example.config)
    print(
        f"Jati is serving on {demo.issuer}, the example app on {demo.example_url}\n"
        "Press Ctrl-C to stop both.",
        file=sys.stderr,
        flush=True,
    )
    thread = threading.Thread(
        target=example.run, kwargs={"sockets": [example_socket]}, name="example-app", daemon=True
    )
    exit_cleanly_on_stop()  # as jati serve
    thread.start()
    try:
        jati.run(sockets=[jati_socket])
    finally:
        example.should_exit = True
        thread.join(timeout=15)
        for sock in (jati_socket, example_socket):
            sock.close()


def load_example_app() -> Callable[..., Any]:
    """``create_app`` of ``examples/relying_app/app.py``, loaded from the source tree (the
    example is not part of the installed package: it is code to read and copy)."""
    if not EXAMPLE_APP.is_file():
        raise DemoRefused(f"no example app at {EXAMPLE_APP}: jati demo runs from a checkout")
    spec = importlib.util.spec_from_file_location("jati_example_relying_app", EXAMPLE_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    create_app: Callable[..., Any] = module.create_app
    return create_app


def _listen(config: uvicorn.Config) -> socket.socket:
    """The server's listening socket, or one line saying why it cannot listen.

    Made with ``IPPROTO_TCP`` (not 0, as ``socket.create_server`` does): asyncio sets
    ``TCP_NODELAY`` on accepted connections only then (see :mod:`identity.service.server`).
    """
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if config.host == "::":  # also reached as 127.0.0.1 (browser_host)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((config.host, config.port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        where = f"{browser_host(config.host)}:{config.port}"
        raise DemoRefused(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock
