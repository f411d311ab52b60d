"""Shared set-up for the audit benchmarks: a migrated database, a log, realistic entries."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, encode_entry
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.service.database import migrate
from identity.storage.database import Database

PG_URL = os.environ.get("JATI_BENCH_DATABASE_URL") or os.environ.get("JATI_TEST_DATABASE_URL")


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def bench_database(kind: str) -> Iterator[Database]:
    """A fresh migrated database: SQLite in a temp dir, or a throwaway PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jati-bench-") as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db", pool_size=16)
            migrate.upgrade(db.engine)
            _plain_table(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    if not PG_URL:
        raise SystemExit("set JATI_BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL")
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False), pool_size=16)
    try:
        migrate.upgrade(db.engine)
        _plain_table(db)
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _plain_table(db: Database) -> None:
    """The baseline: a table holding the same bytes with an auto-incrementing key."""
    pk = "BIGSERIAL PRIMARY KEY" if db.dialect == "postgresql" else "INTEGER PRIMARY KEY"
    with db.write() as session:
        session.execute(
            text(
                f"CREATE TABLE bench_plain (id {pk}, entry BYTEA NOT NULL)".replace(
                    "BYTEA", "BLOB" if db.dialect == "sqlite" else "BYTEA"
                )
            )
        )


def audit_log(db: Database, *, batch_size: int = 2000) -> AuditLog:
    log = AuditLog(
        store=SqlAuditStore(engine=db.engine),
        signing_key=Ed25519PrivateKey.from_private_bytes(bytes(range(32))),
        clock=now,
        origin="bench.jati/audit",
        batch_size=batch_size,
    )
    log.initialize()
    return log


_PSEUDONYMS = SubjectPseudonymizer(b"b" * 32)


def make_entry(n: int) -> AuditEntry:
    """A typical disclosure entry (about 380 bytes encoded)."""
    return AuditEntry(
        time=now(),
        actor=Actor(kind=ActorKind.RELYING_APP, id=f"app-{n % 50}"),
        action=Action.DISCLOSE,
        subject=_PSEUDONYMS.pseudonym(f"citizen-{n % 100_000}"),
        data_items=("address", "birthdate", "name"),
        purpose=f"purpose-{n % 20}",
        legal_basis=LegalBasis.CONSENT,
        consent_id=f"consent-{n}",
        request_id=f"req-{n:012d}",
    )


def encoded_entries(count: int, start: int = 0) -> list[bytes]:
    return [encode_entry(make_entry(n)) for n in range(start, start + count)]
