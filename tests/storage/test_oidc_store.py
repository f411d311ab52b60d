"""The OIDC store on SQLite and PostgreSQL: sessions by hash with expiry, codes and refresh
tokens single-use even under concurrent use, family revocation, revoked access tokens and
client-assertion replay detection, and purging of what expired."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from audit.entry import (
    Action,
    Actor,
    ActorKind,
    AuditEntry,
    LegalBasis,
    Outcome,
    encode_entry,
)
from audit.merkle.tree_hash import hash_leaf
from audit.storage.tables import AuditQueue
from identity.login.sessions import SessionService, session_id_of
from identity.oidc.authorization_request import StoredRequest
from identity.oidc.codes import AuthorizationCode, ReleasedPurpose, hash_secret, new_code
from identity.oidc.refresh_families import (
    MAX_REFRESH_TOKEN_CHARS,
    RefreshToken,
    Rotation,
    TokenFamily,
    family_named_by,
    new_family_id,
    new_refresh_token,
)
from identity.storage import token_families
from identity.storage.database import Database
from identity.storage.oidc import SqlOidcStore
from tests.conftest import PG_URL, ManualClock

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(database: Database) -> SqlOidcStore:
    return SqlOidcStore(database=database)


def _code(code_hash: str, **overrides: object) -> AuthorizationCode:
    values: dict[str, object] = {
        "code_hash": code_hash,
        "client_id": "dinsos",
        "redirect_uri": "https://dinsos.example.go.id/cb",
        "code_challenge": "c" * 43,
        "nonce": "n",
        "citizen_id": "citizen-1",
        "session_id": "s" * 64,
        "auth_time": NOW,
        "acr": "urn:jati:acr:password",
        "amr": ("pwd",),
        "scopes": ("openid", "profile"),
        "claims": ("name",),
        "purposes": (
            ReleasedPurpose("bansos", LegalBasis.CONSENT, "grant-1"),
            ReleasedPurpose("adminduk", LegalBasis.PUBLIC_TASK),
        ),
        "created_at": NOW,
        "expires_at": NOW + timedelta(seconds=60),
    }
    values.update(overrides)
    return AuthorizationCode(**values)  # type: ignore[arg-type]


def _family(**overrides: object) -> TokenFamily:
    values: dict[str, object] = {
        "id": new_family_id(),
        "client_id": "dinsos",
        "citizen_id": "citizen-1",
        "scopes": ("openid", "profile"),
        "claims": ("name",),
        "purposes": (ReleasedPurpose("bansos", LegalBasis.CONSENT, "grant-1"),),
        "auth_time": NOW,
        "acr": "urn:jati:acr:password",
        "amr": ("pwd", "otp"),
        "created_at": NOW,
    }
    values.update(overrides)
    return TokenFamily(**values)  # type: ignore[arg-type]


def _race(count: int, attempt: Callable[[], bool]) -> list[bool]:
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        outcome = attempt()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# ------------------------------------------------------------------ sessions


def test_sessions_are_stored_by_hash_and_expire(store: SqlOidcStore, database: Database) -> None:
    clock = ManualClock(NOW)
    sessions = SessionService(store=store, clock=clock, lifetime=timedelta(hours=8), secure=False)
    cookie, session = sessions.create("citizen-1", auth_time=NOW, amr=["pwd"], acr="acr")
    assert session.id == session_id_of(cookie) and len(cookie) >= 43
    assert sessions.get(cookie) == session
    with database.read() as s:
        ids = s.execute(text("SELECT id FROM identity_session")).scalars().all()
    assert ids == [session.id] and cookie not in ids
    clock.advance(8 * 3600)
    assert sessions.get(cookie) is None  # expired: never used again
    # for an hour its citizen is known, so that a form posted just after the expiry is kept
    # for them (identity/http/pages/intent.py); then it is gone
    assert sessions.lookup(cookie) == (None, "citizen-1")
    clock.advance(3600)
    assert sessions.lookup(cookie) == (None, None)
    with database.read() as s:
        assert s.execute(text("SELECT count(*) FROM identity_session")).scalar_one() == 0


def test_last_seen_is_written_at_most_once_a_minute(
    store: SqlOidcStore, database: Database
) -> None:
    clock = ManualClock(NOW)
    sessions = SessionService(store=store, clock=clock, secure=True)
    cookie, _ = sessions.create("citizen-1", auth_time=NOW, amr=["pwd"], acr="acr")
    clock.advance(30)
    sessions.get(cookie)
    with store.read() as tx:
        assert tx.get_session(session_id_of(cookie))[1] == NOW  # type: ignore[index]
    clock.advance(45)
    sessions.get(cookie)
    with store.read() as tx:
        assert tx.get_session(session_id_of(cookie))[1] == NOW + timedelta(seconds=75)  # type: ignore[index]


def test_ending_one_session_and_all_of_a_citizen(store: SqlOidcStore) -> None:
    clock = ManualClock(NOW)
    sessions = SessionService(store=store, clock=clock, secure=False)
    first, _ = sessions.create("citizen-1", auth_time=NOW, amr=["pwd"], acr="acr")
    second, _ = sessions.create("citizen-1", auth_time=NOW, amr=["pwd"], acr="acr")
    other, _ = sessions.create("citizen-2", auth_time=NOW, amr=["pwd"], acr="acr")
    sessions.end(first)
    assert sessions.get(first) is None and sessions.get(second) is not None
    assert sessions.end_all_for("citizen-1") == 1
    assert sessions.get(second) is None and sessions.get(other) is not None
    sessions.end("never-issued")
    assert sessions.get(None) is None and sessions.get("x" * 500) is None


@pytest.mark.parametrize("amr", [[], [""], ["pwd"] * 9])
def test_a_session_needs_real_methods(store: SqlOidcStore, amr: list[str]) -> None:
    sessions = SessionService(store=store, clock=ManualClock(NOW), secure=False)
    with pytest.raises(ValueError, match="amr"):
        sessions.create("citizen-1", auth_time=NOW, amr=amr, acr="acr")


# ------------------------------------------------------------------ codes


def test_a_code_round_trips_and_is_used_once(store: SqlOidcStore) -> None:
    _, code_hash = new_code()
    with store.write() as tx:
        tx.add_code(_code(code_hash))
    with store.read() as tx:
        stored = tx.get_code(code_hash)
    assert stored == _code(code_hash)
    assert stored is not None and stored.grant_ids == ("grant-1",)
    with store.write() as tx:
        assert tx.use_code(code_hash, now=NOW, authorization_id="fam-1")
    with store.write() as tx:
        assert not tx.use_code(code_hash, now=NOW, authorization_id="fam-2")
    with store.read() as tx:
        used = tx.get_code(code_hash)
    assert used is not None and used.used_at == NOW and used.authorization_id == "fam-1"


def test_concurrent_exchanges_of_one_code_have_one_winner(store: SqlOidcStore) -> None:
    _, code_hash = new_code()
    with store.write() as tx:
        tx.add_code(_code(code_hash))

    def attempt() -> bool:
        with store.write() as tx:
            return tx.use_code(code_hash, now=NOW, authorization_id=new_family_id())

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]


def test_expired_codes_are_purged(store: SqlOidcStore) -> None:
    _, old = new_code()
    _, fresh = new_code()
    with store.write() as tx:
        tx.add_code(_code(old, expires_at=NOW - timedelta(seconds=1)))
        tx.add_code(_code(fresh))
        assert tx.purge_codes(NOW) == 1
    with store.read() as tx:
        assert tx.get_code(old) is None and tx.get_code(fresh) is not None


# ------------------------------------------------------------------ families and refresh tokens


def _refresh(family: TokenFamily, **overrides: object) -> tuple[str, RefreshToken]:
    value, token_hash = new_refresh_token(family.id)
    values: dict[str, object] = {
        "token_hash": token_hash,
        "family_id": family.id,
        "client_id": family.client_id,
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=14),
    }
    values.update(overrides)
    return value, RefreshToken(**values)  # type: ignore[arg-type]


def test_a_refresh_token_names_its_family_and_nothing_else_does() -> None:
    family_id = new_family_id()
    value, token_hash = new_refresh_token(family_id)
    assert family_named_by(value) == family_id
    assert token_hash == hash_secret(value) and family_id not in token_hash
    assert len(value) <= MAX_REFRESH_TOKEN_CHARS
    legacy = "x" * 43  # a token issued before the family id was part of it
    for other in (legacy, f"{family_id}.short", f"bad id!{'a' * 16}.{'s' * 43}", f".{'s' * 43}"):
        assert family_named_by(other) is None


def test_a_family_and_its_refresh_tokens_round_trip(store: SqlOidcStore) -> None:
    family, token = _stored(store)
    with store.read() as tx:
        assert tx.get_family(family.id) == family
        assert tx.get_refresh_token(token.token_hash) == token
    assert store.family(family.id) == family  # outside a transaction
    assert store.family(new_family_id()) is None
    with store.write() as tx:
        tx.revoke_family(family.id, now=NOW)
        tx.revoke_family(family.id, now=NOW + timedelta(hours=1))  # idempotent
    with store.read() as tx:
        revoked = tx.get_family(family.id)
    assert revoked is not None and revoked.revoked_at == NOW
    assert store.family(family.id) == revoked


def test_concurrent_refreshes_with_one_token_have_one_winner(store: SqlOidcStore) -> None:
    _, token = _stored(store)

    def attempt() -> bool:
        with store.write() as tx:
            return tx.use_refresh_token(token.token_hash, now=NOW)

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]


def _stored(store: SqlOidcStore, **overrides: object) -> tuple[TokenFamily, RefreshToken]:
    family = _family()
    _, token = _refresh(family, **overrides)
    with store.write() as tx:
        tx.add_family(family)
        tx.add_refresh_token(token)
    return family, token


def _issued_entry(family: TokenFamily) -> AuditEntry:
    return AuditEntry(
        time=NOW,
        actor=Actor(ActorKind.RELYING_APP, family.client_id),
        action=Action.TOKEN_ISSUED,
        outcome=Outcome.SUCCESS,
        subject="p" * 43,
        data_items=("token:access", "token:refresh", "name"),
        purpose="bansos",
        legal_basis=LegalBasis.CONSENT,
        consent_id="grant-1",
    )


def _rotate_alone(
    store: SqlOidcStore,
    token: RefreshToken,
    successor_hash: str,
    *,
    entries: list[AuditEntry] | None = None,
    family_id: str | None = None,
    client_id: str | None = None,
    now: datetime = NOW,
) -> bool | None:
    return store.rotate_alone(
        Rotation(
            token_hash=token.token_hash,
            family_id=family_id or token.family_id,
            client_id=client_id or token.client_id,
            successor_hash=successor_hash,
            now=now,
            successor_expires_at=now + timedelta(days=14),
            audit_entries=entries if entries is not None else [_issued_entry(_family())],
        )
    )


def _queued(store: SqlOidcStore) -> list[bytes]:
    with store.read() as tx:
        rows = tx.session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).all()
    return [bytes(row[0]) for row in rows]


def test_a_rotation_alone_uses_the_token_stores_its_successor_and_queues_the_entries(
    store: SqlOidcStore,
) -> None:
    family, token = _stored(store)
    _, successor_hash = new_refresh_token(family.id)
    entries = [_issued_entry(family), _issued_entry(family)]
    assert _rotate_alone(store, token, successor_hash, entries=entries) is True
    with store.read() as tx:
        used = tx.get_refresh_token(token.token_hash)
        successor = tx.get_refresh_token(successor_hash)
    assert used is not None and used.used_at == NOW
    assert successor == RefreshToken(
        token_hash=successor_hash,
        family_id=family.id,
        client_id=family.client_id,
        created_at=NOW,
        expires_at=NOW + timedelta(days=14),
    )
    assert _queued(store) == [encode_entry(e) for e in entries]
    with store.read() as tx:
        columns = tx.session.execute(
            select(
                AuditQueue.leaf_hash, AuditQueue.event_at, AuditQueue.subject,
                AuditQueue.actor_kind, AuditQueue.actor_id, AuditQueue.action,
                AuditQueue.purpose, AuditQueue.queued_at,
            ).order_by(AuditQueue.id).limit(1)
        ).one()  # fmt: skip
    assert tuple(columns) == (
        hash_leaf(encode_entry(entries[0])), NOW, "p" * 43, "relying_app", family.client_id,
        Action.TOKEN_ISSUED.value, "bansos", NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    "case", ["used", "unknown", "expired", "other client", "other family", "revoked family"]
)
def test_a_rotation_alone_that_must_refuse_changes_nothing(store: SqlOidcStore, case: str) -> None:
    family, token = _stored(
        store, **({"expires_at": NOW} if case == "expired" else {})
    )  # expires exactly now: no longer valid (RFC 6749 §6)
    other_family, _ = _stored(store)
    presented, kwargs = token, {}
    if case == "used":
        assert _rotate_alone(store, token, new_refresh_token(family.id)[1]) is True
    elif case == "unknown":
        presented = _refresh(family)[1]
    elif case == "other client":
        kwargs = {"client_id": "another-app"}
    elif case == "other family":
        kwargs = {"family_id": other_family.id}
    elif case == "revoked family":
        with store.write() as tx:
            tx.revoke_family(family.id, now=NOW)
    before = _queued(store)
    with store.read() as tx:
        stored_before = tx.get_refresh_token(token.token_hash)
    _, successor_hash = new_refresh_token(family.id)
    assert (
        _rotate_alone(store, presented, successor_hash, entries=[_issued_entry(family)], **kwargs)
        is False
    )
    with store.read() as tx:
        assert tx.get_refresh_token(successor_hash) is None
        assert tx.get_refresh_token(token.token_hash) == stored_before
    assert _queued(store) == before


def _race_on_one_token(store: SqlOidcStore, rotate: Callable[[RefreshToken, str], bool]) -> None:
    """Eight simultaneous rotations of one token: one winner, one successor stored."""
    family, token = _stored(store)
    successors = iter([new_refresh_token(family.id)[1] for _ in range(8)])
    lock = threading.Lock()

    def attempt() -> bool:
        with lock:
            successor_hash = next(successors)
        return rotate(token, successor_hash)

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]
    with store.read() as tx:
        count = tx.session.execute(
            text("SELECT count(*) FROM identity_refresh_token WHERE family_id = :f"),
            {"f": family.id},
        ).scalar_one()
    assert count == 2  # the token and one successor


def test_concurrent_rotations_alone_of_one_token_have_one_winner(store: SqlOidcStore) -> None:
    _race_on_one_token(
        store,
        lambda token, successor: (
            _rotate_alone(store, token, successor, entries=[_issued_entry(_family())]) is True
        ),
    )
    assert len(_queued(store)) == 1  # the winner's entry only


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's generic plans")
def test_a_rotation_finds_its_token_by_primary_key_however_long_its_family(
    store: SqlOidcStore, database: Database
) -> None:
    """A family that refreshed for weeks keeps every used token until it expires. The
    rotation statement must still find the presented token by its hash, not scan the
    family's tokens: seen as PostgreSQL's generic plan (what a prepared statement ends up
    with), reported by ``auto_explain``."""
    family, token = _stored(store)
    for _ in range(40):
        _, successor_hash = new_refresh_token(family.id)
        assert _rotate_alone(store, token, successor_hash) is True
        token = _refresh(family, token_hash=successor_hash)[1]
    plans: list[str] = []
    with database.engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        driver.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_level = notice",
            "SET client_min_messages = notice",
            "SET plan_cache_mode = force_generic_plan",
        ):
            conn.exec_driver_sql(setting)
        rotation = Rotation(
            token_hash=token.token_hash,
            family_id=family.id,
            client_id=family.client_id,
            successor_hash=new_refresh_token(family.id)[1],
            now=NOW,
            successor_expires_at=NOW + timedelta(days=14),
            audit_entries=[_issued_entry(family)],
        )
        row = token_families._rotate_alone(1).first(conn, token_families._rotation_values(rotation))
        conn.rollback()
    assert row == (1,)
    plan = next(p for p in plans if "identity_refresh_token" in p)
    assert "Index Scan using pk_identity_refresh_token on identity_refresh_token" in plan, plan
    assert "ix_identity_refresh_token_family_id" not in plan, plan


def _rotate_in_transaction(store: SqlOidcStore, token: RefreshToken, successor_hash: str) -> bool:
    """What the token endpoint's rotation transaction does: lock, check unused, use, add."""
    with store.refresh_write() as tx:
        found = tx.lock_refresh_token(token.token_hash)
        if found is None or found[0].used_at is not None:
            return False
        assert tx.use_refresh_token(token.token_hash, now=NOW)
        tx.add_refresh_token(
            RefreshToken(
                token_hash=successor_hash,
                family_id=token.family_id,
                client_id=token.client_id,
                created_at=NOW,
                expires_at=NOW + timedelta(days=14),
            )
        )
        return True


def test_a_rotation_rolled_back_leaves_the_token_unused(store: SqlOidcStore) -> None:
    """The token endpoint refuses inside its transaction (expired, another client's, a
    withdrawn consent...) by raising: nothing it wrote remains."""
    family, token = _stored(store)
    _, successor_hash = new_refresh_token(family.id)
    with pytest.raises(RuntimeError), store.refresh_write() as tx:
        assert tx.lock_refresh_token(token.token_hash) == (token, family)
        assert tx.use_refresh_token(token.token_hash, now=NOW)
        tx.add_refresh_token(_refresh(family)[1])
        raise RuntimeError("refused")
    with store.read() as tx:
        assert tx.get_refresh_token(token.token_hash) == token
        assert tx.get_refresh_token(successor_hash) is None


def test_concurrent_rotation_transactions_of_one_token_have_one_winner(
    store: SqlOidcStore,
) -> None:
    """The lock read makes a concurrent use wait for the commit, then find the token used."""
    _race_on_one_token(
        store, lambda token, successor: _rotate_in_transaction(store, token, successor)
    )


def test_the_lock_read_returns_the_token_and_its_family(store: SqlOidcStore) -> None:
    family, token = _stored(store)
    with store.refresh_write() as tx:
        assert tx.lock_refresh_token(token.token_hash) == (token, family)
        assert tx.lock_refresh_token(_refresh(family)[1].token_hash) is None


def test_expired_refresh_tokens_and_orphan_families_are_purged(store: SqlOidcStore) -> None:
    old_family = _family(created_at=NOW - timedelta(days=20))
    live_family = _family()
    _, old = _refresh(old_family, expires_at=NOW - timedelta(seconds=1))
    _, live = _refresh(live_family)
    with store.write() as tx:
        tx.add_family(old_family)
        tx.add_family(live_family)
        tx.add_refresh_token(old)
        tx.add_refresh_token(live)
    with store.write() as tx:
        assert tx.purge_refresh_tokens(NOW) == 2  # the expired token, then its family
    with store.read() as tx:
        assert tx.get_refresh_token(old.token_hash) is None
        assert tx.get_family(old_family.id) is None
        assert tx.get_family(live_family.id) is not None


# ------------------------------------------------------------------ revocations and replay


def test_revoked_access_tokens_are_remembered_until_they_expire(store: SqlOidcStore) -> None:
    with store.write() as tx:
        tx.revoke_access_token("jti-1", client_id="dinsos", expires_at=NOW + timedelta(minutes=5))
        tx.revoke_access_token("jti-1", client_id="dinsos", expires_at=NOW + timedelta(minutes=5))
    with store.read() as tx:
        assert tx.is_access_token_revoked("jti-1") and not tx.is_access_token_revoked("jti-2")
    with store.write() as tx:
        tx.purge_revocations(NOW + timedelta(minutes=6))
    with store.read() as tx:
        assert not tx.is_access_token_revoked("jti-1")


def test_an_assertion_jti_is_accepted_once_per_client(store: SqlOidcStore) -> None:
    until = NOW + timedelta(minutes=5)
    with store.write() as tx:
        assert tx.remember_assertion("dinsos", "jti-1", expires_at=until)
    with store.write() as tx:
        assert not tx.remember_assertion("dinsos", "jti-1", expires_at=until)
        assert tx.remember_assertion("other", "jti-1", expires_at=until)
    with store.write() as tx:
        tx.purge_revocations(until)
        assert tx.remember_assertion("dinsos", "jti-1", expires_at=until + timedelta(minutes=5))


def test_concurrent_replays_of_one_assertion_have_one_winner(store: SqlOidcStore) -> None:
    def attempt() -> bool:
        with store.write() as tx:
            return tx.remember_assertion("dinsos", "same", expires_at=NOW + timedelta(minutes=5))

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]


def test_an_answered_request_is_recorded_once_without_the_apps_values(
    store: SqlOidcStore, database: Database
) -> None:
    """Issue 17: a sealed request yields one answer; the record keeps no state, nonce or
    login hint, and goes when the request expires."""
    answered = StoredRequest(
        id="r" * 43,
        client_id="dinsos",
        redirect_uri="https://dinsos.example.go.id/cb",
        scopes=("openid",),
        claims=("name",),
        purpose_codes=("bansos",),
        state="the-apps-state",
        nonce="the-apps-nonce",
        code_challenge="c" * 43,
        prompt=(),
        max_age=None,
        login_hint="3171014101900003",
        ui_locales=("id",),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )
    with store.write() as tx:
        assert not tx.is_answered(answered.id)
        assert tx.mark_answered(answered) is True
    with store.write() as tx:
        assert tx.mark_answered(answered) is False
    with store.read() as tx:
        assert tx.is_answered(answered.id)
    with database.read() as session:
        (row,) = session.execute(text("SELECT * FROM identity_authorization_request")).all()
    dump = " ".join(str(v) for v in row)
    assert "the-apps-state" not in dump and "the-apps-nonce" not in dump
    assert "3171014101900003" not in dump
    with store.write() as tx:
        assert tx.purge_requests(NOW + timedelta(minutes=10)) == 1
        assert not tx.is_answered(answered.id)
