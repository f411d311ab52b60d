"""The Jati identity credential: an SD-JWT VC a citizen holds in a wallet.

What is issued (RFC 9901; draft-ietf-oauth-sd-jwt-vc; OID4VCI 1.0):

- always visible: ``iss``, ``iat``, ``exp``, ``vct`` (the versioned type,
  :data:`VCT_PATH` under the issuer), ``cnf.jwk`` (the holder key from the proof of
  possession, RFC 7800), ``status.status_list`` (``idx``, ``uri``: a random index in a
  Token Status List, draft-ietf-oauth-status-list §6.1) and ``_sd_alg``;
- selectively disclosable, each only when its data item was released to the wallet app by
  the consent gate (UU PDP Art. 20 and 22): ``name``, ``given_name``, ``family_name``,
  ``birthdate``, each entry of ``age_equal_or_over`` ({"18": true, ...}), each part of
  ``address`` (``formatted``, ``street_address``, ``locality``, ``country``), ``nik`` (only
  where the app's purpose has a legal basis for it) and ``nationalities``.

The service keeps one row per credential (who holds it, which app asked, the consent grants
it was issued under, its status reference) so a credential can be listed, revoked (status
1, final) or suspended (status 2) and reinstated: from the CLI, from the citizen's account
page (a lost phone), when a consent grant it rests on ends, and when the citizen is erased.
The status list is always changed before the row: a failure between the two leaves a
credential revoked in the list (what verifiers read) and at worst shown as valid, never the
reverse. Every issuance and revocation appends an audit entry (UU PDP Art. 31).
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from identity.citizens.age import age_on
from identity.credentials.proofs import CredentialNonces, HolderProof, nonce_digest, verify_proof
from identity.credentials.sd_jwt import Disclosable, issue
from identity.credentials.status_list_token import Status
from identity.credentials.status_registry import StatusReference
from identity.errors import Conflict, CredentialError, NotFound
from identity.oidc.codes import grant_ids_of
from identity.oidc.issuance import purpose_entries
from identity.oidc.tokens import JwsSigner
from identity.storage.housekeeping import purge_due

log = logging.getLogger(__name__)

CONFIGURATION_ID = "jati_identity_sd_jwt"
CREDENTIAL_SCOPE = "identity_credential"
CREDENTIAL_FORMAT = "dc+sd-jwt"
VCT_PATH = "/vct/identity/v1"
#: The ages ``age_equal_or_over`` answers (as in the SD-JWT VC draft's example).
AGE_THRESHOLDS = (12, 14, 16, 18, 21, 65)
#: The data items (personal fields) the credential can carry, with the claims they give.
CREDENTIAL_CLAIMS = ("name", "birthdate", "address", "nik")
NATIONALITY = "ID"  # Jati registers Indonesian citizens (WNI); see the README
DEFAULT_LIFETIME = timedelta(days=365)


class CredentialState(StrEnum):
    """A credential's status, as its Token Status List entry says (draft §7.1)."""

    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"

    @property
    def status(self) -> Status:
        return _LIST_STATUS[self]


class ChangeReason(StrEnum):
    """Why a credential's status changed (kept with the credential and in the audit log)."""

    CITIZEN = "citizen"  # the holder revoked it (a lost phone)
    OPERATOR = "operator"  # jati credential revoke|suspend|reinstate
    CONSENT = "consent"  # a consent grant it was issued under ended
    ERASURE = "erasure"  # the citizen's data was erased (UU PDP Art. 43/44)


_LIST_STATUS = {
    CredentialState.VALID: Status.VALID,
    CredentialState.REVOKED: Status.INVALID,
    CredentialState.SUSPENDED: Status.SUSPENDED,
}


@dataclass(frozen=True, slots=True)
class Credential:
    """One issued credential (never its content: the holder has that)."""

    id: str
    citizen_id: str
    client_id: str
    configuration_id: str
    status_list_id: str
    status_idx: int
    holder_thumbprint: str
    grant_ids: tuple[str, ...]
    claims: tuple[str, ...]  # the disclosable claim names it carries (no values)
    issued_at: datetime
    expires_at: datetime
    state: CredentialState = CredentialState.VALID
    changed_at: datetime | None = None
    reason: ChangeReason | None = None


@dataclass(frozen=True, slots=True)
class CredentialPurpose:
    """A purpose the wallet app's data was released under (code, basis, consent grant) and
    the data items it released."""

    code: str
    legal_basis: LegalBasis
    grant_id: str | None
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Release:
    """What the consent gate let the wallet app have: claim values by OIDC name (``name``,
    ``birthdate``, ``address``, ``nik``) and the purposes they were released under."""

    citizen_id: str
    client_id: str
    values: Mapping[str, str]
    purposes: tuple[CredentialPurpose, ...]


class CredentialTransaction(Protocol):
    @property
    def bind(self) -> Any: ...
    def use_nonce(self, digest: str, *, expires_at: datetime) -> bool: ...
    def purge_nonces(self, now: datetime) -> int: ...
    def add(self, credential: Credential) -> None: ...
    def get(self, credential_id: str, *, for_update: bool = False) -> Credential | None: ...
    def of_citizen(self, citizen_id: str) -> list[Credential]: ...
    def live(self, *, after: str, limit: int) -> list[Credential]: ...
    def save(self, credential: Credential) -> None: ...


class CredentialStore(Protocol):
    def write(self) -> AbstractContextManager[CredentialTransaction]: ...
    def read(self) -> AbstractContextManager[CredentialTransaction]: ...


class StatusRegistry(Protocol):
    def allocate(self) -> StatusReference: ...
    def set_status(self, list_id: str, idx: int, status: Status) -> None: ...


class GrantActivity(Protocol):
    def is_grant_active(self, grant_id: str) -> bool: ...


def new_credential_id() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def split_name(name: str) -> tuple[str, str | None]:
    """(given_name, family_name) of a name registered as one line, as on the KTP.

    Many Indonesian names have no family name; a one-word name is a given name only. A
    longer name is split at its last space (OIDC Core §5.1's convention for names that have
    a surname), which the README documents as an approximation."""
    words = name.split()
    if len(words) < 2:
        return name.strip(), None
    return " ".join(words[:-1]), words[-1]


def split_address(address: str) -> dict[str, str]:
    """OIDC Core §5.1.1 address parts of an address registered as ``street, city``: the
    text after the last comma is the locality; the country is Indonesia."""
    parts: dict[str, str] = {"formatted": address}
    street, comma, locality = address.rpartition(",")
    if comma and street.strip() and locality.strip():
        parts["street_address"] = street.strip()
        parts["locality"] = locality.strip()
    parts["country"] = NATIONALITY
    return parts


def disclosable_claims(values: Mapping[str, str], *, today: date) -> dict[str, Any]:
    """The selectively disclosable claims for released ``values`` (see the module text)."""
    claims: dict[str, Any] = {}
    name = values.get("name")
    if name:
        given, family = split_name(name)
        claims["name"] = Disclosable(name)
        claims["given_name"] = Disclosable(given)
        if family is not None:
            claims["family_name"] = Disclosable(family)
    birthdate = values.get("birthdate")
    if birthdate:
        claims["birthdate"] = Disclosable(birthdate)
        age = age_on(date.fromisoformat(birthdate), today)
        claims["age_equal_or_over"] = {str(a): Disclosable(age >= a) for a in AGE_THRESHOLDS}
    address = values.get("address")
    if address:
        claims["address"] = {k: Disclosable(v) for k, v in split_address(address).items()}
    nik = values.get("nik")
    if nik:
        claims["nik"] = Disclosable(nik)
    claims["nationalities"] = Disclosable([NATIONALITY])
    return claims


def claim_names(claims: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in claims.items():
        if isinstance(value, dict):
            yield from claim_names(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@dataclass(kw_only=True, eq=False, repr=False)
class CredentialService:
    """Issues, lists and changes the status of identity credentials (see the module text),
    built with keywords."""

    store: CredentialStore
    status_lists: StatusRegistry
    signer: Callable[[], JwsSigner]
    nonces: CredentialNonces
    issuer: str
    audit: AuditAppender
    pseudonymizer: Pseudonymizer
    grants: GrantActivity
    clock: Callable[[], datetime]
    lifetime: timedelta = DEFAULT_LIFETIME

    @property
    def vct(self) -> str:
        """The credential type (``vct``): :data:`VCT_PATH` under the issuer."""
        return self.issuer + VCT_PATH

    # -- issuance -------------------------------------------------------------------------

    def new_nonce(self) -> str:
        """A fresh ``c_nonce`` (OID4VCI §7.2)."""
        return self.nonces.issue(self.clock())

    def check_proof(self, proof: object, *, client_id: str) -> HolderProof:
        """Verify a holder proof and spend its nonce, before any personal data is read
        (OID4VCI App. F.4; a replayed proof reads nothing).

        Raises:
            CredentialError: ``invalid_proof``, or ``invalid_nonce`` (also when spent).
        """
        now = self.clock()
        checked = verify_proof(
            proof, issuer=self.issuer, client_id=client_id, nonces=self.nonces, now=now
        )
        expires = datetime.fromtimestamp(checked.nonce_expiry, tz=now.tzinfo)
        with self.store.write() as tx:
            if purge_due():
                tx.purge_nonces(now)
            if not tx.use_nonce(nonce_digest(checked.nonce), expires_at=expires):
                raise CredentialError("invalid_nonce", "the c_nonce was used already")
        return checked

    def issue(self, release: Release, proof: HolderProof) -> tuple[str, Credential]:
        """Sign an SD-JWT VC for the holder key of a checked ``proof`` (its nonce spent by
        :meth:`check_proof`) carrying ``release``'s values, and record it with its audit
        entries in one transaction."""
        now = self.clock()
        claims = disclosable_claims(release.values, today=now.date())
        reference = self.status_lists.allocate()
        exp = now + self.lifetime
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
            "vct": self.vct,
            "cnf": {"jwk": dict(proof.jwk)},
            "status": reference.claim(),
            **claims,
        }
        compact = issue(self.signer(), payload).compact
        grant_ids = grant_ids_of(release.purposes)
        credential = Credential(
            id=new_credential_id(),
            citizen_id=release.citizen_id,
            client_id=release.client_id,
            configuration_id=CONFIGURATION_ID,
            status_list_id=reference.list_id,
            status_idx=reference.idx,
            holder_thumbprint=proof.thumbprint,
            grant_ids=tuple(dict.fromkeys(grant_ids)),
            claims=tuple(claim_names(claims)),
            issued_at=now,
            expires_at=exp,
        )
        entries = purpose_entries(
            Action.CREDENTIAL_ISSUED,
            client_id=credential.client_id,
            subject=self.pseudonymizer.pseudonym(credential.citizen_id),
            issued=[(p, ("credential:sd-jwt-vc", *p.fields)) for p in release.purposes],
            now=now,
        )
        with self.store.write() as tx:
            tx.add(credential)
            for entry in entries:
                self.audit.append(tx.bind, entry, queued_at=now)
        log.info("credential issued to app %s", release.client_id)
        return compact, credential

    # -- reads ----------------------------------------------------------------------------

    def of_citizen(self, citizen_id: str) -> list[Credential]:
        """The citizen's credentials, newest first."""
        with self.store.read() as tx:
            found = tx.of_citizen(citizen_id)
        return sorted(found, key=lambda c: c.issued_at, reverse=True)

    def get(self, credential_id: str) -> Credential:
        with self.store.read() as tx:
            credential = tx.get(credential_id)
        if credential is None:
            raise NotFound("no such credential")
        return credential

    # -- status changes -------------------------------------------------------------------

    def revoke(
        self, credential_id: str, *, reason: ChangeReason, citizen_id: str | None = None
    ) -> Credential:
        """Revoke for good (status 1). ``citizen_id``: the credential must be theirs."""
        return self._change(credential_id, CredentialState.REVOKED, reason, citizen_id)

    def suspend(self, credential_id: str, *, reason: ChangeReason) -> Credential:
        """Suspend (status 2) until :meth:`reinstate`."""
        return self._change(credential_id, CredentialState.SUSPENDED, reason, None)

    def reinstate(self, credential_id: str, *, reason: ChangeReason) -> Credential:
        """Back to valid (status 0) from suspended; a revoked credential stays revoked."""
        return self._change(credential_id, CredentialState.VALID, reason, None)

    def revoke_all_for(
        self, citizen_id: str, *, reason: ChangeReason = ChangeReason.ERASURE
    ) -> int:
        """Revoke every live credential of the citizen (erasure); returns how many."""
        changed = 0
        for credential in self.of_citizen(citizen_id):
            if credential.state is not CredentialState.REVOKED:
                self._change(credential.id, CredentialState.REVOKED, reason, None)
                changed += 1
        return changed

    def reconcile(self, citizen_id: str | None) -> int:
        """Revoke the live credentials (of one citizen, or all with None) that rest on a
        consent grant no longer active: withdrawn, expired, or awaiting the citizen's own
        confirmation (UU PDP Art. 9, 25, 40). Returns how many were revoked."""
        changed = 0
        for credential in self._live(citizen_id):
            if credential.grant_ids and not all(
                self.grants.is_grant_active(g) for g in credential.grant_ids
            ):
                self._change(credential.id, CredentialState.REVOKED, ChangeReason.CONSENT, None)
                changed += 1
        if changed:
            log.info("%d credentials revoked: a consent grant ended", changed)
        return changed

    def _live(self, citizen_id: str | None) -> Iterator[Credential]:
        if citizen_id is not None:
            yield from (
                c for c in self.of_citizen(citizen_id) if c.state is not CredentialState.REVOKED
            )
            return
        after = ""
        while True:
            with self.store.read() as tx:
                batch = tx.live(after=after, limit=500)
            yield from batch
            if len(batch) < 500:
                return
            after = batch[-1].id

    def _change(
        self,
        credential_id: str,
        state: CredentialState,
        reason: ChangeReason,
        citizen_id: str | None,
    ) -> Credential:
        now = self.clock()
        with self.store.read() as tx:
            credential = tx.get(credential_id)
        if credential is None or (citizen_id is not None and credential.citizen_id != citizen_id):
            raise NotFound("no such credential")
        if credential.state is state:
            return credential
        if credential.state is CredentialState.REVOKED:
            raise CredentialStateError("a revoked credential cannot change status")
        # The list first, in its own transaction: what verifiers read is never behind the
        # row (module text). It refuses to undo a revocation made meanwhile (Conflict).
        try:
            self.status_lists.set_status(
                credential.status_list_id, credential.status_idx, state.status
            )
        except Conflict:
            raise CredentialStateError("a revoked credential cannot change status") from None
        changed = replace(credential, state=state, changed_at=now, reason=reason)
        with self.store.write() as tx:
            current = tx.get(credential_id, for_update=True)
            if current is not None and current.state is CredentialState.REVOKED:
                return current  # revoked meanwhile by another request: that one recorded it
            tx.save(changed)
            self.audit.append(tx.bind, self._change_entry(changed, now), queued_at=now)
        log.info("credential status changed to %s (%s)", state.value, reason.value)
        return changed

    def _change_entry(self, credential: Credential, now: datetime) -> AuditEntry:
        if credential.reason is ChangeReason.CITIZEN:
            actor = Actor(ActorKind.CITIZEN, "self")
        elif credential.reason is ChangeReason.OPERATOR:
            actor = Actor(ActorKind.SYSTEM, "jati-cli")
        else:
            actor = Actor(ActorKind.SYSTEM, "jati")
        return AuditEntry(
            time=now,
            actor=actor,
            action=Action.CREDENTIAL_REVOKED,
            outcome=Outcome.SUCCESS,
            subject=self.pseudonymizer.pseudonym(credential.citizen_id),
            data_items=(f"credential:{credential.state.value}",),
            purpose=f"credential-{credential.reason.value if credential.reason else 'status'}",
        )


class CredentialStateError(CredentialError):
    """A status change a credential cannot make (a revoked one is revoked for good)."""

    def __init__(self, description: str) -> None:
        super().__init__("credential_request_denied", description)


def credential_summary(credential: Credential) -> dict[str, Any]:
    """What the CLI and the account page show of a credential (no claim values)."""
    return {
        "id": credential.id,
        "client_id": credential.client_id,
        "configuration_id": credential.configuration_id,
        "state": credential.state.value,
        "claims": list(credential.claims),
        "issued_at": credential.issued_at.isoformat(),
        "expires_at": credential.expires_at.isoformat(),
        "changed_at": credential.changed_at.isoformat() if credential.changed_at else None,
        "reason": credential.reason.value if credential.reason else None,
        "holder_key": credential.holder_thumbprint,
    }


class ConsentChanges(Protocol):
    def changed(self, subject_id: str | None) -> None: ...


class RevokeOnConsentChange:
    """The consent ledger's change notifier, extended: after the consent gates learn of a
    change (``inner``), the credentials resting on a grant that ended are revoked (UU PDP
    Art. 40: a withdrawal takes effect everywhere; verifiers see it within the status
    list's ``ttl``). Changes of no one citizen (a purpose or notice published, grants
    expired in bulk) are left to the periodic sweep (:meth:`CredentialService.reconcile`
    with None) rather than scanning every credential here. A failure never undoes the
    committed withdrawal: it is logged, and the sweep catches up."""

    def __init__(self, inner: ConsentChanges | None, credentials: CredentialService) -> None:
        self.inner = inner
        self.credentials = credentials

    def changed(self, subject_id: str | None) -> None:
        if self.inner is not None:
            self.inner.changed(subject_id)
        if subject_id is None:
            return  # a purpose, a notice or expiries: the sweep, not a scan on this path
        try:
            self.credentials.reconcile(subject_id)
        except Exception as exc:  # the sweep retries; the withdrawal itself stands
            log.error("credential revocation after a consent change failed: %s", type(exc).__name__)
