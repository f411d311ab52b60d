"""Passkeys on SQLite and PostgreSQL: the credential records, user handles and spent
challenges of :class:`SqlPasskeyStore`, the service over it with the real audit queue (a
cloned-authenticator signal commits its denied entry), and erasure."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audit.entry import Action, Outcome, decode_entry
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from audit.storage.tables import AuditQueue
from identity.errors import ClonedAuthenticator, DuplicatePasskey, LastPasskey, PasskeyReplayed
from identity.login.passkeys import Passkey, Passkeys
from identity.login.sessions import SessionService
from identity.storage.database import Database
from identity.storage.oidc import SqlOidcStore
from identity.storage.passkeys import (
    IdentityPasskey,
    IdentityWebauthnUser,
    PasskeyErasure,
    SqlPasskeyStore,
)
from tests.conftest import ManualClock
from tests.webauthn_authenticator import SoftAuthenticator

ORIGIN = "https://jati.example"
CITIZEN = "c4mq7uhz2kqlxw3tn5vbr6ys2e"
OTHER = "d7xk2pnr4tq5vw6yz3ab8cd9ef"


@pytest.fixture
def store(database: Database) -> SqlPasskeyStore:
    return SqlPasskeyStore(database=database)


@pytest.fixture
def passkeys(store: SqlPasskeyStore, database: Database, clock: ManualClock) -> Passkeys:
    return Passkeys(
        rp_id="jati.example",
        origin=ORIGIN,
        store=store,
        audit=SqlAuditStore(engine=database.engine),
        pseudonymizer=SubjectPseudonymizer(b"p" * 32),
        clock=clock,
    )


def queued(database: Database) -> list[tuple[Action, Outcome]]:
    """The queued audit entries' action and outcome, in order."""
    with database.read() as session:
        rows = session.scalars(select(AuditQueue.entry).order_by(AuditQueue.id))
        entries = [decode_entry(bytes(row)) for row in rows]
    return [(entry.action, entry.outcome) for entry in entries]


def register(
    passkeys: Passkeys, authenticator: SoftAuthenticator, citizen: str = CITIZEN
) -> Passkey:
    options, state = passkeys.registration_options(citizen, user_name="u", display_name="d")
    return passkeys.register(state, authenticator.create(options), name="Ponsel")


def sign_in(passkeys: Passkeys, authenticator: SoftAuthenticator, **get: Any) -> Any:
    options, state = passkeys.authentication_options()
    return passkeys.authenticate(state, authenticator.get(options, **get))


def test_register_and_sign_in_with_the_records_in_the_database(
    passkeys: Passkeys, store: SqlPasskeyStore, database: Database, clock: ManualClock
) -> None:
    authenticator = SoftAuthenticator(ORIGIN, backup_eligible=True)
    passkey = register(passkeys, authenticator)
    with store.read() as tx:
        assert tx.find(passkey.credential_id) == passkey
        assert tx.get(CITIZEN, passkey.id) == passkey
        assert tx.get(OTHER, passkey.id) is None
        handle = tx.user_handle(CITIZEN)
    assert handle is not None and len(handle) == 64
    with database.read() as session:
        row = session.get(IdentityPasskey, passkey.id)
        assert row is not None and json.loads(row.transports) == ["hybrid", "internal"]
        assert row.backup_eligible is True and row.backed_up is False
    clock.advance(30)
    login = sign_in(passkeys, authenticator, bs=True, counter=2**32 - 1)
    assert login.citizen_id == CITIZEN and login.amr == ("swk", "user", "mfa")
    (stored,) = passkeys.list(CITIZEN)
    assert stored.sign_count == 2**32 - 1 and stored.backed_up
    assert stored.last_used_at == clock.now
    assert queued(database) == [(Action.CREATE, Outcome.SUCCESS), (Action.LOGIN, Outcome.SUCCESS)]


def test_a_cloned_signal_commits_its_denied_entry_and_a_replay_writes_nothing(
    passkeys: Passkeys, database: Database
) -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    register(passkeys, authenticator)
    options, state = passkeys.authentication_options()
    response = authenticator.get(options, counter=7)
    passkeys.authenticate(state, response)
    with pytest.raises(PasskeyReplayed):
        passkeys.authenticate(state, response)
    with pytest.raises(ClonedAuthenticator):
        sign_in(passkeys, authenticator, counter=3)
    assert queued(database)[1:] == [(Action.LOGIN, Outcome.SUCCESS), (Action.LOGIN, Outcome.DENIED)]
    assert passkeys.list(CITIZEN)[0].sign_count == 7


def test_a_credential_id_is_registered_once(
    passkeys: Passkeys, store: SqlPasskeyStore, database: Database
) -> None:
    first = register(passkeys, SoftAuthenticator(ORIGIN))
    with store.write() as tx:
        assert not tx.add(replace(first, id="another", citizen_id=OTHER))
    theirs = SoftAuthenticator(ORIGIN)
    options, state = passkeys.registration_options(OTHER, user_name="u", display_name="d")
    with pytest.raises(DuplicatePasskey):
        passkeys.register(state, theirs.create(options, credential_id=first.credential_id))
    assert [p.id for p in passkeys.list(CITIZEN)] == [first.id] and not passkeys.list(OTHER)
    assert len(queued(database)) == 1


def test_user_handles_are_drawn_once_and_unique(
    store: SqlPasskeyStore, database: Database, clock: ManualClock
) -> None:
    with store.write() as tx:
        assert tx.add_user_handle(CITIZEN, b"a" * 64, created_at=clock.now) == b"a" * 64
    with store.write() as tx:  # a second draw (a race lost) gets the first handle
        assert tx.add_user_handle(CITIZEN, b"b" * 64, created_at=clock.now) == b"a" * 64
    with pytest.raises(IntegrityError), store.write() as tx:
        tx.add_user_handle(OTHER, b"a" * 64, created_at=clock.now)
    with store.read() as tx:
        assert tx.user_handle(OTHER) is None


def test_challenges_are_spent_once_and_purged_after_expiry(
    store: SqlPasskeyStore, clock: ManualClock
) -> None:
    later = clock.now + timedelta(minutes=5)
    with store.write() as tx:
        assert tx.spend_challenge("a" * 64, expires_at=clock.now)
        assert tx.spend_challenge("b" * 64, expires_at=later)
        assert not tx.spend_challenge("b" * 64, expires_at=later)
    with store.write() as tx:
        assert not tx.spend_challenge("a" * 64, expires_at=clock.now)
        assert tx.purge_challenges(clock.now) == 1
        assert tx.spend_challenge("a" * 64, expires_at=later)  # forgotten once expired
        assert not tx.spend_challenge("b" * 64, expires_at=later)


def test_rename_and_remove(
    passkeys: Passkeys, store: SqlPasskeyStore, database: Database, clock: ManualClock
) -> None:
    first = register(passkeys, SoftAuthenticator(ORIGIN))
    clock.advance(1)
    second = register(passkeys, SoftAuthenticator(ORIGIN))
    clock.advance(1)
    third = register(passkeys, SoftAuthenticator(ORIGIN))
    register(passkeys, SoftAuthenticator(ORIGIN), OTHER)
    assert [p.id for p in passkeys.list(CITIZEN)] == [first.id, second.id, third.id]
    assert passkeys.rename(CITIZEN, second.id, "Kunci USB").name == "Kunci USB"
    passkeys.remove(CITIZEN, first.id)
    assert [(p.id, p.name) for p in passkeys.list(CITIZEN)] == [
        (second.id, "Kunci USB"),
        (third.id, "Ponsel"),
    ]
    assert queued(database)[-1] == (Action.ERASE, Outcome.SUCCESS)
    with store.write() as tx:  # an operator's reset, through the erasure steps
        assert tx.delete_all(CITIZEN) == 2
    assert not passkeys.is_enabled(CITIZEN) and passkeys.is_enabled(OTHER)


def test_erasure_deletes_the_citizens_passkeys_and_user_handle(
    passkeys: Passkeys, database: Database, clock: ManualClock
) -> None:
    register(passkeys, SoftAuthenticator(ORIGIN))
    register(passkeys, SoftAuthenticator(ORIGIN), OTHER)
    with database.write() as session:
        PasskeyErasure().end_for_erased(session, CITIZEN, now=clock.now)
    with database.read() as session:
        owners = session.scalars(select(IdentityPasskey.citizen_id)).all()
        handles = session.scalars(select(IdentityWebauthnUser.citizen_id)).all()
    assert owners == [OTHER] and handles == [OTHER]


def test_the_same_assertion_sent_twice_at_once_signs_in_once(
    passkeys: Passkeys, database: Database
) -> None:
    authenticator = SoftAuthenticator(ORIGIN, counter_step=0)  # no counter to catch it
    register(passkeys, authenticator)
    options, state = passkeys.authentication_options()
    response = authenticator.get(options)
    start = threading.Barrier(2)

    def attempt() -> str:
        start.wait()
        try:
            passkeys.authenticate(state, response)
        except PasskeyReplayed:
            return "replayed"
        return "signed in"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(lambda _: attempt(), range(2)))
    assert outcomes == ["replayed", "signed in"]
    assert queued(database)[1:] == [(Action.LOGIN, Outcome.SUCCESS)]


def test_two_removals_at_once_never_take_the_last_passkey(
    passkeys: Passkeys, store: SqlPasskeyStore
) -> None:
    # a citizen without a password (keep_one) removes both passkeys from two tabs at once;
    # the first removal holds its transaction open while the second counts: the count is
    # taken under a lock, so the second waits, sees one passkey left, and keeps it
    first = register(passkeys, SoftAuthenticator(ORIGIN))
    second = register(passkeys, SoftAuthenticator(ORIGIN))
    counted = threading.Event()

    def first_tab() -> None:
        with store.write() as tx:
            assert len(tx.of_citizen(CITIZEN, for_update=True)) == 2
            assert tx.delete(CITIZEN, first.id)
            counted.set()
            time.sleep(0.5)  # the second tab counts meanwhile

    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(first_tab)
        assert counted.wait(10)
        with pytest.raises(LastPasskey):
            passkeys.remove(CITIZEN, second.id, keep_one=True)
        done.result()
    assert [p.id for p in passkeys.list(CITIZEN)] == [second.id]


def test_a_sign_in_and_its_session_commit_together_or_not_at_all(
    passkeys: Passkeys, database: Database, clock: ManualClock
) -> None:
    """The page starts the session inside the passkey's transaction (``within``): one commit
    holds the use, its entry, the new session and the end of the browser's old one; a
    session that cannot be stored leaves the challenge unspent and the counter as it was."""
    sessions = SessionService(store=SqlOidcStore(database=database), clock=clock, secure=True)
    authenticator = SoftAuthenticator(ORIGIN)
    register(passkeys, authenticator)
    old_cookie, _old = sessions.create(
        CITIZEN, auth_time=clock.now, amr=["pwd"], acr="urn:jati:acr:password"
    )
    options, state = passkeys.authentication_options()
    response = authenticator.get(options, counter=5)

    def broken(bind: Any, login: Any) -> None:
        sessions.create(login.citizen_id, auth_time=login.auth_time, amr=[], acr=login.acr,
                        replacing=old_cookie, within=bind)  # fmt: skip

    with pytest.raises(ValueError, match="amr"):
        passkeys.authenticate(state, response, within=broken)
    assert passkeys.list(CITIZEN)[0].sign_count == 0
    assert sessions.get(old_cookie) is not None
    assert queued(database) == [(Action.CREATE, Outcome.SUCCESS)]

    opened: list[str] = []

    def open_session(bind: Any, login: Any) -> None:
        cookie, _session = sessions.create(
            login.citizen_id, auth_time=login.auth_time, amr=login.amr, acr=login.acr,
            replacing=old_cookie, within=bind,
        )  # fmt: skip
        opened.append(cookie)

    passkeys.authenticate(state, response, within=open_session)  # the same challenge: unspent
    session = sessions.get(opened[0])
    assert session is not None and session.amr == ("hwk", "user", "mfa")
    assert sessions.get(old_cookie) is None  # the browser's old session ended with it
    assert passkeys.list(CITIZEN)[0].sign_count == 5
    assert queued(database)[1:] == [(Action.LOGIN, Outcome.SUCCESS)]
