"""Passkeys (WebAuthn Level 3): citizens register them and sign in with them, framework-free.

The ceremonies' options, state and checks are :mod:`identity.login.webauthn`'s (over Yubico's
``fido2``); this service keeps the credential records, applies the relying party's rules and
audits every account-security event in the transaction that makes it.

- **Registration**: a discoverable credential with user verification required, attestation
  ``none``, ES256 / EdDSA / RS256, and ``excludeCredentials`` the citizen's passkeys. The user
  handle is 64 random bytes drawn once per citizen and stored (§14.6.1 recommends 64 random
  bytes; never the citizen id, a NIK or a name). A credential id registered already, to
  anyone, is refused (§7.1). At most :data:`MAX_PASSKEYS` per citizen.
- **Sign-in**: discoverable (no ``allowCredentials``), user verification required. The
  credential is found by its id; the response's ``userHandle`` must be the one stored for the
  credential's citizen (§7.2); the assertion is verified; BE must be as registered (§6.1.3),
  BS is stored as it comes. Then the signature-counter rule (§6.1.1, §7.2 step 22): if the
  stored or the new count is non-zero and the new one is not greater, the authenticator may
  have been cloned. Jati **refuses** the sign-in (:class:`ClonedAuthenticator`) and appends a
  *denied* entry that commits although the sign-in fails; the stored count is left as it is.
- **Replay.** Each ceremony's state (a JSON object: challenge, ceremony, expiry 5 minutes
  ahead, for a registration the citizen) is for one response: a ceremony that succeeds, or
  that is refused as cloned, spends its challenge (its SHA-256 kept until the expiry) in the
  same transaction, so the same response sent again is :class:`PasskeyReplayed` whatever the
  counter (synced passkeys always report 0, so the counter alone would not catch it). What the
  caller must do: keep the state where the browser cannot change it (sealed in a short-lived
  cookie), delete it after every attempt, and for a registration pass the session's citizen
  as ``citizen_id`` so that a state is not carried into another session.
- ``amr`` (RFC 8176 §2): ``user`` (UP: "user presence test"), ``mfa`` (UV: the authenticator
  checked a PIN or a biometric before using the key, so possession came with something the
  citizen knows or is, a multi-factor cryptographic authenticator in NIST SP 800-63B's terms),
  and the kind of key: ``hwk`` ("proof-of-possession of a hardware-secured key") for a
  device-bound credential (BE clear), ``swk`` (a software-secured key) for a backup-eligible
  one, whose private key by definition leaves the device (§6.1.3 multi-device credential);
  with attestation ``none`` this rests on the authenticator's own flags. ``pin``, ``fpt`` or
  ``face`` are never claimed: Level 3 gives no standard way to learn which verification the
  authenticator used. A passkey sign-in meets ``urn:jati:acr:mfa``.

Audit entries (purpose ``account-security``, UU PDP Art. 20(2)(e) public task, data item
``passkey``): registered (create), removed (erase), signed in (login), cloned signal (login,
denied). Renaming is not audited (a label the citizen chose). Nothing logs or audits a
credential id, a user handle, a challenge or a citizen id.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from fido2.webauthn import AuthenticatorData

from audit import AuditAppender
from audit.entry import Action, Actor, Outcome
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.records import SELF
from identity.errors import (
    ClonedAuthenticator,
    DuplicatePasskey,
    InvalidPasskeyName,
    LastPasskey,
    PasskeyNotFound,
    PasskeyRefused,
    PasskeyReplayed,
    TooManyPasskeys,
)
from identity.login.account_events import AccountEvents
from identity.login.webauthn import CREATE, GET, Challenge, Credential, RelyingParty
from identity.oidc.tokens import ACR_MULTI_FACTOR
from identity.storage.housekeeping import purge_due

__all__ = [
    "MAX_PASSKEYS",
    "Passkey",
    "PasskeyLogin",
    "PasskeyStore",
    "PasskeyTransaction",
    "Passkeys",
    "passkey_amr",
    "passkey_name",
]

log = logging.getLogger(__name__)

USER_HANDLE_BYTES = 64
MAX_PASSKEYS = 20
NAME_MAX = 64
DEFAULT_NAME = "Passkey"
ITEMS = ("passkey",)


@dataclass(frozen=True, slots=True)
class Passkey(Credential):
    """A credential record (§4): the credential (``credential_data`` is the attested
    credential data as fido2 keeps it: AAGUID, credential id, COSE public key), whose it is,
    ``id`` naming it on the account page, the citizen's name for it, registered, last used."""

    id: str
    citizen_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PasskeyLogin:
    """A verified passkey sign-in: who, when, with which passkey, and how (RFC 8176
    ``amr``; the ``acr`` it meets)."""

    citizen_id: str
    passkey_id: str
    auth_time: datetime
    amr: tuple[str, ...]
    acr: str
    backed_up: bool


class PasskeyTransaction(Protocol):
    @property
    def bind(self) -> Any: ...

    def user_handle(self, citizen_id: str) -> bytes | None: ...

    def add_user_handle(self, citizen_id: str, handle: bytes, *, created_at: datetime) -> bytes:
        """Store ``handle`` unless the citizen has one; return the citizen's handle."""
        ...

    def find(self, credential_id: bytes, *, for_update: bool = False) -> Passkey | None: ...

    def get(
        self, citizen_id: str, passkey_id: str, *, for_update: bool = False
    ) -> Passkey | None: ...

    def of_citizen(self, citizen_id: str, *, for_update: bool = False) -> list[Passkey]:
        """The citizen's passkeys, oldest first (``for_update``: locked until the
        transaction ends, so that a count taken to allow a change stays true)."""
        ...

    def add(self, passkey: Passkey) -> bool:
        """Insert; False (nothing written) if the credential id is registered already."""
        ...

    def save(self, passkey: Passkey) -> None:
        """Store a passkey's name, counter, backup state and last use."""
        ...

    def delete(self, citizen_id: str, passkey_id: str) -> bool: ...

    def delete_all(self, citizen_id: str) -> int: ...

    def spend_challenge(self, digest: str, *, expires_at: datetime) -> bool:
        """Remember a challenge's SHA-256 until it expires: True the first time only."""
        ...

    def purge_challenges(self, now: datetime) -> int: ...


class PasskeyStore(Protocol):
    def write(self) -> AbstractContextManager[PasskeyTransaction]: ...

    def read(self) -> AbstractContextManager[PasskeyTransaction]: ...


def passkey_name(name: str | None) -> str:
    """A passkey's name as given, trimmed (``Passkey`` when empty).

    Raises:
        InvalidPasskeyName: longer than 64 characters, or holding control characters.
    """
    text = (name or "").strip()
    if not text:
        return DEFAULT_NAME
    if len(text) > NAME_MAX:
        raise InvalidPasskeyName(f"at most {NAME_MAX} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidPasskeyName("letters, digits, spaces and punctuation only")
    return text


def passkey_amr(credential: Credential) -> tuple[str, ...]:
    """RFC 8176 ``amr`` of a verified ceremony with ``credential`` (user verification is
    always required): see the module docstring."""
    return ("swk" if credential.backup_eligible else "hwk", "user", "mfa")


class Passkeys:
    """Registers citizens' passkeys and signs citizens in with them (``Services.passkeys``).

    Args:
        rp_id: the RP ID, the issuer's host.
        origin: the issuer's origin (``https://host[:port]``), matched exactly.
        store: the credential records (:class:`identity.storage.passkeys.SqlPasskeyStore`).
        audit, pseudonymizer: the audit log, and the citizen's pseudonym in it.
        clock: the current UTC time, read once per operation when ``now`` is not given.
        rp_name: the name authenticators show.
    """

    def __init__(
        self,
        *,
        rp_id: str,
        origin: str,
        store: PasskeyStore,
        audit: AuditAppender,
        pseudonymizer: SubjectPseudonymizer,
        clock: Callable[[], datetime],
        rp_name: str = "Jati",
    ) -> None:
        self.relying_party = RelyingParty(rp_id=rp_id, origin=origin, rp_name=rp_name)
        self.store = store
        self.events = AccountEvents(audit=audit, pseudonymizer=pseudonymizer)
        self.clock = clock

    # ------------------------------------------------------------ registration

    def registration_options(
        self, citizen_id: str, *, user_name: str, display_name: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``PublicKeyCredentialCreationOptionsJSON`` for the citizen, and the state to keep.

        ``user_name`` and ``display_name`` are what the authenticator shows in its account
        picker and may sync elsewhere: the caller chooses them (cut to 64 bytes).

        Raises:
            TooManyPasskeys: the citizen has :data:`MAX_PASSKEYS` already.
        """
        now = self.clock()
        with self.store.read() as tx:
            handle = tx.user_handle(citizen_id)
            existing = tx.of_citizen(citizen_id)
        if len(existing) >= MAX_PASSKEYS:
            raise TooManyPasskeys(MAX_PASSKEYS)
        if handle is None:
            with self.store.write() as tx:
                drawn = secrets.token_bytes(USER_HANDLE_BYTES)
                handle = tx.add_user_handle(citizen_id, drawn, created_at=now)
        return self.relying_party.creation_options(
            user_handle=handle,
            user_name=user_name,
            display_name=display_name,
            exclude=[(p.credential_id, p.transports) for p in existing],
            now=now,
            citizen_id=citizen_id,
        )

    def register(
        self,
        state: dict[str, Any],
        response_json: dict[str, Any],
        *,
        name: str | None = None,
        now: datetime | None = None,
        citizen_id: str | None = None,
        actor: Actor = SELF,
        within: Callable[[Any, Passkey], None] | None = None,
    ) -> Passkey:
        """Verify a registration (§7.1) and store the new passkey, audited.

        ``citizen_id``, when given, must be the citizen the state was made for. ``within``,
        when given, is called with the open transaction's ``bind`` and the new passkey once
        it is added and before the commit: other changes that must commit with it or not at
        all (the activation code used up, :meth:`identity.login.activation.Activations.complete`,
        and the new session); what it raises rolls everything back, the spent challenge
        included.

        Raises:
            PasskeyCeremonyExpired, PasskeyReplayed, InvalidPasskeyResponse,
            PasskeyRefused (``reason`` names the check), InvalidPasskeyName,
            DuplicatePasskey, TooManyPasskeys.
        """
        now = now or self.clock()
        label = passkey_name(name)
        challenge = self.relying_party.open(state, CREATE, now)
        owner = state.get("citizen_id")
        if not isinstance(owner, str) or (citizen_id is not None and citizen_id != owner):
            raise PasskeyRefused("citizen")
        credential = self.relying_party.verify_registration(challenge, response_json)
        passkey = Passkey(
            **asdict(credential),
            id=secrets.token_urlsafe(16),
            citizen_id=owner,
            name=label,
            created_at=now,
        )
        with self.store.write() as tx:
            self._spend(tx, challenge, now)
            if len(tx.of_citizen(owner, for_update=True)) >= MAX_PASSKEYS:
                raise TooManyPasskeys(MAX_PASSKEYS)
            if not tx.add(passkey):
                raise DuplicatePasskey()
            self._audit(tx, owner, now, Action.CREATE, actor=actor)
            if within is not None:
                within(tx.bind, passkey)
        log.info("passkey registered")
        return passkey

    # ------------------------------------------------------------ sign-in

    def authentication_options(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``PublicKeyCredentialRequestOptionsJSON`` for a discoverable sign-in and the state
        to keep."""
        return self.relying_party.request_options(self.clock())

    def authenticate(
        self,
        state: dict[str, Any],
        response_json: dict[str, Any],
        *,
        now: datetime | None = None,
        within: Callable[[Any, PasskeyLogin], None] | None = None,
    ) -> PasskeyLogin:
        """Verify a sign-in (§7.2), apply the counter rule and record the use, audited.

        ``within``, when given, is called with the open transaction's ``bind`` and the
        sign-in once the use is recorded and before the commit (the new session, so that a
        sign-in is one commit); what it raises rolls the use back. It is not called for a
        refused sign-in.

        Raises:
            PasskeyCeremonyExpired, PasskeyReplayed, InvalidPasskeyResponse,
            PasskeyRefused (``reason``: ``unknown_credential``, ``user_handle``, ``origin``,
            ``rp_id``, ``challenge``, ``user_verification``, ``signature``,
            ``backup_eligibility``, ...), ClonedAuthenticator (audited as denied).
        """
        now = now or self.clock()
        challenge = self.relying_party.open(state, GET, now)
        assertion = self.relying_party.parse_assertion(response_json)
        with self.store.read() as tx:
            passkey = tx.find(assertion.credential_id)
            handle = tx.user_handle(passkey.citizen_id) if passkey is not None else None
        if passkey is None:
            raise PasskeyRefused("unknown_credential")
        given = assertion.user_handle
        if given is None or handle is None or not secrets.compare_digest(given, handle):
            raise PasskeyRefused("user_handle")
        auth_data = self.relying_party.verify_assertion(
            challenge,
            assertion,
            credential_data=passkey.credential_data,
            backup_eligible=passkey.backup_eligible,
        )
        return self._record_use(passkey.credential_id, auth_data, challenge, now, within)

    def _record_use(
        self,
        credential_id: bytes,
        auth_data: AuthenticatorData,
        challenge: Challenge,
        now: datetime,
        within: Callable[[Any, PasskeyLogin], None] | None,
    ) -> PasskeyLogin:
        """Spend the challenge, apply the counter rule, store the use (and ``within``'s
        changes): one transaction, the record locked. A cloned signal commits its denied
        entry, then raises."""
        with self.store.write() as tx:
            current = tx.find(credential_id, for_update=True)
            if current is None:  # removed since it was read
                raise PasskeyRefused("unknown_credential")
            self._spend(tx, challenge, now)
            new, stored = auth_data.counter, current.sign_count
            cloned = bool(new or stored) and new <= stored
            if cloned:
                self._audit(tx, current.citizen_id, now, Action.LOGIN, outcome=Outcome.DENIED)
            else:
                backed_up = auth_data.is_backed_up()
                tx.save(replace(current, sign_count=new, backed_up=backed_up, last_used_at=now))
                self._audit(tx, current.citizen_id, now, Action.LOGIN)
                login = PasskeyLogin(
                    citizen_id=current.citizen_id,
                    passkey_id=current.id,
                    auth_time=now,
                    amr=passkey_amr(current),
                    acr=ACR_MULTI_FACTOR,
                    backed_up=backed_up,
                )
                if within is not None:
                    within(tx.bind, login)
        if cloned:
            log.warning("passkey refused: the signature counter did not increase")
            raise ClonedAuthenticator()
        return login

    def _spend(self, tx: PasskeyTransaction, challenge: Challenge, now: datetime) -> None:
        if purge_due():
            tx.purge_challenges(now)
        digest = hashlib.sha256(challenge.value).hexdigest()
        if not tx.spend_challenge(digest, expires_at=challenge.expires_at):
            log.warning("passkey refused: a ceremony's challenge came back a second time")
            raise PasskeyReplayed()

    def _audit(
        self,
        tx: PasskeyTransaction,
        citizen_id: str,
        now: datetime,
        action: Action,
        *,
        actor: Actor = SELF,
        outcome: Outcome = Outcome.SUCCESS,
    ) -> None:
        self.events.append(
            tx.bind, citizen_id, now, actor=actor, action=action, items=ITEMS, outcome=outcome
        )

    # ------------------------------------------------------------ the account page

    def list(self, citizen_id: str) -> Sequence[Passkey]:
        """The citizen's passkeys (name, created, last used, id), oldest first."""
        with self.store.read() as tx:
            return tx.of_citizen(citizen_id)

    def is_enabled(self, citizen_id: str) -> bool:
        """The citizen has a passkey, so a step-up to ``urn:jati:acr:mfa`` is possible
        (:class:`identity.oidc.authorize.SecondFactors`)."""
        return bool(self.list(citizen_id))

    def rename(self, citizen_id: str, passkey_id: str, name: str | None) -> Passkey:
        """Raises: PasskeyNotFound, InvalidPasskeyName."""
        label = passkey_name(name)
        with self.store.write() as tx:
            found = tx.get(citizen_id, passkey_id, for_update=True)
            if found is None:
                raise PasskeyNotFound()
            renamed = replace(found, name=label)
            tx.save(renamed)
        return renamed

    def remove(
        self,
        citizen_id: str,
        passkey_id: str,
        *,
        now: datetime | None = None,
        actor: Actor = SELF,
        keep_one: bool = False,
    ) -> None:
        """Remove one of the citizen's passkeys, audited. ``keep_one``: the citizen has no
        other way to sign in (no password), so their last passkey stays.

        Raises: PasskeyNotFound; LastPasskey (``keep_one`` and it is the last one).
        """
        now = now or self.clock()
        with self.store.write() as tx:
            own = tx.of_citizen(citizen_id, for_update=True) if keep_one else []
            if len(own) == 1 and own[0].id == passkey_id:
                raise LastPasskey()
            if not tx.delete(citizen_id, passkey_id):
                raise PasskeyNotFound()
            self._audit(tx, citizen_id, now, Action.ERASE, actor=actor)
        log.info("passkey removed")
