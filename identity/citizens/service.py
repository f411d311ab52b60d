"""Citizens: registration, the one audited access path to personal data, erasure, login.

The privacy model (docs/citizens.md, "How personal data is kept"), as a service over a
small storage protocol:

- **Encryption at rest** (UU PDP Art. 35, 39; Permenkominfo 20/2016): each personal field
  (NIK, name, birth date, email, phone, address) is sealed with AES-256-GCM under the
  citizen's own data key, bound to (citizen id, field name); the data key is stored wrapped
  under the master key, in its own row. Lookup by NIK goes through the keyed blind index.
  The citizen id is random (128 bits), never derived from the NIK.
- **One access path** (Art. 31, recording of processing): personal data is decrypted only in
  :meth:`CitizenService.read_personal_data`, which appends an audit entry (subject pseudonym,
  actor, purpose, legal basis under Art. 20(2), data items, outcome) *in the same database
  transaction* as the read. If the entry cannot be written, the transaction rolls back and
  nothing is returned. Registration, erasure and logins are recorded the same way.
- **Erasure** (Art. 8, 43-45: destruction "so that it can no longer identify"):
  crypto-shredding. The wrapped data key is deleted, the sealed fields, the NIK blind index
  and the password hash are cleared, and a tombstone (citizen id, ``erased_at``) remains so
  that the audit log's entries about the citizen keep their meaning. In the same transaction
  each :class:`~identity.citizens.erasure.ErasureStep` ends what was issued to the citizen
  (token families, authorization codes, login sessions): nothing issued before the erasure is
  honoured after it. With the blind index gone, the NIK may be registered again, as a new
  citizen with a new id (:mod:`identity.citizens.erasure`).
- **Authentication**: argon2id (RFC 9106) through
  :class:`~identity.citizens.passwords.PasswordService`; an unknown NIK and a wrong password
  give the same :class:`~identity.errors.InvalidCredentials` after the same work (a dummy
  hash), and both count against the per-account and per-address throttle
  (:mod:`identity.login.throttle`), which refuses attempts before any hash is computed. An
  attempt from a device on which the account has signed in before
  (:mod:`identity.login.devices`) counts against the account alone, so a locked shared address
  does not lock that citizen out. Hashes run on the bounded hashing pool
  (:mod:`identity.citizens.hashing_pool`).

Nothing here logs a NIK, a name, an email, a phone number, an address or a password, and
error messages name the field that is wrong, never its value.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from audit import AuditAppender
from audit.entry import Action, Actor, AuditEntry, LegalBasis, Outcome
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.erasure import CitizenErasure, ErasureStep
from identity.citizens.field_crypto import FieldCipher, new_data_key
from identity.citizens.fields import (
    PERSONAL_FIELDS,
    check_password,
    validated_correction,
    validated_registration,
)
from identity.citizens.nik import today_in_indonesia
from identity.citizens.passwords import Verification
from identity.citizens.records import (
    SELF,
    Authentication,
    CitizenStore,
    Clock,
    NewCitizen,
    PasswordHashing,
    PersonalData,
    Registered,
    Tombstone,
    citizen_entry,
    load_live,
)
from identity.errors import (
    CitizenErased,
    CitizenNotFound,
    InvalidCredentials,
    InvalidField,
    Overloaded,
)
from identity.login.devices import KnownDevices
from identity.login.throttle import AttemptKeys, LoginThrottle

__all__ = ["SELF", "CitizenService", "new_citizen_id"]

log = logging.getLogger(__name__)

#: Audit codes of the operations this service records (an erasure's: :mod:`.erasure`).
REGISTRATION_PURPOSE = "citizen-registration"
CORRECTION_PURPOSE = "data-subject-correction"
LOGIN_PURPOSE = "authentication"


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A login between its two database steps (the hash runs in between)."""

    now: datetime
    keys: AttemptKeys | None
    citizen_id: str | None
    password_hash: str | None = field(repr=False)
    nik_index: bytes = field(default=b"", repr=False)
    device: str | None = field(default=None, repr=False)


@dataclass(kw_only=True, eq=False, repr=False)
class CitizenService(CitizenErasure):
    """Registers citizens, reads their data through one audited path, erases
    (:class:`~identity.citizens.erasure.CitizenErasure`), authenticates; built with
    keywords."""

    store: CitizenStore
    cipher: FieldCipher
    passwords: PasswordHashing
    clock: Clock
    audit: AuditAppender
    pseudonymizer: SubjectPseudonymizer
    throttle: LoginThrottle | None = None
    erasure_steps: tuple[ErasureStep, ...] = ()
    devices: KnownDevices | None = None

    # ------------------------------------------------------------ registration

    def register(
        self,
        *,
        nik: str,
        name: str,
        birthdate: date,
        password: str | None,
        email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        actor: Actor,
        legal_basis: LegalBasis = LegalBasis.PUBLIC_TASK,
        request_id: str | None = None,
        then: Registered | None = None,
    ) -> str:
        """Register a citizen and return its new, random id.

        Every field is checked before anything is written; the password is hashed outside
        the transaction. The registration is audited in the transaction that inserts it.
        ``password`` None registers a citizen without one, who cannot sign in with a password
        until they set one (:mod:`identity.citizens.account_access`: an activation code); a
        login with their NIK is refused exactly as for an unknown NIK. ``then(bind,
        citizen_id, now)``, if given, runs inside the insert's transaction (``bind`` as the
        audit appender takes it), so that what it writes commits with the citizen or not at
        all (the activation code of :meth:`AccountAccess.register
        <identity.citizens.account_access.AccountAccess.register>`).

        Raises:
            InvalidNik: the NIK is not valid, or the birth date is not the NIK's.
            InvalidField: another field does not meet its format (named, not echoed).
            DuplicateNik: a citizen with this NIK exists (nothing is written).
        """
        now = self.clock()
        values = validated_registration(
            nik=nik, name=name, birthdate=birthdate, email=email, phone=phone, address=address,
            today=today_in_indonesia(now),
        )  # fmt: skip
        if password is not None:
            check_password(password)
        citizen_id = new_citizen_id()
        entry = citizen_entry(
            self.pseudonymizer, citizen_id, now, actor=actor, action=Action.CREATE,
            items=values, purpose=REGISTRATION_PURPOSE, legal_basis=legal_basis,
            request_id=request_id,
        )  # fmt: skip
        citizen = sealed_citizen(
            self.cipher, citizen_id, values, data_key=new_data_key(), now=now,
            password_hash=self.passwords.hash(password) if password is not None else None,
        )  # fmt: skip
        with self.store.write() as tx:
            tx.add(citizen)
            self.audit.append(tx.bind, entry, queued_at=now)
            if then is not None:
                then(tx.bind, citizen_id, now)
        log.debug("citizen registered", extra={"fields": sorted(values)})
        return citizen_id

    def find_by_nik(self, nik: str) -> str | None:
        """The id of the citizen with this NIK (blind index lookup; nothing is decrypted)."""
        with self.store.read() as tx:
            found = tx.find_by_nik_index(self.cipher.nik_index(nik.strip()))
        return found.id if found is not None else None

    def tombstone(self, citizen_id: str) -> Tombstone | None:
        """The tombstone of an erased citizen (None while the citizen is not erased)."""
        with self.store.read() as tx:
            found = tx.load(citizen_id)
        if found is None:
            raise CitizenNotFound()
        return Tombstone(found.id, found.erased_at) if found.erased_at else None

    def is_erased(self, citizen_id: str) -> bool:
        """Whether the citizen has been erased (one read by id; nothing decrypted). An
        unknown id is not erased: it has nothing to serve."""
        with self.store.read() as tx:
            found = tx.load(citizen_id)
        return found is not None and found.erased

    def has_password(self, citizen_id: str) -> bool:
        """Whether the citizen can sign in with a password (one read; nothing decrypted)."""
        with self.store.read() as tx:
            found = tx.load(citizen_id)
        return found is not None and found.password_hash is not None

    # ------------------------------------------------------------ the access path

    def read_personal_data(
        self,
        citizen_id: str,
        fields: Iterable[str],
        *,
        actor: Actor,
        purpose: str,
        legal_basis: LegalBasis,
        consent_id: str | None = None,
        request_id: str | None = None,
    ) -> PersonalData:
        """Decrypt ``fields`` of one citizen: the only way personal data leaves storage.

        The audit entry (UU PDP Art. 31) is appended in the same transaction as the read; the
        data is returned only once that transaction has committed. A read of an erased
        citizen is recorded with outcome ``denied`` and answers :class:`CitizenErased`.

        Raises:
            InvalidField: a field name that is not a personal field.
            CitizenNotFound, CitizenErased.
        """
        wanted = tuple(dict.fromkeys(fields))
        unknown = sorted(set(wanted) - set(PERSONAL_FIELDS))
        if unknown or not wanted:
            raise InvalidField("fields", f"choose one or more of {', '.join(PERSONAL_FIELDS)}")
        now = self.clock()

        def entry(outcome: Outcome) -> AuditEntry:
            return citizen_entry(
                self.pseudonymizer, citizen_id, now, actor=actor, action=Action.READ,
                items=wanted, purpose=purpose, legal_basis=legal_basis, consent_id=consent_id,
                request_id=request_id, outcome=outcome,
            )  # fmt: skip

        entry(Outcome.SUCCESS)  # a bad purpose or id fails here, before any read
        with self.store.write() as tx:
            found = tx.load(citizen_id)
            if found is None:
                raise CitizenNotFound()
            if found.erased or found.wrapped_key is None:
                self.audit.append(tx.bind, entry(Outcome.DENIED), queued_at=now)
                values = None
            else:
                data_key = self.cipher.unwrap_data_key(citizen_id, found.wrapped_key)
                values = {
                    name: _open(self.cipher, data_key, citizen_id, name, found.sealed.get(name))
                    for name in wanted
                }
                self.audit.append(tx.bind, entry(Outcome.SUCCESS), queued_at=now)
        if values is None:
            raise CitizenErased()
        return PersonalData(citizen_id, values)

    def record_refused_read(
        self, citizen_id: str, fields: Iterable[str], *, actor: Actor, purpose: str
    ) -> None:
        """Record a release the consent gate refused (UU PDP Art. 20(2), 22, 41): nothing is
        read; the attempt is a ``read`` with outcome ``denied`` and no legal basis (there
        was none), so that auditors count the gate's refusals and the citizen sees that
        their withdrawal or restriction held."""
        now = self.clock()
        entry = citizen_entry(
            self.pseudonymizer, citizen_id, now, actor=actor, action=Action.READ,
            items=tuple(dict.fromkeys(fields)), purpose=purpose, legal_basis=None,
            outcome=Outcome.DENIED,
        )  # fmt: skip
        with self.store.write() as tx:
            self.audit.append(tx.bind, entry, queued_at=now)

    # ------------------------------------------------------------ correction

    def correct(
        self,
        citizen_id: str,
        fields: Mapping[str, str],
        *,
        actor: Actor,
        legal_basis: LegalBasis = LegalBasis.LEGAL_OBLIGATION,
        request_id: str | None = None,
    ) -> tuple[str, ...]:
        """Correct personal fields (UU PDP Art. 6, 30) and return the names corrected.

        The values are checked as :meth:`register` checks them (see
        :func:`validated_correction`) before anything is written; then each is sealed under
        the citizen's data key and written, and the correction (field names only) is audited,
        in one transaction.

        Raises:
            InvalidField: a field that may not be corrected here, or a value that does not
                meet its format (named, never echoed). Nothing is written.
            CitizenNotFound, CitizenErased.
        """
        values = validated_correction(fields)
        now = self.clock()
        entry = citizen_entry(
            self.pseudonymizer, citizen_id, now, actor=actor, action=Action.UPDATE,
            items=values, purpose=CORRECTION_PURPOSE, legal_basis=legal_basis,
            request_id=request_id,
        )  # fmt: skip
        with self.store.write() as tx:
            found = load_live(tx, citizen_id)
            if found.wrapped_key is None:
                raise CitizenErased()
            data_key = self.cipher.unwrap_data_key(citizen_id, found.wrapped_key)
            tx.set_sealed(citizen_id, self.cipher.seal_fields(data_key, citizen_id, values))
            self.audit.append(tx.bind, entry, queued_at=now)
        log.debug("citizen corrected", extra={"fields": sorted(values)})
        return tuple(values)

    # ------------------------------------------------------------ authentication

    def authenticate(
        self, nik: str, password: str, *, address: str, device: str | None = None
    ) -> Authentication:
        """Check a NIK and password (synchronous: the hash runs in the calling thread).

        ``address`` is the client's address; ``device`` the device cookie it sent, if any
        (:mod:`identity.login.devices`). On success :attr:`Authentication.device` is the
        cookie to set.

        Raises:
            Throttled: too many failures for the account or the address (no hash computed).
            InvalidCredentials: unknown NIK, wrong password or erased citizen, all alike.
        """
        attempt = self._begin_login(nik, address, device)
        return self._finish_login(attempt, self.passwords.verify(attempt.password_hash, password))

    async def authenticate_async(
        self, nik: str, password: str, *, address: str, device: str | None = None
    ) -> Authentication:
        """:meth:`authenticate` for the event loop: database work runs in worker threads and
        the argon2 hash on the bounded hashing pool, never on the loop.

        Raises:
            Overloaded: the hashing pool is full (the attempt is not counted).
        """
        attempt = await asyncio.to_thread(self._begin_login, nik, address, device)
        verification = await self._verify(attempt, password)
        return await asyncio.to_thread(self._finish_login, attempt, verification)

    async def confirm_password_async(self, citizen_id: str, password: str, *, address: str) -> None:
        """Re-authentication of a signed-in citizen before an act that cannot be undone
        (their own erasure): their password, throttled like a login on their account and
        address, the hash on the hashing pool. Nothing is recorded on success: the act
        that follows is.

        Raises:
            Throttled, Overloaded (the attempt is not counted).
            InvalidCredentials: a wrong password, no password, or an erased citizen.
        """
        attempt = await asyncio.to_thread(self._begin_confirmation, citizen_id, address)
        verification = await self._verify(attempt, password)
        if self.throttle is not None and attempt.keys is not None:
            counted = self.throttle.succeeded if verification.ok else self.throttle.failed
            await asyncio.to_thread(counted, attempt.keys, now=attempt.now)
        if not verification.ok or attempt.citizen_id is None:
            log.info("password confirmation failed")
            raise InvalidCredentials()

    async def _verify(self, attempt: _Attempt, password: str) -> Verification:
        """The attempt's password checked on the hashing pool; when the pool is full
        (Overloaded) the attempt is not counted against the throttle."""
        try:
            return await self.passwords.verify_async(attempt.password_hash, password)
        except Overloaded:
            if self.throttle is not None and attempt.keys is not None:
                await asyncio.to_thread(self.throttle.cancelled, attempt.keys, now=attempt.now)
            raise

    def _begin_confirmation(self, citizen_id: str, address: str) -> _Attempt:
        now = self.clock()
        with self.store.read() as tx:
            found = tx.load(citizen_id)
        if found is None or found.erased or found.nik_index is None:
            raise InvalidCredentials()
        keys = None
        if self.throttle is not None:
            keys = self.throttle.keys(
                nik_index=found.nik_index, address=address, known_device=False
            )
            self.throttle.reserve(keys, now=now)  # raises Throttled before any hashing
        owner = found.id if found.password_hash is not None else None
        return _Attempt(now, keys, owner, found.password_hash, found.nik_index)

    def _begin_login(self, nik: str, address: str, device: str | None) -> _Attempt:
        now = self.clock()
        nik_index = self.cipher.nik_index(nik.strip())
        keys = None
        if self.throttle is not None:
            known = self.devices is not None and self.devices.recognises(device, nik_index, now=now)
            keys = self.throttle.keys(nik_index=nik_index, address=address, known_device=known)
            self.throttle.reserve(keys, now=now)  # raises Throttled before any hashing
        with self.store.read() as tx:
            found = tx.find_by_nik_index(nik_index)
        if found is None or found.erased or found.password_hash is None:
            return _Attempt(now, keys, None, None, nik_index, device)
        return _Attempt(now, keys, found.id, found.password_hash, nik_index, device)

    def _finish_login(self, attempt: _Attempt, verification: Verification) -> Authentication:
        citizen_id = attempt.citizen_id if verification.ok else None
        if citizen_id is not None:
            with self.store.write() as tx:
                current = tx.load(citizen_id, for_update=True)
                if current is None or current.erased:
                    citizen_id = None  # erased while the hash ran
                else:
                    if verification.new_hash is not None:
                        tx.set_password_hash(citizen_id, verification.new_hash)
                    self.audit.append(
                        tx.bind,
                        citizen_entry(
                            self.pseudonymizer,
                            citizen_id,
                            attempt.now,
                            actor=SELF,
                            action=Action.LOGIN,
                            items=(),
                            purpose=LOGIN_PURPOSE,
                            legal_basis=LegalBasis.PUBLIC_TASK,
                        ),
                        queued_at=attempt.now,
                    )
        if citizen_id is None:
            reason = "unknown account" if attempt.citizen_id is None else "wrong password"
            log.info("login failed: %s", reason)
            if self.throttle is not None and attempt.keys is not None:
                self.throttle.failed(attempt.keys, now=attempt.now)
            raise InvalidCredentials()
        if verification.new_hash is not None:
            log.info("password hash upgraded to the current parameters")
        if self.throttle is not None and attempt.keys is not None:
            self.throttle.succeeded(attempt.keys, now=attempt.now)
        device = None
        if self.devices is not None:
            device = self.devices.remember(attempt.device, attempt.nik_index, now=attempt.now)
        return Authentication(citizen_id, attempt.now, device=device)


def sealed_citizen(
    cipher: FieldCipher,
    citizen_id: str,
    values: Mapping[str, str],
    *,
    data_key: bytes,
    now: datetime,
    password_hash: str | None = None,
    nik_index: bytes | None = None,
) -> NewCitizen:
    """A new citizen's row as registration stores it: every field sealed under
    ``data_key`` (AES-256-GCM, bound to the id and the field), the key wrapped under the
    master key, the NIK's blind index (``nik_index`` when computed already)."""
    return NewCitizen(
        id=citizen_id,
        nik_index=nik_index or cipher.nik_index(values["nik"]),
        wrapped_key=cipher.wrap_data_key(citizen_id, data_key),
        sealed=cipher.seal_fields(data_key, citizen_id, values),
        password_hash=password_hash,
        created_at=now,
    )


def new_citizen_id() -> str:
    """128 random bits, base32 (26 lowercase characters): opaque, unrelated to the NIK."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def _open(
    cipher: FieldCipher, data_key: bytes, citizen_id: str, name: str, sealed: bytes | None
) -> str | None:
    return None if sealed is None else cipher.open(data_key, citizen_id, name, sealed)
