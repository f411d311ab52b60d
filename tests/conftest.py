"""Shared fixtures: a fresh, migrated database per test, on SQLite or on PostgreSQL.

Set ``JATI_TEST_DATABASE_URL=postgresql+psycopg://...`` to run every database test on
PostgreSQL: each test gets its own schema (dropped afterwards). When the variable is set and
the server cannot be reached, the run fails at start; it never skips.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.service.database import migrate
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.personal_data import LogWatch, ServiceLines

PG_URL = os.environ.get("JATI_TEST_DATABASE_URL", "").strip()
TEST_MASTER_KEY = "q3J8m2cVQ2yG4xYk9zWv0tP7nR5sH1bL6eD3fA8uJ0o"


def pytest_configure(config: pytest.Config) -> None:
    if not PG_URL:
        return
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        raise pytest.UsageError(
            f"JATI_TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {exc}"
        ) from exc


LOG_WATCH = LogWatch()

#: Distinct RSA keys a test may create before one comes round again (a test database holds
#: one active and one next RS256 key, plus one per rotation).
RSA_KEY_POOL_SIZE = 8


@pytest.fixture(autouse=True, scope="session")
def _rsa_keys_made_once() -> Iterator[None]:
    """RS256 signing keys (identity/keys/signing_keys.py) are real 3072-bit keys, but each costs
    0.1 to 1 s of CPU to generate and most tests create two: the run draws them from a pool
    filled on demand by the real generator, each test in turn getting consecutive, distinct
    keys. ``jati`` run as a process generates its own."""
    from identity.keys import signing_keys

    generate = signing_keys._generate_rsa
    pool: list[Any] = []
    drawn = [0]
    lock = threading.Lock()

    def from_pool() -> Any:
        with lock:
            index = drawn[0] % RSA_KEY_POOL_SIZE
            drawn[0] += 1
            if index == len(pool):
                pool.append(generate())
            return pool[index]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signing_keys, "_generate_rsa", from_pool)
        yield


def pytest_sessionstart(session: pytest.Session) -> None:
    """Watch every log line of the run for seeded personal data (tests/personal_data.py)."""
    root = logging.getLogger()
    root.addHandler(LOG_WATCH)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(LOG_WATCH)
    if LOG_WATCH.leaks:
        print(f"\nFAILED: {len(LOG_WATCH.leaks)} log line(s) carry seeded personal data:")
        for line in LOG_WATCH.leaks[:20]:
            print("  " + line[:300])
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def service_lines() -> Iterator[ServiceLines]:
    """The service's log records as written, before any redaction (tests/personal_data.py):
    installed first on the root logger, at DEBUG, for the test."""
    root = logging.getLogger()
    handler = ServiceLines()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.handlers.insert(0, handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def pytest_report_header(config: pytest.Config) -> str:
    return f"jati database: {'postgresql' if PG_URL else 'sqlite'}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database that only this test uses."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'jati.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    db = Database(database_url)
    migrate.upgrade(db.engine)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def application_role(
    database: Database, grants: Callable[[str, str], Iterable[str]]
) -> Iterator[tuple[str, str]]:
    """PostgreSQL: a new role without login, given ``grants(role, schema)`` on the test's
    schema, as ``jati db grants`` gives the service's role; yields (role, schema) and drops
    the role afterwards."""
    role = f"jati_test_app_{secrets.token_hex(4)}"
    with database.write() as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
        session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        for statement in grants(role, schema):
            session.execute(text(statement))
    try:
        yield role, schema
    finally:
        with database.write() as session:
            session.execute(text(f"DROP OWNED BY {role}"))
            session.execute(text(f"DROP ROLE {role}"))


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Settings for a test: its own data dir and database, a fixed master key."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "master_key": TEST_MASTER_KEY,
            "issuer": "http://testserver",
            "password_profile": "test-only-cheapest",
        }
        values.update(overrides)
        return Settings(**values)

    return factory


# ---------------------------------------------------------------- audit log


class ManualClock:
    """A clock the test moves by hand (DESIGN.md §1: time is injected)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


TEST_LOG_ORIGIN = "jati.test/audit"
TEST_LOG_SEED = bytes(range(32))


def keyed_log(store: SqlAuditStore, clock: Callable[[], datetime], **options: Any) -> AuditLog:
    """An audit log on ``store`` under the tests' origin, signed with the tests' key (a log
    that ``audit_log`` wrote to, seen by another sequencer); ``options`` as AuditLog takes."""
    return AuditLog(
        store=store,
        signing_key=Ed25519PrivateKey.from_private_bytes(TEST_LOG_SEED),
        clock=clock,
        origin=TEST_LOG_ORIGIN,
        **options,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def audit_store(database: Database) -> SqlAuditStore:
    return SqlAuditStore(engine=database.engine)


@pytest.fixture
def audit_log(audit_store: SqlAuditStore, clock: ManualClock) -> AuditLog:
    log = keyed_log(audit_store, clock)
    log.initialize()
    return log


@pytest.fixture
def pseudonymizer() -> SubjectPseudonymizer:
    return SubjectPseudonymizer(b"p" * 32)


@pytest.fixture
def make_entry(
    clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> Callable[..., AuditEntry]:
    """Entries with sensible defaults; override any field by keyword."""
    counter = iter(range(10**9))

    def factory(**overrides: Any) -> AuditEntry:
        n = next(counter)
        values: dict[str, Any] = {
            "time": clock(),
            "actor": Actor(kind=ActorKind.RELYING_APP, id=f"app-{n % 3}"),
            "action": Action.DISCLOSE,
            "subject": pseudonymizer.pseudonym(f"citizen-{n % 5}"),
            "data_items": ("address", "name"),
            "purpose": "social-aid",
            "legal_basis": LegalBasis.CONSENT,
            "consent_id": f"consent-{n}",
            "request_id": f"req-{n}",
        }
        values.update(overrides)
        return AuditEntry(**values)

    return factory


def append_entries(
    database: Database, store: SqlAuditStore, entries: list[AuditEntry], clock: ManualClock
) -> None:
    """Append each entry in its own committed transaction, as writers do."""
    for entry in entries:
        with database.write() as session:
            store.append(session, entry, queued_at=clock())


@pytest.fixture
def add_entries(
    database: Database,
    audit_store: SqlAuditStore,
    make_entry: Callable[..., AuditEntry],
    clock: ManualClock,
) -> Callable[[int], list[AuditEntry]]:
    """``add_entries(n)``: n new entries (``make_entry``) appended to the log's queue with
    :func:`append_entries`; returns them."""

    def add(count: int) -> list[AuditEntry]:
        entries = [make_entry() for _ in range(count)]
        append_entries(database, audit_store, entries, clock)
        return entries

    return add


# ---------------------------------------------------------------- consent ledger


@pytest.fixture
def world(
    database: Database,
    clock: ManualClock,
    audit_store: SqlAuditStore,
    pseudonymizer: SubjectPseudonymizer,
) -> Any:
    """A consent ledger with an app, its purposes (consent and public task) and a notice
    (tests/consent_helpers.py)."""
    from consent.gate import LocalGenerations
    from consent.ledger import ConsentLedger
    from consent.storage.ledger import SqlLedgerStore
    from tests.consent_helpers import consent_world

    generations = LocalGenerations()
    ledger = ConsentLedger(
        store=SqlLedgerStore(database=database),
        clock=clock,
        audit=audit_store,
        pseudonymizer=pseudonymizer,
        notifier=generations,
    )
    return consent_world(ledger, generations)
