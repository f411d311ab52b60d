"""Citizens on SQLite and PostgreSQL: sealed at rest, one audited access path, crypto-shredding.

Every test runs on the ``database`` fixture: SQLite, or a fresh PostgreSQL schema when
JATI_TEST_DATABASE_URL is set. The byte-level checks read the SQLite file and its WAL (after a
checkpoint), or on PostgreSQL a `pg_dump --data-only` of the schema and every row of every
table cast to text.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome, decode_entry
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.citizens.records import NewCitizen
from identity.citizens.service import CitizenService
from identity.errors import CitizenErased, DuplicateNik, InvalidCredentials, Throttled
from identity.login.throttle import LoginThrottle, ThrottlePolicy
from identity.storage.citizens import (
    IdentityCitizen,
    IdentityCitizenKey,
    SqlCitizenStore,
    SqlCitizenTransaction,
)
from identity.storage.database import Database
from identity.storage.throttle import SqlThrottleStore
from tests.conftest import ManualClock

MASTER = bytes(range(32))
OFFICIAL = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
PASSWORD = "kata sandi rahasia"
SEED = {
    "nik": "3171015708900001",
    "name": "Siti Rahayu Wulandari",
    "birthdate": date(1990, 8, 17),
    "email": "siti.wulandari@example.id",
    "phone": "+62 812-3456-7890",
    "address": "Jl. Merdeka Barat No. 17, Gambir",
}
#: What must never be found in the database in plain text (the birth date as written).
PLAINTEXTS = [str(v) for v in SEED.values()] + ["1990-08-17", PASSWORD]


def make_service(
    database: Database,
    clock: ManualClock,
    pseudonymizer: SubjectPseudonymizer,
    *,
    audit: Any = None,
    max_failures: int = 5,
) -> CitizenService:
    policy = ThrottlePolicy(
        max_failures=max_failures,
        window=timedelta(minutes=15),
        lockout=timedelta(minutes=1),
        max_lockout=timedelta(minutes=60),
    )
    return CitizenService(
        store=SqlCitizenStore(database=database),
        cipher=FieldCipher(MASTER),
        passwords=PasswordService(profile=TEST_PROFILE),
        clock=clock,
        audit=audit or SqlAuditStore(engine=database.engine),
        pseudonymizer=pseudonymizer,
        throttle=LoginThrottle(
            store=SqlThrottleStore(database=database),
            key=b"t" * 32,
            account=policy,
            address=ThrottlePolicy(50, policy.window, policy.lockout, policy.max_lockout),
        ),
    )


@pytest.fixture
def service(
    database: Database, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> CitizenService:
    return make_service(database, clock, pseudonymizer)


def register(service: CitizenService, **overrides: Any) -> str:
    values: dict[str, Any] = {**SEED, "password": PASSWORD, "actor": OFFICIAL}
    values.update(overrides)
    return service.register(**values)


def read_all(service: CitizenService, citizen_id: str) -> dict[str, str | None]:
    data = service.read_personal_data(
        citizen_id,
        PERSONAL_FIELDS,
        actor=OFFICIAL,
        purpose="population-record-check",
        legal_basis=LegalBasis.PUBLIC_TASK,
    )
    return dict(data.values)


def queued(database: Database) -> list[AuditEntry]:
    with database.read() as session:
        rows = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars()
        return [decode_entry(bytes(row)) for row in rows]


def count(database: Database, table: str) -> int:
    with database.read() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# ---------------------------------------------------------------- what the database holds


def everything_stored(database: Database, *, checkpoint: bool = True) -> tuple[bytes, str]:
    """(raw bytes of the SQLite file and WAL, or b"" on PostgreSQL; every row as text)."""
    raw = b""
    if database.dialect == "sqlite" and checkpoint:
        connection = database.engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    if database.dialect == "sqlite":
        path = Path(database.engine.url.database or "")
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                raw += file.read_bytes()
    rows: list[str] = []
    if database.dialect == "postgresql":
        rows.append(_pg_dump(database))
    with database.read() as session:
        for table in inspect(session.connection()).get_table_names():
            if database.dialect == "postgresql":
                query = f'SELECT t::text FROM "{table}" t'  # every column, bytea as \x hex
                rows.extend(session.execute(text(query)).scalars())
            else:
                for row in session.execute(text(f'SELECT * FROM "{table}"')):
                    rows.extend(v.hex() if isinstance(v, bytes) else str(v) for v in row)
    return raw, "\n".join(rows)


def _pg_dump(database: Database) -> str:
    """``pg_dump --data-only`` of the test's schema: what a backup taken now would hold."""
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "the PostgreSQL tests need pg_dump (apt-get install postgresql-client)"
    with database.read() as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = database.engine.url
    result = subprocess.run(
        [
            pg_dump, "--data-only", f"--schema={schema}",
            "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
            "-U", url.username or "postgres", url.database or "postgres",
        ],
        capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "PGPASSWORD": url.password or ""},
    )  # fmt: skip
    assert "COPY " in result.stdout, "pg_dump returned no data"
    return result.stdout


def assert_absent(
    database: Database, secrets: list[str], blobs: Sequence[bytes] = (), *, checkpoint: bool = True
) -> None:
    raw, rows = everything_stored(database, checkpoint=checkpoint)
    if database.dialect == "sqlite":
        assert raw, "the database file was read"
    for secret in secrets:
        assert secret not in rows
        assert secret.encode() not in raw
    for blob in blobs:
        assert blob.hex() not in rows
        assert blob not in raw


def stored_secrets(database: Database, citizen_id: str) -> list[bytes]:
    """The key material and ciphertexts a citizen's row holds right now."""
    with database.read() as session:
        row = session.get(IdentityCitizen, citizen_id)
        key = session.get(IdentityCitizenKey, citizen_id)
        assert row is not None and key is not None
        blobs = [key.wrapped_key, row.nik_index or b""]
        blobs += [getattr(row, f"sealed_{name}") for name in PERSONAL_FIELDS]
        blobs.append((row.password_hash or "").encode())
        return [b for b in blobs if b]


# ---------------------------------------------------------------- registration and reads


def test_personal_data_is_never_stored_in_plain_text(
    service: CitizenService, database: Database
) -> None:
    citizen_id = register(service)
    read_all(service, citizen_id)
    service.authenticate(str(SEED["nik"]), PASSWORD, address="203.0.113.7")
    assert_absent(database, PLAINTEXTS)


def test_the_data_key_has_its_own_row(service: CitizenService, database: Database) -> None:
    citizen_id = register(service)
    with database.read() as session:
        key = session.get(IdentityCitizenKey, citizen_id)
        assert key is not None and len(key.wrapped_key) == 1 + 12 + 32 + 16


def test_a_read_and_its_audit_entry_commit_together(
    service: CitizenService, database: Database, pseudonymizer: SubjectPseudonymizer
) -> None:
    citizen_id = register(service)
    assert read_all(service, citizen_id)["name"] == SEED["name"]
    create, read = queued(database)
    assert create.action is Action.CREATE
    assert read.action is Action.READ and read.outcome is Outcome.SUCCESS
    assert read.subject == pseudonymizer.pseudonym(citizen_id)
    assert read.actor == OFFICIAL and read.purpose == "population-record-check"
    assert read.legal_basis is LegalBasis.PUBLIC_TASK
    assert read.data_items == tuple(sorted(PERSONAL_FIELDS))


class AppendThenFail:
    """Writes the entry into the transaction, then fails: the write must not survive."""

    def __init__(self, store: SqlAuditStore) -> None:
        self.store = store

    def append(self, bind: Session, entry: AuditEntry, *, queued_at: datetime) -> None:
        self.store.append(bind, entry, queued_at=queued_at)
        raise RuntimeError("audit append failed")


def test_without_its_audit_entry_a_read_returns_nothing(
    database: Database, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> None:
    service = make_service(database, clock, pseudonymizer)
    citizen_id = register(service)
    failing = make_service(
        database, clock, pseudonymizer, audit=AppendThenFail(SqlAuditStore(engine=database.engine))
    )
    result: dict[str, str | None] | None = None
    with pytest.raises(RuntimeError, match="audit append failed"):
        result = read_all(failing, citizen_id)
    assert result is None
    assert [e.action for e in queued(database)] == [Action.CREATE]


def test_a_duplicate_nik_writes_nothing(service: CitizenService, database: Database) -> None:
    register(service)
    before = [count(database, t) for t in ("identity_citizen", "identity_citizen_key")]
    entries = len(queued(database))
    with pytest.raises(DuplicateNik):
        register(service, name="Another Person", email=None)
    assert [count(database, t) for t in ("identity_citizen", "identity_citizen_key")] == before
    assert len(queued(database)) == entries


def test_the_unique_blind_index_catches_a_racing_registration(
    service: CitizenService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(service)
    with database.read() as session:
        taken = session.scalar(select(IdentityCitizen.nik_index))
    assert taken is not None
    with pytest.raises(DuplicateNik), database.write() as session:
        tx = SqlCitizenTransaction(session)
        monkeypatch.setattr(session, "scalar", lambda *_a, **_k: None)  # the check sees nothing
        tx.add(
            NewCitizen(
                id="racer",
                nik_index=taken,
                wrapped_key=b"k" * 61,
                sealed={"nik": b"n", "name": b"n", "birthdate": b"b"},
                password_hash="h",
                created_at=ManualClock().now,
            )
        )
    assert count(database, "identity_citizen") == 1


# ---------------------------------------------------------------- erasure


def test_erasure_leaves_no_key_no_ciphertext_and_no_plaintext(
    service: CitizenService, database: Database, clock: ManualClock
) -> None:
    citizen_id = register(service)
    read_all(service, citizen_id)
    with pytest.raises(InvalidCredentials):  # leaves a login counter keyed by the account
        service.authenticate(str(SEED["nik"]), "wrong password", address="203.0.113.7")
    secrets = stored_secrets(database, citizen_id)
    clock.advance(60)
    tombstone = service.erase(citizen_id, actor=OFFICIAL)
    # As the erasure left the files (it checkpoints the SQLite WAL itself), then once more.
    assert_absent(database, PLAINTEXTS, secrets, checkpoint=False)
    assert_absent(database, PLAINTEXTS, secrets)
    with database.read() as session:
        row = session.get(IdentityCitizen, citizen_id)
        assert row is not None and row.erased_at == tombstone.erased_at == clock()
        assert session.get(IdentityCitizenKey, citizen_id) is None
        assert session.scalar(select(func.count()).select_from(IdentityCitizenKey)) == 0
    assert count(database, "identity_login_throttle") == 1  # the address's, not the account's
    assert queued(database)[-1].action is Action.ERASE


def test_an_erased_citizen_reads_as_erased(service: CitizenService, database: Database) -> None:
    citizen_id = register(service)
    service.erase(citizen_id, actor=OFFICIAL)
    with pytest.raises(CitizenErased, match="has been erased"):
        read_all(service, citizen_id)
    denied = queued(database)[-1]
    assert denied.action is Action.READ and denied.outcome is Outcome.DENIED
    with pytest.raises(InvalidCredentials):
        service.authenticate(str(SEED["nik"]), PASSWORD, address="203.0.113.7")


def test_the_nik_of_an_erased_citizen_can_register_again(service: CitizenService) -> None:
    first = register(service)
    service.erase(first, actor=OFFICIAL)
    second = register(service)
    assert second != first
    assert service.find_by_nik(str(SEED["nik"])) == second
    assert read_all(service, second)["name"] == SEED["name"]


def test_the_tombstone_invariant_is_enforced_by_the_database(
    service: CitizenService, database: Database
) -> None:
    citizen_id = register(service)
    with pytest.raises(Exception, match=r"(?i)check|constraint"), database.write() as session:
        session.execute(
            text("UPDATE identity_citizen SET erased_at = created_at WHERE id = :id"),
            {"id": citizen_id},
        )


# ---------------------------------------------------------------- authentication


def test_a_rehash_is_stored(service: CitizenService, database: Database) -> None:
    from argon2 import PasswordHasher

    citizen_id = register(service)
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(PASSWORD)
    with database.write() as session:
        SqlCitizenTransaction(session).set_password_hash(citizen_id, old)
    service.authenticate(str(SEED["nik"]), PASSWORD, address="203.0.113.7")
    with database.read() as session:
        new = session.scalar(
            select(IdentityCitizen.password_hash).where(IdentityCitizen.id == citizen_id)
        )
    assert new is not None and new != old and new.startswith("$argon2id$")
    assert service.passwords.verify(new, PASSWORD).ok


def test_throttle_rows_hold_neither_the_nik_nor_the_address(
    service: CitizenService, database: Database
) -> None:
    register(service)
    with pytest.raises(InvalidCredentials):
        service.authenticate(str(SEED["nik"]), "wrong password", address="203.0.113.7")
    with database.read() as session:
        index = session.scalar(select(IdentityCitizen.nik_index))
        rows = session.execute(text("SELECT * FROM identity_login_throttle")).all()
    assert index is not None and len(rows) == 2
    for row in rows:
        stored = repr(tuple(row))
        assert "203.0.113.7" not in stored and str(SEED["nik"]) not in stored
        assert index not in bytes(row.key_hash) and len(row.key_hash) == 32


def test_workers_share_the_counters(
    database: Database, database_url: str, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> None:
    other_worker = Database(database_url)
    try:
        first = make_service(database, clock, pseudonymizer)
        second = make_service(other_worker, clock, pseudonymizer)
        register(first)
        for worker in (first, second, first, second, first):
            with pytest.raises(InvalidCredentials):
                worker.authenticate(str(SEED["nik"]), "wrong", address="203.0.113.7")
        with pytest.raises(Throttled):
            second.authenticate(str(SEED["nik"]), PASSWORD, address="203.0.113.7")
    finally:
        other_worker.dispose()


def test_concurrent_guesses_cannot_overshoot_the_limit(
    database: Database, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> None:
    import threading

    service = make_service(database, clock, pseudonymizer)
    register(service)
    verified = 0
    lock = threading.Lock()
    original = service.passwords.verify

    def counting(stored_hash: str | None, password: str) -> Any:
        nonlocal verified
        with lock:
            verified += 1
        return original(stored_hash, password)

    service.passwords.verify = counting  # type: ignore[method-assign]
    outcomes: list[str] = []
    start = threading.Barrier(16)

    def guess(n: int) -> None:
        start.wait()
        try:
            service.authenticate(str(SEED["nik"]), f"guess {n}", address=f"198.51.100.{n}")
        except InvalidCredentials:
            outcomes.append("wrong")
        except Throttled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 16
    assert verified == outcomes.count("wrong") == 5
    assert outcomes.count("throttled") == 11


def test_concurrent_successful_logins_of_one_citizen_never_fail_inside(
    database: Database, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> None:
    # A success clears the account's counter while other logins of the same account are
    # between creating and locking it (PostgreSQL READ COMMITTED): none may crash. (In-flight
    # attempts count until they succeed, so 8 at once may be throttled: that is by design.)
    import threading

    service = make_service(database, clock, pseudonymizer)
    register(service)
    errors: list[BaseException] = []
    succeeded: list[int] = []
    start = threading.Barrier(8)

    def login(n: int) -> None:
        start.wait()
        for _ in range(10):
            try:
                service.authenticate(str(SEED["nik"]), PASSWORD, address=f"198.51.100.{n}")
                succeeded.append(n)
            except Throttled:
                pass
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=login, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert succeeded


def test_store_helpers_cover_every_personal_field() -> None:
    columns = {c.name for c in IdentityCitizen.__table__.columns}
    assert {f"sealed_{name}" for name in PERSONAL_FIELDS} <= columns
    assert not {"nik", "name", "email", "phone", "address", "birthdate"} & columns
