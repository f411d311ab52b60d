"""Releasing a citizen's claims to a relying app: the consent gate first, then the audited read.

Every release of personal data to an app (ID token claims, userinfo, credentials) goes
through :meth:`ClaimRelease.release`:

1. the claims asked for are mapped to personal data items (OIDC Core §5.1 names to Jati's
   fields) and cut to what the app may receive (its registered claims);
2. the consent gate (:mod:`consent.gate`) decides for (citizen, app, purpose, items): a legal
   basis other than consent, or an active grant under the current notice, and no
   restriction of processing (UU PDP Art. 20(2), 22, 41);
3. only then are the fields decrypted, through the one audited read path
   (:meth:`identity.citizens.service.CitizenService.read_personal_data`), which records the release
   with the app as actor, the purpose, the legal basis and the grant id (Art. 31).

A refusal releases nothing, is recorded as a ``read`` with outcome ``denied`` (the app as
actor, the purpose and the items it asked for, no legal basis), and raises
:class:`consent.errors.ConsentRequired` with the gate's reason (no consent, withdrawn or
expired, notice changed, restricted, ...).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from audit.entry import Actor, ActorKind, LegalBasis
from consent.errors import ConsentRequired
from consent.gate import Decision
from identity.citizens.records import PersonalData

#: OIDC Core §5.1 claim -> Jati's personal field (data item).
CLAIM_FIELDS: Mapping[str, str] = {
    "name": "name",
    "birthdate": "birthdate",
    "email": "email",
    "phone_number": "phone",
    "address": "address",
    "nik": "nik",
}


class Gate(Protocol):
    def check(
        self, subject_id: str, app_id: str, purpose: str, data_items: Collection[str]
    ) -> Decision: ...


class PersonalDataReader(Protocol):
    def read_personal_data(
        self,
        citizen_id: str,
        fields: Collection[str],
        *,
        actor: Actor,
        purpose: str,
        legal_basis: LegalBasis,
        consent_id: str | None = None,
        request_id: str | None = None,
    ) -> PersonalData: ...

    def record_refused_read(
        self, citizen_id: str, fields: Collection[str], *, actor: Actor, purpose: str
    ) -> None: ...


class ClaimRelease:
    def __init__(self, *, gate: Gate, citizens: PersonalDataReader) -> None:
        self.gate = gate
        self.citizens = citizens

    def release(
        self,
        *,
        citizen_id: str,
        app_id: str,
        purpose: str,
        claims: Collection[str],
        allowed_claims: Collection[str],
        request_id: str | None = None,
    ) -> dict[str, str]:
        """The claims (OIDC names) released to the app; absent values are left out."""
        wanted = [c for c in claims if c in allowed_claims and c in CLAIM_FIELDS]
        if not wanted:
            return {}
        fields = [CLAIM_FIELDS[c] for c in wanted]
        decision = self.gate.check(citizen_id, app_id, purpose, fields)
        if not decision.allowed:
            self.citizens.record_refused_read(
                citizen_id, fields, actor=Actor(ActorKind.RELYING_APP, app_id), purpose=purpose
            )
            raise ConsentRequired(f"release refused: {decision.reason}")
        assert decision.legal_basis is not None
        data = self.citizens.read_personal_data(
            citizen_id,
            fields,
            actor=Actor(ActorKind.RELYING_APP, app_id),
            purpose=purpose,
            legal_basis=decision.legal_basis,
            consent_id=decision.grant_id,
            request_id=request_id,
        )
        released = {}
        for claim, field_name in zip(wanted, fields, strict=True):
            value = data[field_name]
            if value is not None:
                released[claim] = value
        return released
