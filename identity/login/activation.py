"""Activation codes: how a citizen registered at the counter gets into their account without
anyone else ever choosing their password (issue 18, part 1). Framework-free.

An operator registers the citizen and :meth:`Activations.issue` draws a one-time code
(:mod:`identity.login.access_codes`: 80 bits, four groups of four), shown or printed once.
On ``/activate`` the citizen gives their NIK, birth date and the code; the page finds the
citizen, and :meth:`Activations.check` turns the code into an :class:`ActivationTicket`. The
citizen then sets up a passkey or a password, and :meth:`Activations.complete` uses the code
up in the same transaction that stores what they set up.

Security choices:

- One code per citizen: issuing a new one replaces the earlier one, which stops working.
- Only the code's SHA-256 is stored (NIST SP 800-63B §5.1.2.2 allows a plain approved hash
  for look-up secrets of 64 bits or more; these have 80), compared with
  :func:`hmac.compare_digest`. The code expires ``lifetime`` after issue (14 days unless
  configured: ``JATI_ACTIVATION_LIFETIME``), checked again when it is used up.
- One-time: completion deletes the row only if it still holds the ticket's hash, so of two
  completions with one code (two tabs, a replay) exactly one succeeds.
- One answer, :class:`~identity.errors.ActivationRefused`, whether the code is
  wrong, expired, replaced, used or was never issued: a NIK and a birth date are not secrets,
  and distinct answers would tell whoever holds them whether the account still waits for
  activation (a target) or was activated already. The page says all the reasons at once.
- Guessing is throttled by the HTTP layer with the login throttle
  (:class:`identity.login.throttle.LoginThrottle`), per account and per address, before
  :meth:`~Activations.check` is called; 80 bits would resist guessing even without it.
- Each issue and each activation is an audit entry (:mod:`identity.login.account_events`)
  written in the transaction of the change; no entry, log line or exception holds a code.

**One transaction with the password.** :meth:`~Activations.issue` and
:meth:`~Activations.complete` take an optional ``bind``, the caller's open transaction (as
the audit appender and :class:`identity.citizens.erasure.ErasureStep` take it): the citizen
service stores the new password hash in its own write transaction and calls
``complete(ticket, ..., bind=tx.bind)`` inside it, so the password write, the code's
consumption and the audit entry commit together, and a refused completion (raised inside
the ``with``) rolls the password back. Without ``bind`` each opens its own transaction
(a passkey-only activation, the registration of a citizen without a password).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from audit import AuditAppender
from audit.entry import Action, Actor
from audit.pseudonym import SubjectPseudonymizer
from identity.errors import ActivationRefused, ConfigurationError
from identity.login.access_codes import code_hash, format_code, new_code
from identity.login.account_events import AccountEvents

__all__ = [
    "DEFAULT_ACTIVATION_LIFETIME",
    "ActivationRecord",
    "ActivationStore",
    "ActivationTicket",
    "ActivationTransaction",
    "Activations",
]

DEFAULT_ACTIVATION_LIFETIME = timedelta(days=14)
#: What an activation entry names (never the code itself).
ACTIVATION_ITEM = "activation_code"
PASSWORD_ITEM = "password"  # noqa: S105 - the data item's name, not a password


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    """A citizen's outstanding activation code, as stored (its hash only)."""

    citizen_id: str
    code_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime


def new_activation(
    citizen_id: str, now: datetime, lifetime: timedelta
) -> tuple[ActivationRecord, str]:
    """A new activation code for the citizen: the record to store (its SHA-256 only,
    expiring at ``now + lifetime``) and the code as printed, once (``7KQ2-M9XD-4HPA-T3VE``).
    """
    code = new_code()
    return ActivationRecord(citizen_id, code_hash(code), now, now + lifetime), format_code(code)


@dataclass(frozen=True, slots=True)
class ActivationTicket:
    """A code found valid by :meth:`Activations.check`, to complete the activation with.
    Holds the code's hash, never the code; the hash is left out of ``repr``."""

    citizen_id: str
    code_hash: str = field(repr=False)
    expires_at: datetime


class ActivationTransaction(Protocol):
    """One transaction over the activation codes (:mod:`identity.storage.activation`)."""

    @property
    def bind(self) -> Any:
        """Where the audit appender writes, so that entries commit with the change."""
        ...

    def load(self, citizen_id: str) -> ActivationRecord | None: ...

    def replace(self, record: ActivationRecord) -> None:
        """Store the record, replacing the citizen's earlier one in one statement."""
        ...

    def consume(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        """Delete the citizen's record if it holds ``code_hash`` and has not expired at
        ``now``; whether it did (atomic: of two at once, one deletes)."""
        ...

    def delete(self, citizen_id: str) -> None: ...


class ActivationStore(Protocol):
    def write(self) -> AbstractContextManager[ActivationTransaction]: ...

    def read(self) -> AbstractContextManager[ActivationTransaction]: ...

    def joined(self, bind: Any) -> ActivationTransaction:
        """A transaction object over a transaction the caller holds open (its ``bind``)."""
        ...


class Activations:
    """Issues, checks and uses up citizens' activation codes.

    Args:
        store: where codes' hashes live (:class:`identity.storage.activation.SqlActivationStore`).
        audit: appends entries in the change's transaction.
        pseudonymizer: the citizen's pseudonym in entries.
        lifetime: how long a code stays valid after issue (positive).
    """

    def __init__(
        self,
        *,
        store: ActivationStore,
        audit: AuditAppender,
        pseudonymizer: SubjectPseudonymizer,
        lifetime: timedelta = DEFAULT_ACTIVATION_LIFETIME,
    ) -> None:
        if lifetime <= timedelta(0):
            raise ConfigurationError(["JATI_ACTIVATION_LIFETIME must be positive"])
        self.store = store
        self.events = AccountEvents(audit=audit, pseudonymizer=pseudonymizer)
        self.lifetime = lifetime

    def issue(self, citizen_id: str, *, actor: Actor, now: datetime, bind: Any = None) -> str:
        """Draw a new code for the citizen, replacing any earlier one, and return it for
        display, once (``7KQ2-M9XD-4HPA-T3VE``). Only its hash is stored; it expires at
        ``now + lifetime``. Audited (``activation_code`` created) as done by ``actor``, the
        operator. ``bind``: the caller's open transaction, else one of its own."""
        record, code = new_activation(citizen_id, now, self.lifetime)
        with self._transaction(bind) as tx:
            tx.replace(record)
            self.events.append(
                tx.bind, citizen_id, now, actor=actor, action=Action.CREATE,
                items=(ACTIVATION_ITEM,),
            )  # fmt: skip
        return code

    def check(self, citizen_id: str, code: str, *, now: datetime) -> ActivationTicket:
        """The ticket of the citizen's current code, if ``code`` is it and has not expired.
        Changes nothing: the code stays usable until :meth:`complete`.

        Raises:
            MalformedAccessCode: ``code`` is not in the code format at all.
            ActivationRefused: the code is wrong, expired, replaced or used, or the citizen
                has none. One answer for all (see the module's docstring).
        """
        typed = code_hash(code)
        with self.store.read() as tx:
            record = tx.load(citizen_id)
        if (
            record is None
            or now >= record.expires_at
            or not hmac.compare_digest(record.code_hash, typed)
        ):
            raise ActivationRefused()
        return ActivationTicket(record.citizen_id, record.code_hash, record.expires_at)

    def complete(
        self,
        ticket: ActivationTicket,
        *,
        actor: Actor,
        now: datetime,
        password_set: bool = False,
        bind: Any = None,
    ) -> None:
        """Use the ticket's code up and audit the activation (``activation_code`` updated,
        and ``password`` when ``password_set``), as done by ``actor``, the citizen.

        With ``bind`` (the caller's open transaction: the one that stores the password hash)
        everything commits or rolls back with the caller's change; the error below, raised
        inside the caller's ``with``, rolls it back.

        Raises:
            ActivationRefused: the code was used meanwhile (a second completion), replaced,
                revoked or has expired.
        """
        with self._transaction(bind) as tx:
            if not tx.consume(ticket.citizen_id, ticket.code_hash, now=now):
                raise ActivationRefused()
            items = (ACTIVATION_ITEM, PASSWORD_ITEM) if password_set else (ACTIVATION_ITEM,)
            self.events.append(
                tx.bind, ticket.citizen_id, now, actor=actor, action=Action.UPDATE, items=items
            )

    def pending(self, citizen_id: str) -> datetime | None:
        """When the citizen's outstanding code expires (possibly already past: compare it
        with the time), or None if the citizen has none (activated, or never issued)."""
        with self.store.read() as tx:
            record = tx.load(citizen_id)
        return record.expires_at if record is not None else None

    @contextmanager
    def _transaction(self, bind: Any) -> Iterator[ActivationTransaction]:
        if bind is None:
            with self.store.write() as tx:
                yield tx
        else:
            yield self.store.joined(bind)
