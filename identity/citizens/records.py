"""What the citizen service works with: the records it stores and returns, the audit entry it
writes about a citizen, and the storage and password hashing it is given (protocols, so that
the core needs no database: :mod:`identity.storage.citizens` implements them).

Sealed values, hashes and keys never appear in a ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.passwords import Verification
from identity.errors import CitizenErased, CitizenNotFound

Clock = Callable[[], datetime]
#: What :meth:`CitizenService.register <identity.citizens.service.CitizenService.register>`
#: runs in the insert's transaction: ``(bind, citizen_id, now)``.
Registered = Callable[[Any, str, datetime], None]


@dataclass(frozen=True, slots=True)
class NewCitizen:
    """A row to insert: everything sealed or hashed already."""

    id: str
    nik_index: bytes
    wrapped_key: bytes
    sealed: Mapping[str, bytes] = field(repr=False)
    #: None: registered without a password (activation code, :mod:`.account_access`).
    password_hash: str | None = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCitizen:
    """A citizen as stored: sealed fields (None when absent or erased), wrapped key."""

    id: str
    nik_index: bytes | None = field(repr=False)
    wrapped_key: bytes | None = field(repr=False)
    sealed: Mapping[str, bytes | None] = field(repr=False)
    password_hash: str | None = field(repr=False)
    created_at: datetime
    erased_at: datetime | None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


@dataclass(frozen=True, slots=True)
class Tombstone:
    """What erasure leaves: the id and when (UU PDP Art. 43-44)."""

    citizen_id: str
    erased_at: datetime


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Decrypted fields of one citizen, as asked for (None: not recorded).

    ``repr`` names the fields, never the values, so that logging one by mistake leaks nothing.
    """

    citizen_id: str
    values: Mapping[str, str | None] = field(repr=False)

    def __getitem__(self, name: str) -> str | None:
        return self.values[name]

    def __repr__(self) -> str:
        return f"PersonalData(citizen_id={self.citizen_id!r}, fields={sorted(self.values)!r})"


@dataclass(frozen=True, slots=True)
class Authentication:
    """A successful login: who, when (OIDC Core ``auth_time``) and how (RFC 8176 ``amr``)."""

    citizen_id: str
    auth_time: datetime
    amr: tuple[str, ...] = ("pwd",)
    #: The device cookie to set (:mod:`identity.login.devices`), when the service issues them.
    device: str | None = field(default=None, repr=False)


#: The citizen acting on their own account (audit entries of what they do themselves; never
#: their id: the entry's subject is already their pseudonym, and an actor id would undo it).
SELF = Actor(kind=ActorKind.CITIZEN, id="self")


def citizen_entry(
    pseudonymizer: SubjectPseudonymizer,
    citizen_id: str,
    now: datetime,
    *,
    actor: Actor,
    action: Action,
    items: Iterable[str],
    purpose: str,
    legal_basis: LegalBasis | None,
    consent_id: str | None = None,
    request_id: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
) -> AuditEntry:
    """The audit entry (UU PDP Art. 31) of one operation on a citizen's data: the subject
    by pseudonym, the data items by name, never their values."""
    return AuditEntry(
        time=now,
        actor=actor,
        action=action,
        outcome=outcome,
        subject=pseudonymizer.pseudonym(citizen_id),
        data_items=tuple(items),
        purpose=purpose,
        legal_basis=legal_basis,
        consent_id=consent_id,
        request_id=request_id,
    )


class CitizenTransaction(Protocol):
    """One database transaction over the citizens' tables (``SqlCitizenStore``)."""

    @property
    def bind(self) -> Any:
        """What the audit appender writes through, so that it joins this transaction."""
        ...

    def add(self, citizen: NewCitizen) -> None:
        """Insert ``citizen``; raise :class:`~identity.errors.DuplicateNik` if its blind index
        is taken."""
        ...

    def load(self, citizen_id: str, *, for_update: bool = False) -> StoredCitizen | None: ...

    def find_by_nik_index(self, nik_index: bytes) -> StoredCitizen | None: ...

    def set_password_hash(self, citizen_id: str, password_hash: str | None) -> None:
        """Store a live citizen's password hash; None clears it (an access reset)."""
        ...

    def set_sealed(self, citizen_id: str, sealed: Mapping[str, bytes]) -> None:
        """Replace the sealed value of each named field of a live citizen (a correction)."""
        ...

    def erase(self, citizen_id: str, *, erased_at: datetime) -> None:
        """Delete the wrapped key; clear sealed fields, blind index and password hash."""
        ...


def load_live(tx: CitizenTransaction, citizen_id: str) -> StoredCitizen:
    """The citizen, locked for the rest of ``tx``, if not erased.

    Raises:
        CitizenNotFound, CitizenErased.
    """
    found = tx.load(citizen_id, for_update=True)
    if found is None:
        raise CitizenNotFound()
    if found.erased:
        raise CitizenErased()
    return found


class CitizenStore(Protocol):
    def write(self) -> AbstractContextManager[CitizenTransaction]: ...

    def read(self) -> AbstractContextManager[CitizenTransaction]: ...

    def after_erasure(self) -> None:
        """Storage housekeeping once an erasure has committed (e.g. SQLite's WAL)."""
        ...


class PasswordHashing(Protocol):
    """What the service needs of :class:`~identity.citizens.passwords.PasswordService`."""

    def hash(self, password: str) -> str: ...

    async def hash_async(self, password: str) -> str:
        """:meth:`hash` on the hashing pool (raises ``Overloaded`` when it is full)."""
        ...

    def verify(self, stored_hash: str | None, password: str) -> Verification: ...

    async def verify_async(self, stored_hash: str | None, password: str) -> Verification: ...
