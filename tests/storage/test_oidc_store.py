"""The OIDC store on SQLite and PostgreSQL: sessions by hash with expiry, codes and refresh
tokens single-use even under concurrent use, family revocation, revoked access tokens and
client-assertion replay detection, and purging of what expired."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from audit.entry import LegalBasis
from identity.authorization_codes import AuthorizationCode, ReleasedPurpose, new_code
from identity.refresh_tokens import RefreshToken, TokenFamily, new_family_id, new_refresh_token
from identity.sessions import SessionService, session_id_of
from identity.storage.database import Database
from identity.storage.oidc import SqlOidcStore
from tests.conftest import ManualClock

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
    assert sessions.get(cookie) is None  # expired: gone
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
    value, token_hash = new_refresh_token()
    values: dict[str, object] = {
        "token_hash": token_hash,
        "family_id": family.id,
        "client_id": family.client_id,
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=14),
    }
    values.update(overrides)
    return value, RefreshToken(**values)  # type: ignore[arg-type]


def test_a_family_and_its_refresh_tokens_round_trip(store: SqlOidcStore) -> None:
    family = _family()
    _, token = _refresh(family)
    with store.write() as tx:
        tx.add_family(family)
        tx.add_refresh_token(token)
    with store.read() as tx:
        assert tx.get_family(family.id) == family
        assert tx.get_refresh_token(token.token_hash) == token
    with store.write() as tx:
        tx.revoke_family(family.id, now=NOW)
        tx.revoke_family(family.id, now=NOW + timedelta(hours=1))  # idempotent
    with store.read() as tx:
        revoked = tx.get_family(family.id)
    assert revoked is not None and revoked.revoked_at == NOW


def test_concurrent_refreshes_with_one_token_have_one_winner(store: SqlOidcStore) -> None:
    family = _family()
    _, token = _refresh(family)
    with store.write() as tx:
        tx.add_family(family)
        tx.add_refresh_token(token)

    def attempt() -> bool:
        with store.write() as tx:
            return tx.use_refresh_token(token.token_hash, now=NOW)

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]


def _stored(store: SqlOidcStore) -> tuple[TokenFamily, RefreshToken]:
    family = _family()
    _, token = _refresh(family)
    with store.write() as tx:
        tx.add_family(family)
        tx.add_refresh_token(token)
    return family, token


def _rotate(store: SqlOidcStore, token: RefreshToken, successor_hash: str) -> object:
    with store.refresh_write() as tx:
        return tx.rotate_refresh_token(
            token.token_hash,
            successor_hash=successor_hash,
            now=NOW,
            successor_expires_at=NOW + timedelta(days=14),
        )


def test_a_rotation_marks_the_token_used_and_stores_its_successor(store: SqlOidcStore) -> None:
    family, token = _stored(store)
    _, successor_hash = new_refresh_token()
    assert _rotate(store, token, successor_hash) == (token, family)  # as they were
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


def test_rotating_a_used_or_unknown_token_changes_nothing(store: SqlOidcStore) -> None:
    _, token = _stored(store)
    _rotate(store, token, new_refresh_token()[1])
    _, unknown = _refresh(_family())
    for presented in (token, unknown):
        _, successor_hash = new_refresh_token()
        assert _rotate(store, presented, successor_hash) is None
        with store.read() as tx:
            assert tx.get_refresh_token(successor_hash) is None
    with store.read() as tx:
        used = tx.get_refresh_token(token.token_hash)
    assert used is not None and used.used_at == NOW


def test_a_rotation_rolled_back_leaves_the_token_unused(store: SqlOidcStore) -> None:
    """The token endpoint refuses after rotating (expired, another client's, a withdrawn
    consent...) by raising inside the transaction: nothing it wrote remains."""
    family, token = _stored(store)
    _, successor_hash = new_refresh_token()
    with pytest.raises(RuntimeError), store.refresh_write() as tx:
        assert tx.rotate_refresh_token(
            token.token_hash,
            successor_hash=successor_hash,
            now=NOW,
            successor_expires_at=NOW + timedelta(days=14),
        ) == (token, family)
        raise RuntimeError("refused")
    with store.read() as tx:
        assert tx.get_refresh_token(token.token_hash) == token
        assert tx.get_refresh_token(successor_hash) is None


def test_concurrent_rotations_of_one_token_have_one_winner(store: SqlOidcStore) -> None:
    family, token = _stored(store)
    successors = iter([new_refresh_token()[1] for _ in range(8)])
    lock = threading.Lock()

    def attempt() -> bool:
        with lock:
            successor_hash = next(successors)
        return _rotate(store, token, successor_hash) is not None

    assert sorted(_race(8, attempt)) == [False] * 7 + [True]
    with store.read() as tx:
        count = tx.session.execute(
            text("SELECT count(*) FROM identity_refresh_token WHERE family_id = :f"),
            {"f": family.id},
        ).scalar_one()
    assert count == 2  # the token and one successor


def test_the_lock_read_returns_the_token_and_its_family(store: SqlOidcStore) -> None:
    family, token = _stored(store)
    with store.refresh_write() as tx:
        assert tx.lock_refresh_token(token.token_hash) == (token, family)
        assert tx.lock_refresh_token(new_refresh_token()[1]) is None


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
