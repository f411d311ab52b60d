"""Staff accounts (issue 20): made by ``jati staff add`` with an activation code, activated in
the console with a password and a mandatory second factor (RFC 6238 TOTP), signed in with
both, disabled or reset by ``jati staff disable|reset-access``.

- **Activation**: the code is an 80-bit access code (:mod:`identity.login.access_codes`),
  stored as its SHA-256, valid for ``JATI_ACTIVATION_LIFETIME``, used once. The console then
  takes a password of at least :data:`MIN_PASSWORD_CHARS` characters (argon2id) and a TOTP
  secret the staff member's app proved it holds by a code; both are needed to sign in.
- **Sign-in**: the email, the password and a code, checked together; one answer for every
  refusal. :data:`MAX_FAILURES` refusals in a row lock the account for a while
  (:func:`identity.login.totp.lockout_for`, doubling to an hour); an unknown or inactive
  account costs the same hash. A code is never accepted twice (its time step is kept).
- **Audited**: every act is an audit entry whose actor is the staff member
  (``staff:<id>:<role>``) or the operator at the command line: accounts made, activated,
  disabled and reset, sign-ins and refusals. The entries name no citizen and hold no
  secret.

The TOTP secret is sealed like a citizen's (AES-256-GCM, bound to ``staff:<id>``); nothing
here logs an email, a password, a code or a secret.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from audit import AuditAppender
from audit.entry import Action, Actor, AuditEntry, Outcome
from identity.citizens.passwords import MAX_PASSWORD_BYTES, PasswordService
from identity.errors import Conflict, InvalidCredentials, InvalidInput, NotFound, Throttled
from identity.login.access_codes import code_hash, format_code, new_code
from identity.login.totp import (
    SECRET_BYTES,
    TotpSealer,
    lockout_for,
    matching_step,
    normalized_code,
    provisioning_uri,
)
from identity.staff.records import StaffMember, StaffRole, checked_email, checked_name

__all__ = [
    "MAX_FAILURES",
    "MIN_PASSWORD_CHARS",
    "StaffAccounts",
    "StaffStore",
    "StaffTransaction",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 12
MAX_FAILURES = 5
MAX_APPS = 50
#: The audit purposes of the console's own acts (no citizen's data is processed).
CONSOLE_PURPOSE = "console-access"
ADMINISTRATION_PURPOSE = "staff-administration"
ACCOUNT_ITEM = "staff_account"
SESSION_ITEM = "console_session"


class StaffTransaction(Protocol):
    @property
    def bind(self) -> Any:
        """Where the audit appender writes, so that an entry commits with the change."""
        ...

    def add(self, member: StaffMember) -> bool:
        """Insert a new account; False when its email is taken."""
        ...

    def get(self, staff_id: str, *, for_update: bool = False) -> StaffMember | None: ...
    def by_email(self, email: str, *, for_update: bool = False) -> StaffMember | None: ...
    def by_activation(self, digest: str, *, for_update: bool = False) -> StaffMember | None: ...
    def list(self) -> list[StaffMember]: ...
    def save(self, member: StaffMember) -> None: ...
    def delete_sessions_of(self, staff_id: str) -> int: ...


class StaffStore(Protocol):
    def write(self) -> AbstractContextManager[StaffTransaction]: ...
    def read(self) -> AbstractContextManager[StaffTransaction]: ...


class StaffAccounts:
    """The staff accounts (``Services.staff``)."""

    def __init__(
        self,
        *,
        store: StaffStore,
        passwords: PasswordService,
        sealer: TotpSealer,
        audit: AuditAppender,
        clock: Callable[[], datetime],
        activation_lifetime: timedelta,
        app_exists: Callable[[str], bool],
        totp_account: str,
    ) -> None:
        self.store = store
        self.passwords = passwords
        self.sealer = sealer
        self.audit = audit
        self.clock = clock
        self.activation_lifetime = activation_lifetime
        self.app_exists = app_exists
        self.totp_account = totp_account

    # ------------------------------------------------------------ the command line

    def add(
        self, *, name: str, email: str, role: str, apps: Sequence[str], actor: Actor
    ) -> tuple[StaffMember, str]:
        """A new account and its activation code (shown once, formatted).

        Raises:
            InvalidInput: a bad name, email or role; apps for a role other than DPO, or an
                app that is not registered. A DPO of no app is the platform's: Jati's own
                controller's officer, who answers the requests to Jati itself.
            Conflict: the email has an account already.
        """
        try:
            staff_role = StaffRole(role)
        except ValueError:
            raise InvalidInput("the role is operator, dpo or auditor") from None
        scoped = tuple(dict.fromkeys(apps))
        if staff_role is not StaffRole.DPO and scoped:
            raise InvalidInput("only a data protection officer is scoped to apps")
        if len(scoped) > MAX_APPS or not all(self.app_exists(a) for a in scoped):
            raise InvalidInput("every --app must be a registered relying app")
        now = self.clock()
        code = new_code()
        member = StaffMember(
            id=_new_id(), name=checked_name(name), email=checked_email(email),
            role=staff_role, apps=scoped, created_at=now, activation_hash=code_hash(code),
            activation_expires_at=now + self.activation_lifetime,
        )  # fmt: skip
        with self.store.write() as tx:
            if not tx.add(member):
                raise Conflict("a staff account with this email exists")
            self._record(tx, now, actor, Action.CREATE, purpose=ADMINISTRATION_PURPOSE,
                         target=member)  # fmt: skip
        return member, format_code(code)

    def list(self) -> list[StaffMember]:
        with self.store.read() as tx:
            return tx.list()

    def get(self, staff_id: str) -> StaffMember:
        """Raises: NotFound."""
        with self.store.read() as tx:
            member = tx.get(staff_id[:32])
        if member is None:
            raise NotFound("no staff account with this id")
        return member

    def disable(self, staff_id: str, *, actor: Actor) -> StaffMember:
        """Disable an account for good and end its sessions. Raises: NotFound."""
        now = self.clock()
        with self.store.write() as tx:
            member = self._locked(tx, staff_id)
            member = replace(
                member, disabled_at=member.disabled_at or now, activation_hash=None,
                activation_expires_at=None,
            )  # fmt: skip
            tx.save(member)
            tx.delete_sessions_of(member.id)
            self._record(tx, now, actor, Action.ERASE, purpose=ADMINISTRATION_PURPOSE,
                         target=member)  # fmt: skip
        return member

    def reset_access(self, staff_id: str, *, actor: Actor) -> str:
        """A lost phone or password: the password and second factor go, every session ends,
        and a new activation code is returned (formatted, shown once). Raises: NotFound, and
        Conflict for a disabled account."""
        now = self.clock()
        code = new_code()
        with self.store.write() as tx:
            member = self._locked(tx, staff_id)
            if member.disabled_at is not None:
                raise Conflict("this staff account is disabled")
            tx.save(
                replace(
                    member, password_hash=None, sealed_totp=None, totp_last_step=None,
                    activation_hash=code_hash(code), failures=0, locked_until=None,
                    activation_expires_at=now + self.activation_lifetime,
                )
            )  # fmt: skip
            tx.delete_sessions_of(member.id)
            self._record(tx, now, actor, Action.UPDATE, purpose=ADMINISTRATION_PURPOSE,
                         target=member)  # fmt: skip
        return format_code(code)

    # ------------------------------------------------------------ activation

    def check_activation(self, email: str, code: str) -> StaffMember:
        """The account an activation code opens (nothing changes yet).

        Raises:
            InvalidCredentials: a wrong, used or expired code, another account's, or a
                disabled account; all alike.
        """
        try:
            digest, address = code_hash(code), checked_email(email)
        except InvalidInput:
            raise InvalidCredentials() from None
        with self.store.read() as tx:
            member = tx.by_activation(digest)
        now = self.clock()
        if (
            member is None
            or not secrets.compare_digest(member.email, address)
            or member.disabled_at is not None
            or member.activation_expires_at is None
            or now >= member.activation_expires_at
        ):
            raise InvalidCredentials()
        return member

    def new_secret(self) -> tuple[str, str]:
        """A fresh TOTP secret (base32, unpadded) and its ``otpauth://`` URI for the staff
        member's app."""
        secret = secrets.token_bytes(SECRET_BYTES)
        text = base64.b32encode(secret).decode("ascii").rstrip("=")
        return text, provisioning_uri(secret, account=self.totp_account)

    async def activate(
        self, member: StaffMember, *, password: str, secret_base32: str, code: str,
        activation: str,
    ) -> None:  # fmt: skip
        """Set the password and the second factor, once the app's ``code`` proves it holds
        the secret (``secret_base32``, as :meth:`new_secret` gave it); the activation code
        (``activation``, checked again) is used up.

        Raises:
            InvalidInput: a password shorter than :data:`MIN_PASSWORD_CHARS`.
            InvalidCredentials: a wrong TOTP code, or the activation no longer valid.
        """
        if len(password) < MIN_PASSWORD_CHARS or len(password.encode()) > MAX_PASSWORD_BYTES:
            raise InvalidInput(
                f"a password is at least {MIN_PASSWORD_CHARS} characters"
                f" and at most {MAX_PASSWORD_BYTES} bytes"
            )
        now = self.clock()
        try:
            secret = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
        except ValueError:
            raise InvalidCredentials() from None
        step = matching_step(secret, normalized_code(code), now)
        if step is None:
            raise InvalidCredentials()
        password_hash = await self.passwords.hash_async(password)
        with self.store.write() as tx:
            current = tx.get(member.id, for_update=True)
            if (
                current is None
                or current.disabled_at is not None
                or current.activation_hash is None
                or current.activation_expires_at is None
                or now >= current.activation_expires_at
                or not secrets.compare_digest(current.activation_hash, code_hash(activation))
            ):
                raise InvalidCredentials()
            tx.save(
                replace(
                    current, password_hash=password_hash, totp_last_step=step,
                    sealed_totp=self.sealer.seal(f"staff:{current.id}", secret),
                    activation_hash=None, activation_expires_at=None, failures=0,
                )
            )  # fmt: skip
            self._record(tx, now, current.actor, Action.UPDATE, purpose=CONSOLE_PURPOSE)

    # ------------------------------------------------------------ sign-in

    async def authenticate(self, email: str, password: str, code: str) -> StaffMember:
        """The staff member whose email, password and TOTP code these are.

        Raises:
            Throttled: the account is locked after repeated refusals (nothing checked).
            Overloaded: the hashing pool is full.
            InvalidCredentials: anything else wrong, all alike.
        """
        try:
            address = checked_email(email)
        except InvalidInput:
            address = ""
        with self.store.read() as tx:
            found = tx.by_email(address) if address else None
        now = self.clock()
        if found is not None and found.locked_until is not None and now < found.locked_until:
            raise Throttled(retry_after=max(1, int((found.locked_until - now).total_seconds())))
        stored_hash = found.password_hash if found is not None and found.active else None
        verification = await self.passwords.verify_async(stored_hash, password)
        if found is None or not found.active:
            raise InvalidCredentials()
        step = None
        if verification.ok and found.sealed_totp is not None:
            secret = self.sealer.open(f"staff:{found.id}", found.sealed_totp)
            step = matching_step(secret, normalized_code(code), now)
        return self._finish(found.id, now, step if verification.ok else None)

    def _finish(self, staff_id: str, now: datetime, step: int | None) -> StaffMember:
        with self.store.write() as tx:
            member, fresh = _counted(self._locked(tx, staff_id), now, step)
            tx.save(member)
            outcome = Outcome.SUCCESS if fresh else Outcome.DENIED
            self._record(tx, now, member.actor, Action.LOGIN, purpose=CONSOLE_PURPOSE,
                         outcome=outcome)  # fmt: skip
        if not fresh:
            log.info("console sign-in refused")
            raise InvalidCredentials()
        return member

    def reauthenticate(self, staff_id: str, code: str, *, act: str) -> StaffMember:
        """A fresh authenticator code before a destructive act (``act``: its data item,
        such as ``signing_keys``), recorded as an authentication with its outcome and
        counted like a sign-in; the act is recorded by :meth:`acted` once done.

        Raises:
            Throttled: the account is locked.
            InvalidCredentials: a wrong or used code, or an account no longer active.
        """
        now = self.clock()
        with self.store.read() as tx:
            member = tx.get(staff_id[:32])
        if member is None or not member.active or member.sealed_totp is None:
            raise InvalidCredentials()
        if member.locked_until is not None and now < member.locked_until:
            raise Throttled(retry_after=max(1, int((member.locked_until - now).total_seconds())))
        secret = self.sealer.open(f"staff:{member.id}", member.sealed_totp)
        step = matching_step(secret, normalized_code(code), now)
        with self.store.write() as tx:
            current, fresh = _counted(self._locked(tx, member.id), now, step)
            tx.save(current)
            entry = AuditEntry(
                time=now, actor=current.actor, action=Action.LOGIN, purpose=CONSOLE_PURPOSE,
                outcome=Outcome.SUCCESS if fresh else Outcome.DENIED, data_items=(act,),
                citizen_visible=False,
            )  # fmt: skip
            self.audit.append(tx.bind, entry, queued_at=now)
        if not fresh:
            raise InvalidCredentials()
        return current

    def acted(
        self, member: StaffMember, item: str, *, outcome: Outcome,
        action: Action = Action.UPDATE, target: str | None = None,
    ) -> None:  # fmt: skip
        """Record a console act of ``member`` on ``item`` (a key rotation, an app registered)
        and its outcome; ``target``: the id of what it changed (an app's client id)."""
        now = self.clock()
        with self.store.write() as tx:
            entry = AuditEntry(
                time=now, actor=member.actor, action=action, outcome=outcome,
                purpose=CONSOLE_PURPOSE, data_items=(item,), citizen_visible=False,
                request_id=target,
            )  # fmt: skip
            self.audit.append(tx.bind, entry, queued_at=now)

    def signed_out(self, member: StaffMember) -> None:
        """Record that ``member`` ended their console session."""
        now = self.clock()
        with self.store.write() as tx:
            self._record(tx, now, member.actor, Action.ERASE, purpose=CONSOLE_PURPOSE,
                         item=SESSION_ITEM)  # fmt: skip

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _locked(tx: StaffTransaction, staff_id: str) -> StaffMember:
        member = tx.get(staff_id[:32], for_update=True)
        if member is None:
            raise NotFound("no staff account with this id")
        return member

    def _record(
        self, tx: StaffTransaction, now: datetime, actor: Actor, action: Action, *,
        purpose: str, outcome: Outcome = Outcome.SUCCESS, item: str = ACCOUNT_ITEM,
        target: StaffMember | None = None,
    ) -> None:  # fmt: skip
        """An entry of a console or administration act; ``target``: the staff account an
        administration act changed, named by its id (in ``request_id``) and its role."""
        items = (item, f"role:{target.role.value}") if target is not None else (item,)
        entry = AuditEntry(
            time=now, actor=actor, action=action, outcome=outcome, purpose=purpose,
            data_items=items, citizen_visible=False,
            request_id=target.id if target is not None else None,
        )  # fmt: skip
        self.audit.append(tx.bind, entry, queued_at=now)


def _counted(member: StaffMember, now: datetime, step: int | None) -> tuple[StaffMember, bool]:
    """``member`` after an attempt whose code matched ``step`` (None: a wrong password or
    code), read under the row lock; and whether it passed. A lock still in force holds
    (attempts already in flight cannot lift it) and refuses the attempt uncounted; every
    :data:`MAX_FAILURES`-th failure in a row sets a new, longer one."""
    if member.locked_until is not None and now < member.locked_until:
        return member, False
    if step is not None and (member.totp_last_step or -1) < step:
        return replace(member, failures=0, locked_until=None, totp_last_step=step), True
    failures = member.failures + 1
    locked = now + lockout_for(failures // MAX_FAILURES) if failures % MAX_FAILURES == 0 else None
    return replace(member, failures=failures, locked_until=locked), False


def _new_id() -> str:
    """128 random bits, base32 (26 lowercase characters)."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()
