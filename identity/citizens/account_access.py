"""Getting into an account and back in (issue 18): registration with an activation code,
activation with a password, signing in with a recovery code, and the operator's access
reset. Framework-free.

Nobody but the citizen chooses the citizen's password. An operator registers the citizen at
the counter with :meth:`AccountAccess.register`, which writes the citizen and the hash of a
one-time activation code (:mod:`identity.login.activation`) in one transaction and returns
the code for display, once. On ``/activate`` the citizen gives their NIK, birth date and the
code (:meth:`~AccountAccess.check_activation`), then sets up a passkey, or a password
(:meth:`~AccountAccess.activate_with_password`), or both. A citizen who lost their phone or
passkey signs in with one of their recovery codes (:mod:`identity.login.recovery_codes`)
after their password (:meth:`~AccountAccess.sign_in_with_recovery_code`) or, without a
password, with their NIK and birth date (:meth:`~AccountAccess.recover_without_password`).

Security choices:

- **One answer.** An unknown NIK, an erased citizen, a wrong birth date and a wrong,
  expired, replaced or used code all raise :class:`~identity.errors.ActivationRefused`; an
  unknown NIK reads the activation table as a known one does (for nobody), so the answer
  takes the same work. Only a code that is not in the code format at all is told apart
  (:class:`~identity.errors.MalformedAccessCode`: the format is public), and it is not counted.
- **Throttled like a login.** Every attempt, with an activation or a recovery code, is
  counted before any check with the citizen service's
  :class:`~identity.login.throttle.LoginThrottle`, on the same keys as a password login (the
  NIK's blind index, registered or not, and the client address; NIST SP 800-63B §5.2.2): a
  refusal keeps the attempt as a failure, a locked key answers
  :class:`~identity.errors.Throttled` before anything is read, and a success clears the
  account's counter. Guessing a code of 80 bits is out of reach even without it.
- **The birth date** is compared with the stored one through the one audited access path
  (:meth:`CitizenService.read_personal_data
  <identity.citizens.service.CitizenService.read_personal_data>`, a ``birthdate`` read by the
  citizen, purpose ``account-security``), and only once the code is right: the citizen's
  log shows it, and nobody without the code causes a read.
- **One transaction each.** Activation stores the password hash (made first, outside the
  transaction, on the hashing pool for the async variant) and uses the code up in one
  transaction: a code used meanwhile rolls the password back. The reset clears the password
  hash, runs the citizen service's erasure steps (token families, authorization codes and
  login sessions, TOTP, activation code, recovery codes, passkeys: each ``end_for_erased``
  of :mod:`identity.storage`), audits what it revoked and issues the new code, in one
  transaction; personal data and consents are kept.
- No code, NIK or birth date is logged or put in an exception's message or an audit entry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from audit.entry import Action, Actor, LegalBasis
from identity.citizens.fields import check_password
from identity.citizens.records import Authentication, load_live
from identity.citizens.service import SELF, CitizenService
from identity.errors import (
    ActivationRefused,
    CitizenErased,
    CitizenNotFound,
    RecoveryCodeRefused,
)
from identity.login.access_codes import normalize
from identity.login.account_events import ACCOUNT_SECURITY_PURPOSE, AccountEvents
from identity.login.activation import Activations, ActivationTicket
from identity.login.passkeys import Passkeys
from identity.login.recovery_codes import RecoveryCodes
from identity.login.throttle import AttemptKeys

__all__ = ["AMR_RECOVERY_CODE", "RESET_ITEMS", "AccountAccess"]

log = logging.getLogger(__name__)

#: What an access reset revokes, as its audit entry names it (never a value).
RESET_ITEMS = (
    "password",
    "sessions",
    "tokens",
    "totp",
    "passkey",
    "recovery_codes",
    "activation_code",
)
#: The ``amr`` value of a sign-in with a recovery code, one of Jati's own (OIDC Core §2:
#: "Parties using this claim will need to agree upon the meanings of the values used").
#: None of RFC 8176 §2's registered values fits a look-up secret (NIST SP 800-63B §5.1.2):
#: ``otp`` names codes an authenticator computes (RFC 4226, RFC 6238), and Jati and the apps
#: read ``["pwd", "otp"]`` as a password and an authenticator app, which a code on paper is
#: not; ``kba`` means knowledge questions. The session such a sign-in starts is restricted
#: to the account page, so the value never reaches an app's ID token.
AMR_RECOVERY_CODE = "recovery-code"
_T = TypeVar("_T")
#: The citizen id an unknown NIK's code is looked up for: none has it (ids are 26 characters
#: of base32), so the lookup finds nothing, after the same work as for a real citizen.
_NOBODY = "-"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountAccess:
    """Registration with an activation code, activation, and the operator's access reset
    (``Services.account_access``; see the module docstring)."""

    citizens: CitizenService
    activations: Activations
    recovery_codes: RecoveryCodes
    passkeys: Passkeys

    # ------------------------------------------------------------ registration

    def register(
        self,
        *,
        nik: str,
        name: str,
        birthdate: date,
        email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        actor: Actor,
    ) -> tuple[str, str]:
        """Register a citizen without a password and issue their activation code: (citizen
        id, the code for display, once). Atomic: the citizen, the code's hash and both audit
        entries are written in one transaction.

        Raises:
            InvalidNik, InvalidField, DuplicateNik: as :meth:`CitizenService.register
            <identity.citizens.service.CitizenService.register>` (nothing is written).
        """
        issued: list[str] = []

        def issue(bind: Any, citizen_id: str, now: datetime) -> None:
            issued.append(self.activations.issue(citizen_id, actor=actor, now=now, bind=bind))

        citizen_id = self.citizens.register(
            nik=nik, name=name, birthdate=birthdate, email=email, phone=phone, address=address,
            password=None, actor=actor, then=issue,
        )  # fmt: skip
        return citizen_id, issued[0]

    # ------------------------------------------------------------ activation

    def check_activation(
        self, *, nik: str, birthdate: date, code: str, address: str | None
    ) -> ActivationTicket:
        """The ticket to complete an activation with, if the NIK, the birth date and the
        code belong together. Changes nothing but the throttle's counters (and the audited
        read of the birth date once the code is right).

        ``address`` is the client's address (None: counted against the account alone).

        Raises:
            MalformedAccessCode: ``code`` is not in the code format (not counted).
            Throttled: too many failures for the account or the address (nothing checked).
            ActivationRefused: any other failure (counted).
        """
        return self._by_nik(
            nik,
            code,
            address,
            lambda nik_index, now: self._ticket(nik_index, birthdate, code, now),
            refused=ActivationRefused,
        )

    async def check_activation_async(
        self, *, nik: str, birthdate: date, code: str, address: str | None
    ) -> ActivationTicket:
        """:meth:`check_activation` in a worker thread (it reads and writes the database)."""
        return await asyncio.to_thread(
            self.check_activation, nik=nik, birthdate=birthdate, code=code, address=address
        )

    def activate_with_password(self, ticket: ActivationTicket, password: str) -> Authentication:
        """Set the citizen's first password and use the code up, in one transaction (the
        hash is made before, in the calling thread). Returns the sign-in it amounts to
        (``amr`` ``pwd``), for the page to start a session with.

        Raises:
            InvalidField: the password does not meet the rules (nothing is hashed).
            ActivationRefused: the code was used, replaced or revoked meanwhile, or has
                expired, or the citizen was erased: nothing is written.
        """
        check_password(password)
        return self._set_first_password(ticket, self.citizens.passwords.hash(password))

    async def activate_with_password_async(
        self, ticket: ActivationTicket, password: str
    ) -> Authentication:
        """:meth:`activate_with_password` for the event loop: the hash runs on the hashing
        pool, the transaction in a worker thread.

        Raises:
            Overloaded: the hashing pool is full (nothing is written; the code stays valid).
        """
        check_password(password)
        password_hash = await self.citizens.passwords.hash_async(password)
        return await asyncio.to_thread(self._set_first_password, ticket, password_hash)

    # ------------------------------------------------------------ recovery codes

    def sign_in_with_recovery_code(
        self, citizen_id: str, code: str, *, address: str | None
    ) -> Authentication:
        """After the password step of a citizen with a second factor: one of their recovery
        codes in place of the factor (:meth:`RecoveryCodes.use
        <identity.login.recovery_codes.RecoveryCodes.use>` uses it up and audits it).
        Throttled like a login, on the citizen's NIK index and ``address``. The sign-in it
        amounts to has ``amr`` ``pwd`` and :data:`AMR_RECOVERY_CODE`.

        Raises:
            MalformedAccessCode, Throttled: as :meth:`check_activation`.
            RecoveryCodeRefused: not one of the citizen's unused codes, or the citizen was
                erased (counted).
        """
        normalize(code)
        with self.citizens.store.read() as tx:
            found = tx.load(citizen_id)
        if found is None or found.erased or found.nik_index is None:
            raise RecoveryCodeRefused()

        def use(now: datetime) -> Authentication:
            self.recovery_codes.use(citizen_id, code, actor=SELF, now=now)
            return Authentication(citizen_id, now, amr=("pwd", AMR_RECOVERY_CODE))

        return self._throttled(found.nik_index, address, use, refused=RecoveryCodeRefused)

    def recover_without_password(
        self, *, nik: str, birthdate: date, code: str, address: str | None
    ) -> Authentication:
        """A citizen without a password (passkeys only) who lost their passkeys: NIK, birth
        date and one of their recovery codes. Throttled like a login, on the NIK's index and
        ``address``. The sign-in it amounts to has ``amr`` :data:`AMR_RECOVERY_CODE` alone.

        The code is checked (read only) before the birth date is read (through the audited
        path, as at activation: nobody without a code causes a read), and used up only once
        the birth date matches: a right code with a mistyped birth date is refused and stays
        usable (the attempt counts against the throttle). Of two attempts at once with one
        code, one signs in. A citizen who has a
        password signs in with it instead (:meth:`sign_in_with_recovery_code`): for them this
        answers like an unknown NIK, and their codes are not touched.

        Raises:
            MalformedAccessCode, Throttled: as :meth:`check_activation`.
            RecoveryCodeRefused: any other failure (counted).
        """
        return self._by_nik(
            nik,
            code,
            address,
            lambda nik_index, now: self._recover(nik_index, birthdate, code, now),
            refused=RecoveryCodeRefused,
        )

    # ------------------------------------------------------------ operator's reset

    def reset_access(self, citizen_id: str, *, actor: Actor) -> str:
        """Operator-assisted recovery, once the citizen's identity was checked in person:
        revoke every way into the account and issue a new activation code (returned for
        display, once).

        In one transaction: the password hash is cleared; the citizen service's erasure
        steps end every session, authorization code and token family and delete the TOTP
        secret, the activation code, the recovery codes and the passkeys; the reset is
        audited (``erase`` of :data:`RESET_ITEMS`, purpose ``account-security``, by
        ``actor``); the new code is issued (audited too). Personal data and consents stay.

        Raises:
            CitizenNotFound, CitizenErased (nothing changes).
        """
        citizens = self.citizens
        now = citizens.clock()
        events = AccountEvents(audit=citizens.audit, pseudonymizer=citizens.pseudonymizer)
        with citizens.store.write() as tx:
            load_live(tx, citizen_id)
            tx.set_password_hash(citizen_id, None)
            citizens.end_issued(tx.bind, citizen_id, now=now)
            events.append(
                tx.bind, citizen_id, now, actor=actor, action=Action.ERASE, items=RESET_ITEMS
            )
            code = self.activations.issue(citizen_id, actor=actor, now=now, bind=tx.bind)
        log.info("account access reset by an operator; a new activation code was issued")
        return code

    # ------------------------------------------------------------ the steps

    def _by_nik(
        self,
        nik: str,
        code: str,
        address: str | None,
        check: Callable[[bytes, datetime], _T],
        *,
        refused: type[Exception],
    ) -> _T:
        """A code typed with a NIK: MalformedAccessCode (not counted) when it is not in the
        code format, else ``check(the NIK's blind index, now)`` counted by
        :meth:`_throttled`."""
        normalize(code)
        nik_index = self.citizens.cipher.nik_index(nik.strip())
        return self._throttled(
            nik_index, address, lambda now: check(nik_index, now), refused=refused
        )

    def _throttled(
        self,
        nik_index: bytes,
        address: str | None,
        attempt: Callable[[datetime], _T],
        *,
        refused: type[Exception],
    ) -> _T:
        """``attempt(now)`` counted by the login throttle: a locked key raises Throttled
        before anything is read; a ``refused`` failure counts; any other error is not
        counted; a success clears the account's counter."""
        throttle = self.citizens.throttle
        now = self.citizens.clock()
        keys = self._reserve(nik_index, address, now)
        try:
            result = attempt(now)
        except refused:
            log.info("attempt refused: %s", refused.__name__)
            if keys is not None and throttle is not None:
                throttle.failed(keys, now=now)
            raise
        except BaseException:
            if keys is not None and throttle is not None:
                throttle.cancelled(keys, now=now)
            raise
        if keys is not None and throttle is not None:
            throttle.succeeded(keys, now=now)
        return result

    def _reserve(self, nik_index: bytes, address: str | None, now: datetime) -> AttemptKeys | None:
        """Count the attempt (raises Throttled before anything is checked)."""
        throttle = self.citizens.throttle
        if throttle is None:
            return None
        if address is None:
            keys = AttemptKeys(throttle.account_key(nik_index), None)
        else:
            keys = throttle.keys(nik_index=nik_index, address=address)
        throttle.reserve(keys, now=now)
        return keys

    def _ticket(
        self, nik_index: bytes, birthdate: date, code: str, now: datetime
    ) -> ActivationTicket:
        ticket = self.activations.check(self._citizen_of(nik_index), code, now=now)
        self._check_birthdate(ticket.citizen_id, birthdate, refused=ActivationRefused)
        return ticket

    def _recover(
        self, nik_index: bytes, birthdate: date, code: str, now: datetime
    ) -> Authentication:
        citizen_id = self._citizen_of(nik_index, without_password=True)
        if not self.recovery_codes.check(citizen_id, code):
            raise RecoveryCodeRefused()
        self._check_birthdate(citizen_id, birthdate, refused=RecoveryCodeRefused)
        self.recovery_codes.use(citizen_id, code, actor=SELF, now=now)
        return Authentication(citizen_id, now, amr=(AMR_RECOVERY_CODE,))

    def _citizen_of(self, nik_index: bytes, *, without_password: bool = False) -> str:
        """The id of the live citizen of this NIK (with no password, if asked), or
        :data:`_NOBODY`: their codes are then looked up for nobody, with the same work."""
        with self.citizens.store.read() as tx:
            found = tx.find_by_nik_index(nik_index)
        if found is None or found.erased:
            return _NOBODY
        return _NOBODY if without_password and found.password_hash is not None else found.id

    def _check_birthdate(
        self, citizen_id: str, birthdate: date, *, refused: type[Exception]
    ) -> None:
        """Raise ``refused`` unless ``birthdate`` is the citizen's, read through the one
        audited path (purpose ``account-security``); also when they were erased meanwhile."""
        try:
            stored = self.citizens.read_personal_data(
                citizen_id,
                ("birthdate",),
                actor=SELF,
                purpose=ACCOUNT_SECURITY_PURPOSE,
                legal_basis=LegalBasis.PUBLIC_TASK,
            )
        except (CitizenNotFound, CitizenErased):  # erased since the lookup
            raise refused() from None
        if stored["birthdate"] != birthdate.isoformat():
            raise refused()

    def _set_first_password(self, ticket: ActivationTicket, password_hash: str) -> Authentication:
        citizens = self.citizens
        now = citizens.clock()
        with citizens.store.write() as tx:
            found = tx.load(ticket.citizen_id, for_update=True)
            if found is None or found.erased:
                raise ActivationRefused()
            tx.set_password_hash(ticket.citizen_id, password_hash)
            self.activations.complete(ticket, actor=SELF, now=now, password_set=True, bind=tx.bind)
        log.info("account activated with a password")
        return Authentication(ticket.citizen_id, now, amr=("pwd",))
