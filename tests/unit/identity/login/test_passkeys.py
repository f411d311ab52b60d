"""Passkeys (WebAuthn Level 3) without a database: registration and sign-in with a software
authenticator, and each attack the relying party must refuse (wrong origin, RP ID or
challenge, no user verification, unknown credential, another user handle, a bad signature,
a counter going backwards, a replayed assertion, a changed BE flag, a duplicate credential)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fido2.utils import websafe_decode, websafe_encode

from audit.entry import Action, ActorKind, AuditEntry, LegalBasis, Outcome
from audit.pseudonym import SubjectPseudonymizer
from identity.errors import (
    ClonedAuthenticator,
    Conflict,
    DuplicatePasskey,
    InvalidInput,
    InvalidPasskeyName,
    InvalidPasskeyResponse,
    NotFound,
    PasskeyCeremonyExpired,
    PasskeyNotFound,
    PasskeyRefused,
    PasskeyReplayed,
    TooManyPasskeys,
    Unauthorized,
)
from identity.login.passkeys import MAX_PASSKEYS, Passkey, Passkeys, passkey_name
from identity.oidc.tokens import ACR_MULTI_FACTOR
from tests.conftest import ManualClock
from tests.webauthn_authenticator import SoftAuthenticator

RP_ID = "jati.example"
ORIGIN = "https://jati.example"
CITIZEN = "c4mq7uhz2kqlxw3tn5vbr6ys2e"
OTHER = "d7xk2pnr4tq5vw6yz3ab8cd9ef"
PSEUDONYMS = SubjectPseudonymizer(b"p" * 32)


# ---------------------------------------------------------------- an in-memory store


@dataclass
class Tables:
    passkeys: dict[str, Passkey] = field(default_factory=dict)
    handles: dict[str, bytes] = field(default_factory=dict)
    challenges: dict[str, datetime] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)


class MemoryPasskeyTransaction:
    """Works on a copy of the tables; the store keeps the copy only if no error escaped."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    @property
    def bind(self) -> MemoryPasskeyTransaction:
        return self

    def user_handle(self, citizen_id: str) -> bytes | None:
        return self.tables.handles.get(citizen_id)

    def add_user_handle(self, citizen_id: str, handle: bytes, *, created_at: datetime) -> bytes:
        return self.tables.handles.setdefault(citizen_id, handle)

    def find(self, credential_id: bytes, *, for_update: bool = False) -> Passkey | None:
        found = (p for p in self.tables.passkeys.values() if p.credential_id == credential_id)
        return next(found, None)

    def get(self, citizen_id: str, passkey_id: str, *, for_update: bool = False) -> Passkey | None:
        found = self.tables.passkeys.get(passkey_id)
        return found if found is not None and found.citizen_id == citizen_id else None

    def of_citizen(self, citizen_id: str, *, for_update: bool = False) -> list[Passkey]:
        mine = [p for p in self.tables.passkeys.values() if p.citizen_id == citizen_id]
        return sorted(mine, key=lambda p: (p.created_at, p.id))

    def add(self, passkey: Passkey) -> bool:
        if self.find(passkey.credential_id) is not None:
            return False
        self.tables.passkeys[passkey.id] = passkey
        return True

    def save(self, passkey: Passkey) -> None:
        self.tables.passkeys[passkey.id] = passkey

    def delete(self, citizen_id: str, passkey_id: str) -> bool:
        if self.get(citizen_id, passkey_id) is None:
            return False
        del self.tables.passkeys[passkey_id]
        return True

    def delete_all(self, citizen_id: str) -> int:
        mine = [p.id for p in self.of_citizen(citizen_id)]
        for passkey_id in mine:
            del self.tables.passkeys[passkey_id]
        return len(mine)

    def spend_challenge(self, digest: str, *, expires_at: datetime) -> bool:
        return self.tables.challenges.setdefault(digest, expires_at) is expires_at

    def purge_challenges(self, now: datetime) -> int:
        expired = [d for d, at in self.tables.challenges.items() if at <= now]
        for digest in expired:
            del self.tables.challenges[digest]
        return len(expired)


class MemoryPasskeyStore:
    def __init__(self) -> None:
        self.tables = Tables()

    @contextmanager
    def write(self) -> Iterator[MemoryPasskeyTransaction]:
        tx = MemoryPasskeyTransaction(copy.deepcopy(self.tables))
        yield tx  # an exception leaves self.tables as it was: a rollback
        self.tables = tx.tables

    @contextmanager
    def read(self) -> Iterator[MemoryPasskeyTransaction]:
        yield MemoryPasskeyTransaction(copy.deepcopy(self.tables))


class MemoryAudit:
    def append(self, bind: Any, entry: AuditEntry, *, queued_at: datetime) -> None:
        bind.tables.audit.append(entry)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def store() -> MemoryPasskeyStore:
    return MemoryPasskeyStore()


@pytest.fixture
def passkeys(store: MemoryPasskeyStore, clock: ManualClock) -> Passkeys:
    return Passkeys(
        rp_id=RP_ID,
        origin=ORIGIN,
        store=store,
        audit=MemoryAudit(),
        pseudonymizer=PSEUDONYMS,
        clock=clock,
    )


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN)


def register(
    passkeys: Passkeys,
    authenticator: SoftAuthenticator,
    citizen_id: str = CITIZEN,
    *,
    name: str | None = None,
    **create: Any,
) -> Passkey:
    options, state = passkeys.registration_options(
        citizen_id, user_name="Siti R.", display_name="Siti Rahayu"
    )
    return passkeys.register(state, authenticator.create(options, **create), name=name)


def assertion(
    passkeys: Passkeys, authenticator: SoftAuthenticator, **get: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    options, state = passkeys.authentication_options()
    return state, authenticator.get(options, **get)


def refused_reason(error: pytest.ExceptionInfo[PasskeyRefused]) -> str:
    return error.value.reason


# ---------------------------------------------------------------- the happy paths


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256"])
def test_register_then_sign_in(
    passkeys: Passkeys, store: MemoryPasskeyStore, clock: ManualClock, alg: str
) -> None:
    authenticator = SoftAuthenticator(ORIGIN, alg=alg)
    passkey = register(passkeys, authenticator, name="  Ponsel Siti  ")
    assert passkey.citizen_id == CITIZEN
    assert passkey.name == "Ponsel Siti"
    assert passkey.sign_count == 0 and passkey.last_used_at is None
    assert passkey.transports == ("hybrid", "internal")
    assert passkey.aaguid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    clock.advance(60)
    login = passkeys.authenticate(*assertion(passkeys, authenticator))
    assert login.citizen_id == CITIZEN and login.passkey_id == passkey.id
    assert login.amr == ("hwk", "user", "mfa")
    assert login.acr == ACR_MULTI_FACTOR
    assert login.auth_time == clock.now
    (stored,) = passkeys.list(CITIZEN)
    assert stored.sign_count == 1 and stored.last_used_at == clock.now
    actions = [(e.action, e.outcome, e.data_items) for e in store.tables.audit]
    assert actions == [
        (Action.CREATE, Outcome.SUCCESS, ("passkey",)),
        (Action.LOGIN, Outcome.SUCCESS, ("passkey",)),
    ]
    for entry in store.tables.audit:
        assert entry.subject == PSEUDONYMS.pseudonym(CITIZEN)
        assert entry.purpose == "account-security"
        assert entry.legal_basis is LegalBasis.PUBLIC_TASK
        assert entry.actor.kind is ActorKind.CITIZEN


def test_a_synced_passkey_without_counter_signs_in_again_and_again(
    passkeys: Passkeys, store: MemoryPasskeyStore
) -> None:
    synced = SoftAuthenticator(ORIGIN, counter_step=0, backup_eligible=True, backed_up=True)
    register(passkeys, synced)
    for _ in range(3):
        login = passkeys.authenticate(*assertion(passkeys, synced))
        assert login.amr == ("swk", "user", "mfa") and login.backed_up
    assert passkeys.list(CITIZEN)[0].sign_count == 0


def test_registration_options(passkeys: Passkeys, authenticator: SoftAuthenticator) -> None:
    options, state = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    assert options["rp"] == {"name": "Jati", "id": RP_ID}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert not options.get("excludeCredentials")
    handle = websafe_decode(options["user"]["id"])
    assert len(handle) == 64 and CITIZEN.encode() not in handle
    assert state["citizen_id"] == CITIZEN and state["ceremony"] == "webauthn.create"
    assert state["challenge"] == options["challenge"]
    again, _ = passkeys.registration_options(OTHER, user_name="u", display_name="d")
    assert websafe_decode(again["user"]["id"]) != handle
    same, _ = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    assert same["user"]["id"] == options["user"]["id"]  # stable per citizen
    assert same["challenge"] != options["challenge"]


def test_exclude_credentials_lists_the_citizens_passkeys(
    passkeys: Passkeys, authenticator: SoftAuthenticator
) -> None:
    first = register(passkeys, authenticator)
    second = register(passkeys, SoftAuthenticator(ORIGIN), name="Kunci USB", transports=("usb",))
    register(passkeys, SoftAuthenticator(ORIGIN), OTHER)
    options, _ = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    excluded = {(e["id"], tuple(e["transports"])) for e in options["excludeCredentials"]}
    assert excluded == {
        (websafe_encode(first.credential_id), ("hybrid", "internal")),
        (websafe_encode(second.credential_id), ("usb",)),
    }
    with pytest.raises(LookupError):  # the authenticator itself refuses a second one
        authenticator.create(options)


def test_authentication_options_are_discoverable_with_user_verification(
    passkeys: Passkeys, clock: ManualClock
) -> None:
    options, state = passkeys.authentication_options()
    assert options["rpId"] == RP_ID
    assert options["userVerification"] == "required"
    assert "allowCredentials" not in options
    assert len(websafe_decode(options["challenge"])) == 32
    assert state["ceremony"] == "webauthn.get" and "citizen_id" not in state
    assert state["expires_at"] == int((clock.now + timedelta(minutes=5)).timestamp())


# ---------------------------------------------------------------- refused registrations


#: What an attacker may change in either ceremony, and the check that refuses it.
CEREMONY_ATTACKS = [
    ({"origin": "https://jati.example.evil"}, "origin"),
    ({"origin": "http://jati.example"}, "origin"),
    ({"rp_id": "evil.example"}, "rp_id"),
    ({"challenge": b"\x01" * 32}, "challenge"),
    ({"type": "payment.get"}, "type"),
    ({"uv": False}, "user_verification"),
    ({"up": False}, "user_presence"),
    ({"cross_origin": True}, "cross_origin"),
    ({"client_data_extra": {"topOrigin": "https://evil.example"}}, "cross_origin"),
    ({"be": False, "bs": True}, "backup_state"),
]


@pytest.mark.parametrize(
    ("create", "reason"),
    [
        *CEREMONY_ATTACKS,
        ({"type": "webauthn.get"}, "type"),
        ({"credential_id": b"\x07" * 1024}, "credential_id"),
    ],
)
def test_a_registration_failing_a_check_is_refused(
    passkeys: Passkeys,
    store: MemoryPasskeyStore,
    authenticator: SoftAuthenticator,
    create: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(PasskeyRefused) as refused:
        register(passkeys, authenticator, **create)
    assert refused_reason(refused) == reason
    assert isinstance(refused.value, Unauthorized)
    assert str(refused.value) == "the passkey could not be verified"
    assert store.tables.passkeys == {} and store.tables.audit == []


@pytest.mark.parametrize(
    ("alg", "bits", "reason"), [("ES384", 0, "algorithm"), ("RS256", 1024, "public_key")]
)
def test_a_key_not_offered_or_too_weak_is_refused(
    passkeys: Passkeys, alg: str, bits: int, reason: str
) -> None:
    with pytest.raises(PasskeyRefused) as refused:
        register(passkeys, SoftAuthenticator(ORIGIN, alg=alg, rsa_bits=bits or 2048))
    assert refused_reason(refused) == reason


def test_a_credential_id_registered_already_is_refused_for_anyone(
    passkeys: Passkeys, store: MemoryPasskeyStore
) -> None:
    register(passkeys, SoftAuthenticator(ORIGIN), credential_id=b"same-credential-id")
    for citizen in (CITIZEN, OTHER):
        with pytest.raises(DuplicatePasskey) as duplicate:
            register(
                passkeys, SoftAuthenticator(ORIGIN), citizen, credential_id=b"same-credential-id"
            )
        assert isinstance(duplicate.value, Conflict)
    assert len(store.tables.passkeys) == 1
    assert [e.action for e in store.tables.audit] == [Action.CREATE]


def test_a_registration_state_is_for_one_response_one_citizen_and_five_minutes(
    passkeys: Passkeys, authenticator: SoftAuthenticator, clock: ManualClock
) -> None:
    options, state = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    response = authenticator.create(options)
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.register(state, response, citizen_id=OTHER)
    assert refused_reason(refused) == "citizen"
    with pytest.raises(PasskeyCeremonyExpired):
        passkeys.register({**state, "ceremony": "webauthn.get"}, response)
    clock.advance(301)
    with pytest.raises(PasskeyCeremonyExpired):
        passkeys.register(state, response)
    clock.advance(-301)
    passkeys.register(state, response, citizen_id=CITIZEN)
    with pytest.raises(PasskeyReplayed):
        passkeys.register(state, response)


def test_a_raw_id_other_than_the_attested_credential_id_is_refused(
    passkeys: Passkeys, authenticator: SoftAuthenticator
) -> None:
    options, state = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    response = authenticator.create(options)
    other = websafe_encode(b"another credential id")
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.register(state, {**response, "id": other, "rawId": other})
    assert refused_reason(refused) == "credential_id"


def test_too_many_passkeys(passkeys: Passkeys, store: MemoryPasskeyStore) -> None:
    for _ in range(MAX_PASSKEYS):
        register(passkeys, SoftAuthenticator(ORIGIN))
    with pytest.raises(TooManyPasskeys):
        register(passkeys, SoftAuthenticator(ORIGIN))


# ---------------------------------------------------------------- refused sign-ins


@pytest.mark.parametrize(
    ("get", "reason"),
    [
        *CEREMONY_ATTACKS,
        ({"type": "webauthn.create"}, "type"),
        ({"signature": b"\x30\x06\x02\x01\x01\x02\x01\x01"}, "signature"),
        ({"user_handle": b"\x00" * 64}, "user_handle"),
        ({"user_handle": None}, "user_handle"),
        ({"be": True}, "backup_eligibility"),
    ],
)
def test_a_sign_in_failing_a_check_is_refused(
    passkeys: Passkeys,
    store: MemoryPasskeyStore,
    authenticator: SoftAuthenticator,
    get: dict[str, Any],
    reason: str,
) -> None:
    register(passkeys, authenticator)
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate(*assertion(passkeys, authenticator, **get))
    assert refused_reason(refused) == reason
    assert passkeys.list(CITIZEN)[0].last_used_at is None
    assert [e.action for e in store.tables.audit] == [Action.CREATE]


def test_a_signature_by_another_key_is_refused(passkeys: Passkeys) -> None:
    mine, thief = SoftAuthenticator(ORIGIN), SoftAuthenticator(ORIGIN)
    passkey = register(passkeys, mine)
    forged = thief.credentials[register(passkeys, thief, OTHER).credential_id]
    mine.credentials[passkey.credential_id].private_key = forged.private_key
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate(*assertion(passkeys, mine))
    assert refused_reason(refused) == "signature"


def test_an_unknown_credential_is_refused(passkeys: Passkeys) -> None:
    stranger = SoftAuthenticator(ORIGIN)
    options, _ = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    stranger.create(options)  # made, never registered
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate(*assertion(passkeys, stranger))
    assert refused_reason(refused) == "unknown_credential"


def test_another_citizens_user_handle_is_refused(passkeys: Passkeys) -> None:
    mine, theirs = SoftAuthenticator(ORIGIN), SoftAuthenticator(ORIGIN)
    register(passkeys, mine)
    register(passkeys, theirs, OTHER)
    their_handle = next(iter(theirs.credentials.values())).user_handle
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate(*assertion(passkeys, mine, user_handle=their_handle))
    assert refused_reason(refused) == "user_handle"


def test_a_counter_going_backwards_is_refused_and_audited(
    passkeys: Passkeys, store: MemoryPasskeyStore, authenticator: SoftAuthenticator
) -> None:
    register(passkeys, authenticator)
    passkeys.authenticate(*assertion(passkeys, authenticator, counter=5))
    for counter in (5, 4, 0):
        with pytest.raises(ClonedAuthenticator) as cloned:
            passkeys.authenticate(*assertion(passkeys, authenticator, counter=counter))
        assert isinstance(cloned.value, PasskeyRefused) and cloned.value.reason == "counter"
    assert passkeys.list(CITIZEN)[0].sign_count == 5  # the stored count is left as it was
    denied = [e for e in store.tables.audit if e.outcome is Outcome.DENIED]
    assert len(denied) == 3
    assert {(e.action, e.data_items) for e in denied} == {(Action.LOGIN, ("passkey",))}
    login = passkeys.authenticate(*assertion(passkeys, authenticator, counter=6))
    assert login.citizen_id == CITIZEN


def test_a_counter_that_appears_after_zeros_must_keep_rising(
    passkeys: Passkeys, authenticator: SoftAuthenticator
) -> None:
    register(passkeys, authenticator)
    passkeys.authenticate(*assertion(passkeys, authenticator, counter=0))  # 0 and 0: no counter
    passkeys.authenticate(*assertion(passkeys, authenticator, counter=3))
    with pytest.raises(ClonedAuthenticator):
        passkeys.authenticate(*assertion(passkeys, authenticator, counter=0))


@pytest.mark.parametrize("counter_step", [0, 1])
def test_a_replayed_assertion_is_refused(
    passkeys: Passkeys, store: MemoryPasskeyStore, counter_step: int
) -> None:
    authenticator = SoftAuthenticator(ORIGIN, counter_step=counter_step)
    register(passkeys, authenticator)
    state, response = assertion(passkeys, authenticator)
    passkeys.authenticate(state, response)
    with pytest.raises(PasskeyReplayed):
        passkeys.authenticate(state, response)
    assert [e.outcome for e in store.tables.audit].count(Outcome.DENIED) == 0


def test_a_state_cannot_relax_user_verification_or_outlive_its_expiry(
    passkeys: Passkeys, authenticator: SoftAuthenticator, clock: ManualClock
) -> None:
    register(passkeys, authenticator)
    state, response = assertion(passkeys, authenticator, uv=False)
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate({**state, "user_verification": "discouraged"}, response)
    assert refused_reason(refused) == "user_verification"
    state, response = assertion(passkeys, authenticator)
    for bad in (
        {**state, "expires_at": state["expires_at"] + 3600},
        {**state, "expires_at": str(state["expires_at"])},
        {**state, "challenge": "!!"},
        {**state, "challenge": websafe_encode(b"short")},
        {**state, "v": 2},
        "not a state",
    ):
        with pytest.raises(PasskeyCeremonyExpired):
            passkeys.authenticate(bad, response)  # type: ignore[arg-type]
    clock.advance(300)
    with pytest.raises(PasskeyCeremonyExpired):
        passkeys.authenticate(state, response)


def test_backup_state_may_change_and_is_stored(passkeys: Passkeys) -> None:
    synced = SoftAuthenticator(ORIGIN, backup_eligible=True, backed_up=False)
    register(passkeys, synced)
    login = passkeys.authenticate(*assertion(passkeys, synced, bs=True))
    assert login.backed_up and passkeys.list(CITIZEN)[0].backed_up
    with pytest.raises(PasskeyRefused) as refused:  # BE never changes (§6.1.3)
        passkeys.authenticate(*assertion(passkeys, synced, be=False, bs=False))
    assert refused_reason(refused) == "backup_eligibility"


def _mutations(response: dict[str, Any]) -> Iterator[Any]:
    inner = response["response"]
    yield "not an object"
    yield {}
    yield {**response, "rawId": "!!!"}
    yield {**response, "id": websafe_encode(b"another id")}
    for key, value in inner.items():
        if key == "transports":  # hints, not checked
            continue
        yield {**response, "response": {**inner, key: value[:-7]}}
        yield {**response, "response": {**inner, key: 17}}
        yield {**response, "response": {k: v for k, v in inner.items() if k != key}}
    yield {**response, "response": {**inner, "clientDataJSON": websafe_encode(b"{]")}}
    if "authenticatorData" in inner:
        yield {**response, "response": {**inner, "authenticatorData": websafe_encode(bytes(37))}}


def test_malformed_responses_raise_typed_errors_only(
    passkeys: Passkeys, authenticator: SoftAuthenticator
) -> None:
    options, state = passkeys.registration_options(CITIZEN, user_name="u", display_name="d")
    created = authenticator.create(options)
    for bad in _mutations(created):
        with pytest.raises((InvalidPasskeyResponse, PasskeyRefused)):
            passkeys.register(state, bad)
    passkeys.register(state, created)
    get_state, asserted = assertion(passkeys, authenticator)
    for bad in _mutations(asserted):
        with pytest.raises((InvalidPasskeyResponse, PasskeyRefused)):
            passkeys.authenticate(get_state, bad)
    assert isinstance(InvalidPasskeyResponse(), InvalidInput)


# ---------------------------------------------------------------- the account page


def test_names(passkeys: Passkeys, authenticator: SoftAuthenticator) -> None:
    assert passkey_name(None) == passkey_name("   ") == "Passkey"
    assert passkey_name(" Laptop kantor ") == "Laptop kantor"
    assert passkey_name("x" * 64) == "x" * 64
    for bad in ("x" * 65, "a\nb", "tab\there", "zero\u200bwidth"):
        with pytest.raises(InvalidPasskeyName):
            passkey_name(bad)
    passkey = register(passkeys, authenticator)
    assert passkey.name == "Passkey"
    renamed = passkeys.rename(CITIZEN, passkey.id, "Ponsel")
    assert renamed.name == "Ponsel" and passkeys.list(CITIZEN)[0].name == "Ponsel"
    with pytest.raises(PasskeyNotFound):
        passkeys.rename(OTHER, passkey.id, "Milik orang lain")


def test_remove_and_the_removed_passkey_no_longer_signs_in(
    passkeys: Passkeys,
    store: MemoryPasskeyStore,
    authenticator: SoftAuthenticator,
    clock: ManualClock,
) -> None:
    first = register(passkeys, authenticator)
    clock.advance(1)
    second = register(passkeys, SoftAuthenticator(ORIGIN))
    assert [p.id for p in passkeys.list(CITIZEN)] == [first.id, second.id]
    with pytest.raises(PasskeyNotFound) as missing:
        passkeys.remove(OTHER, first.id)  # not theirs
    assert isinstance(missing.value, NotFound)
    passkeys.remove(CITIZEN, first.id)
    assert [p.id for p in passkeys.list(CITIZEN)] == [second.id]
    assert store.tables.audit[-1].action is Action.ERASE
    assert store.tables.audit[-1].data_items == ("passkey",)
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.authenticate(*assertion(passkeys, authenticator))
    assert refused_reason(refused) == "unknown_credential"
    with pytest.raises(PasskeyNotFound):
        passkeys.remove(CITIZEN, first.id)


def test_is_enabled_follows_the_citizens_passkeys(
    passkeys: Passkeys, store: MemoryPasskeyStore
) -> None:
    assert not passkeys.is_enabled(CITIZEN)
    register(passkeys, SoftAuthenticator(ORIGIN))
    register(passkeys, SoftAuthenticator(ORIGIN))
    register(passkeys, SoftAuthenticator(ORIGIN), OTHER)
    assert passkeys.is_enabled(CITIZEN)
    handle = store.tables.handles[CITIZEN]
    with store.write() as tx:  # an operator's reset, through the erasure steps
        assert tx.delete_all(CITIZEN) == 2
    assert not passkeys.is_enabled(CITIZEN) and passkeys.is_enabled(OTHER)
    assert store.tables.handles[CITIZEN] == handle  # new passkeys keep the same user handle


def test_nothing_identifying_in_reprs_or_log_lines(
    passkeys: Passkeys, authenticator: SoftAuthenticator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    passkey = register(passkeys, authenticator)
    login = passkeys.authenticate(*assertion(passkeys, authenticator))
    passkeys.registration_options(CITIZEN, user_name="u", display_name="d")  # excludes it
    lines = [record.getMessage() for record in caplog.records]
    assert "passkey registered" in lines
    for secret in (passkey.credential_id.hex(), websafe_encode(passkey.credential_id), CITIZEN):
        assert not [line for line in lines if secret in line]
    for text in (repr(passkey), repr(login)):
        assert websafe_encode(passkey.credential_id) not in text
        assert "credential_data" not in text and "credential_id" not in text
    assert replace(passkey, name="x").credential_id == passkey.credential_id
