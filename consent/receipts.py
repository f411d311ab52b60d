"""Signed consent receipts (UU PDP Art. 24: the controller proves consent; ISO/IEC TS 27560).

A receipt is a JWS (compact, RFC 7515) signed with the service's token key, so anyone can
verify it offline against the published JWKS: header ``typ: consent-receipt+jwt``. Its
claims follow the record of ISO/IEC TS 27560:2023 (consent record information structure):

- ``jti`` / ``receipt_id``: the receipt's id; ``schema_version``; ``iat``; ``iss``;
- ``sub``: the citizen, as an identifier only the service can resolve (never a NIK);
- ``controller``: name, the app (relying party), the controller's contact when its notice
  gives one, and the DPO contact (Art. 53);
- ``consent``: the grant id, status, given at / by (subject or guardian, Art. 25), expiry,
  the purpose (code, description, legal basis, Art. 20(2)), the data items each tagged
  ``specific`` or ``general`` (Art. 4), retention, the notice version and hash (Art. 21),
  the events so far, and how to withdraw (Art. 9: endpoint and method).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from consent.grants import Grant, new_id
from consent.notices import Notice
from consent.purposes import Purpose

RECEIPT_TYPE = "consent-receipt+jwt"
SCHEMA_VERSION = "ISO/IEC TS 27560:2023; jati-consent-receipt/1"
LEGAL_BASIS_TEXT = {
    "a": "UU PDP Art. 20(2)(a): explicit consent",
    "b": "UU PDP Art. 20(2)(b): contract",
    "c": "UU PDP Art. 20(2)(c): legal obligation",
    "d": "UU PDP Art. 20(2)(d): vital interest",
    "e": "UU PDP Art. 20(2)(e): public task",
    "f": "UU PDP Art. 20(2)(f): legitimate interest",
}


class ReceiptSigner(Protocol):
    """Signs claims as a compact JWS with the given ``typ`` (identity's token signer)."""

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str: ...


def _time(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def receipt_claims(
    *,
    issuer: str,
    subject: str,
    grant: Grant,
    purpose: Purpose,
    notice: Notice,
    withdraw_url: str,
    now: datetime,
) -> dict[str, Any]:
    """The claims of a receipt for ``grant`` (see the module docstring)."""
    receipt_id = new_id()
    consent: dict[str, Any] = {
        "id": grant.grant_id,
        "status": grant.status_at(now).value,
        "given_at": _time(grant.given_at),
        "given_by": grant.given_by.value,
        "purpose": {
            "code": purpose.code,
            "description": purpose.description.to_json(),
            "legal_basis": purpose.legal_basis.value,
            "legal_basis_text": LEGAL_BASIS_TEXT[purpose.legal_basis.value],
        },
        "data_items": [
            {"name": item.name, "sensitivity": item.sensitivity.value}
            for item in purpose.data_items
        ],
        "retention_days": purpose.retention_days,
        "notice": {"version": notice.version, "hash": grant.notice_hash},
        "events": [{"kind": e.kind.value, "at": _time(e.at)} for e in grant.events],
        "withdraw": {"method": "POST", "url": withdraw_url},
    }
    if grant.expires_at is not None:
        consent["expires_at"] = _time(grant.expires_at)
    if grant.reconfirm_at is not None:
        consent["reconfirm_at"] = _time(grant.reconfirm_at)
    if (withdrawal := grant.withdrawal_times()) is not None:
        consent["withdrawn"] = {name: _time(at) for name, at in withdrawal.items()}
    controller: dict[str, Any] = {"name": notice.content.controller, "app_id": grant.app_id}
    if notice.content.controller_contact is not None:
        controller["contact"] = notice.content.controller_contact
    controller["dpo"] = notice.content.dpo.to_json()
    return {
        "iss": issuer,
        "sub": subject,
        "iat": int(now.timestamp()),
        "jti": receipt_id,
        "receipt_id": receipt_id,
        "schema_version": SCHEMA_VERSION,
        "controller": controller,
        "consent": consent,
    }


class ReceiptIssuer:
    """Builds and signs receipts."""

    def __init__(
        self, *, issuer: str, signer: Callable[[], ReceiptSigner], clock: Callable[[], datetime]
    ) -> None:
        self.issuer = issuer
        self._signer = signer
        self._clock = clock

    def issue(
        self, *, subject: str, grant: Grant, purpose: Purpose, notice: Notice, withdraw_url: str
    ) -> str:
        claims = receipt_claims(
            issuer=self.issuer,
            subject=subject,
            grant=grant,
            purpose=purpose,
            notice=notice,
            withdraw_url=withdraw_url,
            now=self._clock(),
        )
        return self._signer().sign(claims, typ=RECEIPT_TYPE)
