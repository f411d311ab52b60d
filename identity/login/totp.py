"""The optional second factor: time-based one-time passwords (RFC 6238), framework-free.

A citizen enrols from the account page: Jati draws a 160-bit secret (RFC 4226 §4 R6
recommends 160 bits), shows it as an ``otpauth://`` URI and as base32, and enables it only
after the citizen has typed a code the authenticator app computed from it (proof that the
app holds the secret). A wrong code keeps the waiting enrolment (the failure is counted),
and :meth:`SecondFactor.pending_enrolment` gives the same secret to show again, until it is
confirmed or :data:`ENROLMENT_LIFETIME` has passed. From then on, the login page asks for a
code after the password; the session then carries ``amr`` ``["pwd", "otp"]`` (RFC 8176 §2)
and the multi-factor ``acr``.

Parameters (RFC 6238 §4, and what every authenticator app supports): HMAC-SHA-1, 6 digits,
30-second steps from the Unix epoch, computed by ``cryptography``'s :class:`TOTP`. A code is
accepted for the current step and one step either side (RFC 6238 §5.2: "at most one time
step" of network delay and clock drift).

Checks, in the order they run (one transaction, the citizen's row locked):

1. a lockout in force answers :class:`~identity.errors.Throttled` without looking at the code;
2. the code is six ASCII digits and matches a step in the window;
3. the step is later than the last step accepted for this citizen: a code, once used, is
   refused afterwards, and so is any earlier code (RFC 6238 §5.2: the verifier "MUST NOT
   accept the second attempt of the same OTP after the successful validation");
4. failures are counted; :data:`MAX_FAILURES` in a row lock the factor for a minute, each
   further lockout doubling up to an hour (a six-digit code with a three-step window gives a
   guess a 3-in-a-million chance: throttling keeps the rate of guesses low).

The secret is stored sealed with AES-256-GCM (:class:`identity.citizens.field_crypto.FieldCipher`)
under a key derived from the master key, bound to the citizen id, never in the clear.
Nothing here logs a secret, a code or a citizen id.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from audit.entry import Action
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.records import SELF
from identity.errors import InvalidCode, NoEnrolment, SecondFactorEnabled, Throttled
from identity.keys.derived_keys import TOTP_SECRET_KEY, DerivedKeyHolder
from identity.login.account_events import AccountEvents

__all__ = [
    "ENROLMENT_LIFETIME",
    "MAX_FAILURES",
    "SECRET_BYTES",
    "TOTP_DIGITS",
    "TOTP_STEP_SECONDS",
    "TOTP_WINDOW",
    "Enrolment",
    "InvalidCode",
    "NoEnrolment",
    "SecondFactor",
    "SecondFactorEnabled",
    "TotpRecord",
    "TotpSealer",
    "TotpStore",
    "TotpTransaction",
    "lockout_for",
    "matching_step",
    "provisioning_uri",
    "time_step",
]

log = logging.getLogger(__name__)

TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
#: Steps accepted either side of the current one (RFC 6238 §5.2).
TOTP_WINDOW = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226 §4 R6
#: A secret shown for enrolment must be confirmed within this time.
ENROLMENT_LIFETIME = timedelta(minutes=10)
MAX_FAILURES = 5
FIRST_LOCKOUT = timedelta(minutes=1)
MAX_LOCKOUT = timedelta(hours=1)
ISSUER_NAME = "Jati"
_SEALED_FIELD = "totp-secret"
_CODE = re.compile(r"[0-9]{6}")


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class TotpRecord:
    """A citizen's second factor as stored. ``enabled_at`` is None while the enrolment
    waits for its confirming code; ``last_step`` is the last time step accepted."""

    citizen_id: str
    sealed_secret: bytes = field(repr=False)
    created_at: datetime
    enabled_at: datetime | None = None
    last_step: int | None = None
    failures: int = 0
    lockouts: int = 0
    locked_until: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the account page shows once: the secret in base32 and as an ``otpauth://`` URI
    (the key URI format authenticator apps read). ``repr`` hides both."""

    secret_base32: str = field(repr=False)
    uri: str = field(repr=False)


# ---------------------------------------------------------------- collaborators


class TotpTransaction(Protocol):
    @property
    def bind(self) -> Any:
        """What the audit appender writes through, so that an entry joins this transaction."""
        ...

    def load(self, citizen_id: str, *, for_update: bool = False) -> TotpRecord | None: ...

    def save(self, record: TotpRecord) -> None:
        """Insert the record, or replace the citizen's existing one."""
        ...

    def delete(self, citizen_id: str) -> None: ...


class TotpStore(Protocol):
    def write(self) -> AbstractContextManager[TotpTransaction]: ...

    def read(self) -> AbstractContextManager[TotpTransaction]: ...


class TotpSealer(DerivedKeyHolder):
    """Seals TOTP secrets with AES-256-GCM under a key derived from the master key, bound to
    the citizen id (a sealed secret copied to another citizen does not open)."""

    __slots__ = ()
    LABEL = TOTP_SECRET_KEY

    def seal(self, citizen_id: str, secret: bytes) -> bytes:
        return FieldCipher.seal(self._key, citizen_id, _SEALED_FIELD, _base32(secret))

    def open(self, citizen_id: str, sealed: bytes) -> bytes:
        text = FieldCipher.open(self._key, citizen_id, _SEALED_FIELD, sealed)
        return base64.b32decode(text + "=" * (-len(text) % 8))


# ---------------------------------------------------------------- RFC 6238


def _base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def _totp(secret: bytes) -> TOTP:
    # HMAC-SHA-1 is what RFC 6238 and every authenticator app use; HMAC needs no collision
    # resistance (RFC 4226 Appendix A).
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP_SECONDS, enforce_key_length=True)  # noqa: S303


def time_step(now: datetime) -> int:
    """RFC 6238 §4.2: T = floor((Unix time - T0) / X), with T0 = 0 and X = 30."""
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def matching_step(secret: bytes, code: str, now: datetime, window: int = TOTP_WINDOW) -> int | None:
    """The time step within ``window`` steps of ``now`` whose code is ``code``, or None.

    The comparison is cryptography's constant-time one; a code that is not six ASCII digits
    matches nothing.
    """
    if not _CODE.fullmatch(code):
        return None
    totp = _totp(secret)
    current = time_step(now)
    for step in (current, *(current + d for k in range(1, window + 1) for d in (-k, k))):
        try:
            totp.verify(code.encode("ascii"), step * TOTP_STEP_SECONDS)
        except InvalidToken:
            continue
        return step
    return None


def provisioning_uri(secret: bytes, *, account: str, issuer: str = ISSUER_NAME) -> str:
    """The ``otpauth://totp/...`` key URI (secret, issuer, SHA1, 6 digits, 30 s)."""
    return _totp(secret).get_provisioning_uri(account, issuer)


def lockout_for(lockouts: int) -> timedelta:
    """How long the ``lockouts``-th lockout in a row lasts: 1 minute, doubling, at most 1 h."""
    seconds = FIRST_LOCKOUT.total_seconds() * 2 ** max(0, min(lockouts - 1, 12))
    return min(timedelta(seconds=seconds), MAX_LOCKOUT)


def normalized_code(code: str) -> str:
    """The code as typed, without the blanks apps put in the middle ("123 456")."""
    return "".join(code.split()) if len(code) <= 32 else code


# ---------------------------------------------------------------- the service


class SecondFactor:
    """Enrols, checks and removes citizens' TOTP second factors (``Services.second_factor``).

    Args:
        store: where records live (:class:`identity.storage.totp.SqlTotpStore`).
        sealer: seals the secrets.
        clock: the current UTC time, read once per operation.
        account: the account name in the ``otpauth://`` URI (the issuer's host: never a
            NIK or a name, which an authenticator app might sync elsewhere).
    """

    def __init__(
        self,
        *,
        store: TotpStore,
        sealer: TotpSealer,
        clock: Callable[[], datetime],
        account: str,
        events: AccountEvents | None = None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.account = account
        self.events = events

    def is_enabled(self, citizen_id: str) -> bool:
        with self.store.read() as tx:
            record = tx.load(citizen_id)
        return record is not None and record.enabled

    def begin_enrolment(self, citizen_id: str, *, replace: bool = False) -> Enrolment:
        """Draw a new secret and keep it waiting for its confirming code (replacing an
        earlier enrolment that was never confirmed). ``replace``: an enabled factor is
        removed first, in the same transaction and audited like a factor turned off (the
        caller has checked something that stands for its code: a recovery-code sign-in
        after a lost phone).

        Raises:
            SecondFactorEnabled: one is enabled already and ``replace`` is false (disable it
                first, with a code).
        """
        now = self.clock()
        secret = os.urandom(SECRET_BYTES)
        with self.store.write() as tx:
            existing = tx.load(citizen_id, for_update=True)
            if existing is not None and existing.enabled:
                if not replace:
                    raise SecondFactorEnabled()
                tx.delete(citizen_id)
                self._audit(tx, citizen_id, now, Action.ERASE)
            tx.save(
                TotpRecord(
                    citizen_id=citizen_id,
                    sealed_secret=self.sealer.seal(citizen_id, secret),
                    created_at=now,
                )
            )
        return Enrolment(_base32(secret), provisioning_uri(secret, account=self.account))

    def pending_enrolment(self, citizen_id: str) -> Enrolment | None:
        """The enrolment still waiting for its confirming code (the same secret
        :meth:`begin_enrolment` drew), to show again after a wrong code; None when none
        waits, one is enabled, or it is older than :data:`ENROLMENT_LIFETIME`. Whoever could
        call this could begin a new enrolment anyway: it opens nothing more."""
        with self.store.read() as tx:
            record = tx.load(citizen_id)
        if (
            record is None
            or record.enabled
            or self.clock() - record.created_at > ENROLMENT_LIFETIME
        ):
            return None
        secret = self.sealer.open(citizen_id, record.sealed_secret)
        return Enrolment(_base32(secret), provisioning_uri(secret, account=self.account))

    def confirm_enrolment(self, citizen_id: str, code: str) -> None:
        """Enable the waiting enrolment once ``code`` matches its secret.

        Raises:
            NoEnrolment: nothing waits, or the enrolment is older than 10 minutes.
            InvalidCode, Throttled.
        """
        self._check(citizen_id, code, enabling=True)
        log.info("second factor enabled")

    def verify(self, citizen_id: str, code: str) -> None:
        """Check a login's code (the step is then used up).

        Raises:
            NoEnrolment: the citizen has no enabled second factor.
            InvalidCode, Throttled.
        """
        self._check(citizen_id, code, enabling=False)

    def disable(self, citizen_id: str, code: str) -> None:
        """Remove the second factor after a valid code (whoever holds only the session
        cannot remove it).

        Raises:
            NoEnrolment, InvalidCode, Throttled.
        """
        self._check(citizen_id, code, enabling=False, remove=True)
        log.info("second factor disabled")

    def forget(self, citizen_id: str) -> None:
        """Drop a citizen's record without a code (after an erasure)."""
        with self.store.write() as tx:
            tx.delete(citizen_id)

    def _check(self, citizen_id: str, code: str, *, enabling: bool, remove: bool = False) -> None:
        now = self.clock()
        failure: Exception | None = None
        with self.store.write() as tx:
            record = tx.load(citizen_id, for_update=True)
            if record is None or record.enabled == enabling:
                raise NoEnrolment(
                    "no enrolment is waiting for a code; start again"
                    if enabling
                    else "no second factor is enrolled"
                )
            if enabling and now - record.created_at > ENROLMENT_LIFETIME:
                tx.delete(citizen_id)  # committed, then refused below
                failure = NoEnrolment("the enrolment has expired; start again")
            elif record.locked_until is not None and now < record.locked_until:
                wait = (record.locked_until - now).total_seconds()
                raise Throttled(int(wait) + (0 if wait.is_integer() else 1))
            else:
                failure = self._attempt(tx, record, code, now, remove=remove)
        if failure is not None:
            log.info("second factor refused: %s", getattr(failure, "code", "error"))
            raise failure

    def _attempt(
        self, tx: TotpTransaction, record: TotpRecord, code: str, now: datetime, *, remove: bool
    ) -> Exception | None:
        """Check ``code`` against the record and write the outcome; returns the error to
        raise once the transaction has committed (a failure must stay counted)."""
        secret = self.sealer.open(record.citizen_id, record.sealed_secret)
        step = matching_step(secret, normalized_code(code), now)
        used = record.last_step is not None and step is not None and step <= record.last_step
        if step is None or used:
            failures = record.failures + 1
            if failures >= MAX_FAILURES:
                lockouts = record.lockouts + 1
                tx.save(
                    replace(
                        record,
                        failures=0,
                        lockouts=lockouts,
                        locked_until=now + lockout_for(lockouts),
                    )
                )
            else:
                tx.save(replace(record, failures=failures))
            return InvalidCode()
        if remove:
            tx.delete(record.citizen_id)
            self._audit(tx, record.citizen_id, now, Action.ERASE)
            return None
        if record.enabled_at is None:  # this code confirms the enrolment
            self._audit(tx, record.citizen_id, now, Action.CREATE)
        tx.save(
            replace(
                record,
                enabled_at=record.enabled_at or now,
                last_step=step,
                failures=0,
                lockouts=0,
                locked_until=None,
            )
        )
        return None

    def _audit(self, tx: TotpTransaction, citizen_id: str, now: datetime, action: Action) -> None:
        """The account-security entry of a second factor turned on (``create``) or off
        (``erase``), in the transaction that makes the change, so that the citizen sees it in
        their log (issue 18); a login's code is the login's own entry."""
        if self.events is not None:
            self.events.append(tx.bind, citizen_id, now, actor=SELF, action=action, items=("totp",))
