"""Recovery codes: ten one-time codes that let a citizen who lost their passkey or
authenticator app back into the account page (issue 18, part 4). Framework-free.

They are look-up secrets in the sense of NIST SP 800-63B §5.1.2: a list of secrets shared by
the citizen and Jati, each used at most once (§5.1.2.2: "A given secret from an
authenticator SHALL only be used successfully only once"). Shown once when made, when a
second factor or passkey is added, and made again on request, which replaces the whole list.
A recovery code signs the citizen in to the account page only, where they add a new factor
(the HTTP layer's rule).

Security choices:

- The format of :mod:`identity.login.access_codes` (80 bits from :mod:`secrets`, four groups
  of four); only each code's SHA-256 is stored (§5.1.2.2: secrets of 64 bits or more "MAY
  simply be hashed using an approved hash function"), and a code is found by its hash.
- One-time, atomically: :meth:`RecoveryCodes.use` marks the code used with one conditional
  update (``... WHERE used_at IS NULL``), so of two sign-ins with one code, at once, on any
  workers, exactly one succeeds.
- One answer, :class:`~identity.errors.RecoveryCodeRefused`, whether the code
  is unknown or already used.
- Guessing is throttled by the HTTP layer with the login throttle
  (:class:`identity.login.throttle.LoginThrottle`), before :meth:`~RecoveryCodes.use`.
- Making the list and using a code are audit entries (:mod:`identity.login.account_events`)
  in the transaction of the change; a code is never in an entry, a log line or an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from audit import AuditAppender
from audit.entry import Action, Actor
from audit.pseudonym import SubjectPseudonymizer
from identity.errors import RecoveryCodeRefused
from identity.login.access_codes import code_hash, format_code, new_code
from identity.login.account_events import AccountEvents

__all__ = [
    "RECOVERY_CODE_COUNT",
    "RecoveryCodeStore",
    "RecoveryCodeTransaction",
    "RecoveryCodes",
]

RECOVERY_CODE_COUNT = 10
#: What a recovery-code entry names (never a code).
RECOVERY_ITEM = "recovery_codes"


class RecoveryCodeTransaction(Protocol):
    """One transaction over the recovery codes (:mod:`identity.storage.recovery_codes`)."""

    @property
    def bind(self) -> Any:
        """Where the audit appender writes, so that entries commit with the change."""
        ...

    def replace_all(self, citizen_id: str, code_hashes: Sequence[str], *, now: datetime) -> None:
        """Delete the citizen's codes and store these, unused; serialised per citizen, so
        that of two lists made at once only the later stays."""
        ...

    def mark_used(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        """Mark the citizen's unused code of this hash used at ``now``; whether one was
        (atomic: of two at once, one marks)."""
        ...

    def remaining(self, citizen_id: str) -> int:
        """How many of the citizen's codes are unused."""
        ...

    def is_unused(self, citizen_id: str, code_hash: str) -> bool:
        """Whether the citizen has an unused code of this hash (reads only)."""
        ...

    def delete_all(self, citizen_id: str) -> None: ...


class RecoveryCodeStore(Protocol):
    def write(self) -> AbstractContextManager[RecoveryCodeTransaction]: ...

    def read(self) -> AbstractContextManager[RecoveryCodeTransaction]: ...


class RecoveryCodes:
    """Makes, uses and revokes citizens' recovery codes.

    Args:
        store: where the codes' hashes live
            (:class:`identity.storage.recovery_codes.SqlRecoveryCodeStore`).
        audit: appends entries in the change's transaction.
        pseudonymizer: the citizen's pseudonym in entries.
    """

    def __init__(
        self,
        *,
        store: RecoveryCodeStore,
        audit: AuditAppender,
        pseudonymizer: SubjectPseudonymizer,
    ) -> None:
        self.store = store
        self.events = AccountEvents(audit=audit, pseudonymizer=pseudonymizer)

    def generate(self, citizen_id: str, *, actor: Actor, now: datetime) -> tuple[str, ...]:
        """Make :data:`RECOVERY_CODE_COUNT` new codes for the citizen, replacing all earlier
        ones (used or not), and return them for display, once. Audited (``recovery_codes``
        created) as done by ``actor``, the citizen."""
        codes: list[str] = []
        while len(codes) < RECOVERY_CODE_COUNT:  # distinct (a repeat at 80 bits: never)
            code = new_code()
            if code not in codes:
                codes.append(code)
        with self.store.write() as tx:
            tx.replace_all(citizen_id, [code_hash(code) for code in codes], now=now)
            self.events.append(
                tx.bind, citizen_id, now, actor=actor, action=Action.CREATE, items=(RECOVERY_ITEM,)
            )
        return tuple(format_code(code) for code in codes)

    def use(self, citizen_id: str, code: str, *, actor: Actor, now: datetime) -> int:
        """Use one of the citizen's unused codes up; how many unused ones remain. Audited
        (a ``recovery_codes`` login) as done by ``actor``, the citizen.

        Raises:
            MalformedAccessCode: ``code`` is not in the code format at all.
            RecoveryCodeRefused: not one of the citizen's codes, or used already.
        """
        typed = code_hash(code)
        with self.store.write() as tx:
            if not tx.mark_used(citizen_id, typed, now=now):
                raise RecoveryCodeRefused()
            left = tx.remaining(citizen_id)
            self.events.append(
                tx.bind, citizen_id, now, actor=actor, action=Action.LOGIN, items=(RECOVERY_ITEM,)
            )
        return left

    def check(self, citizen_id: str, code: str) -> bool:
        """Whether ``code`` is one of the citizen's unused codes, changing nothing (a step
        before :meth:`use` that must not spend the code when a later check fails).

        Raises:
            MalformedAccessCode: ``code`` is not in the code format at all.
        """
        typed = code_hash(code)
        with self.store.read() as tx:
            return tx.is_unused(citizen_id, typed)

    def remaining(self, citizen_id: str) -> int:
        """How many of the citizen's codes are still unused (0: none, or all used)."""
        with self.store.read() as tx:
            return tx.remaining(citizen_id)
