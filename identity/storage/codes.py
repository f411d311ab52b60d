"""Authorization requests answered and the codes they yield: the
``identity_authorization_request`` and ``identity_authorization_code`` tables and
:class:`CodeStatements`, part of :class:`identity.storage.oidc.SqlOidcTransaction`.

- ``identity_authorization_request``: authorization requests answered to a signed-in
  citizen, until they expire, so that a sealed request yields one code
  (:mod:`identity.oidc.authorize`: a pending request is never stored, it travels sealed);
  without its ``state``, ``nonce`` and ``login_hint``.
- ``identity_authorization_code``: codes by hash (SHA-256, never the value the app holds),
  60 seconds, single use (:mod:`identity.oidc.codes`).

Expired rows are purged by the writes that add new ones, a batch at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from audit.entry import LegalBasis
from audit.storage.tables import UTCDateTime
from identity.oidc.authorization_request import StoredRequest
from identity.oidc.codes import AuthorizationCode, ReleasedPurpose
from identity.storage.sql_store import SqlTransaction, from_row, rowcount, to_row
from identity.storage.tables import IdentityBase


class IdentityAuthorizationRequest(IdentityBase):
    """An authorization request (OIDC Core §3.1.2.1) answered to a signed-in citizen, kept
    until it expires so that it is answered once; ``state``, ``nonce`` and ``login_hint``
    stay empty (the columns date from when pending requests were stored)."""

    __tablename__ = "identity_authorization_request"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    claims: Mapped[str] = mapped_column(Text)  # JSON array
    purposes: Mapped[str] = mapped_column(Text)  # JSON array of purpose codes
    state: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(String(32))  # space-separated
    max_age: Mapped[int | None] = mapped_column(Integer)
    login_hint: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    ui_locales: Mapped[str] = mapped_column(Text)  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityAuthorizationCode(IdentityBase):
    """An authorization code by hash, with everything it is bound to."""

    __tablename__ = "identity_authorization_code"
    __table_args__ = (Index(None, "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(Text)
    citizen_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(64))
    amr: Mapped[str] = mapped_column(Text)  # JSON array
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    claims: Mapped[str] = mapped_column(Text)  # JSON array
    purposes: Mapped[str] = mapped_column(Text)  # JSON [{"code", "basis", "grant"}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    family_id: Mapped[str | None] = mapped_column(String(32))


def purposes_json(purposes: Sequence[ReleasedPurpose]) -> str:
    """The released purposes as stored with a code or a token family."""
    return json.dumps(
        [{"code": p.code, "basis": p.legal_basis.value, "grant": p.grant_id} for p in purposes]
    )


def purposes_of(text: str) -> tuple[ReleasedPurpose, ...]:
    """:func:`purposes_json`'s text as released purposes."""
    return tuple(
        ReleasedPurpose(item["code"], LegalBasis(item["basis"]), item["grant"])
        for item in json.loads(text)
    )


def _code(row: IdentityAuthorizationCode) -> AuthorizationCode:
    return from_row(
        AuthorizationCode,
        row,
        amr=tuple(json.loads(row.amr)),
        scopes=tuple(row.scopes.split()),
        claims=tuple(json.loads(row.claims)),
        purposes=purposes_of(row.purposes),
        authorization_id=row.family_id,
    )


class CodeStatements(SqlTransaction):
    """Answered requests' and codes' statements in a transaction
    (:class:`identity.oidc.codes.CodeTransaction`, :mod:`identity.oidc.authorize`)."""

    def mark_answered(self, request: StoredRequest) -> bool:
        # The app's state and nonce and the login hint (possibly a NIK) are never written.
        return self.insert_new(
            IdentityAuthorizationRequest,
            {
                "id": request.id,
                "client_id": request.client_id,
                "redirect_uri": request.redirect_uri,
                "scopes": " ".join(request.scopes),
                "claims": json.dumps(list(request.claims)),
                "purposes": json.dumps(list(request.purpose_codes)),
                "code_challenge": request.code_challenge,
                "prompt": " ".join(request.prompt),
                "max_age": request.max_age,
                "ui_locales": " ".join(request.ui_locales),
                "created_at": request.created_at,
                "expires_at": request.expires_at,
            },
            ["id"],
        )

    def is_answered(self, request_id: str) -> bool:
        found = self.session.execute(
            select(IdentityAuthorizationRequest.id).where(
                IdentityAuthorizationRequest.id == request_id
            )
        )
        return found.first() is not None

    def purge_requests(self, now: datetime) -> int:
        return self.purge_expired(
            IdentityAuthorizationRequest, IdentityAuthorizationRequest.id, now
        )

    def add_code(self, code: AuthorizationCode) -> None:
        row = to_row(
            IdentityAuthorizationCode,
            code,
            amr=json.dumps(list(code.amr)),
            scopes=" ".join(code.scopes),
            claims=json.dumps(list(code.claims)),
            purposes=purposes_json(code.purposes),
            family_id=code.authorization_id,
        )
        self.session.add(row)

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        row = self.session.get(IdentityAuthorizationCode, code_hash)
        return _code(row) if row is not None else None

    def use_code(self, code_hash: str, *, now: datetime, authorization_id: str) -> bool:
        result = self.session.execute(
            update(IdentityAuthorizationCode)
            .where(
                IdentityAuthorizationCode.code_hash == code_hash,
                IdentityAuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now, family_id=authorization_id)
        )
        return rowcount(result) == 1

    def delete_codes_of(self, citizen_id: str) -> int:
        """Every code of the citizen's, used or not (an erasure: no index on
        ``citizen_id``, so the DELETE reads the codes of the last hour)."""
        result = self.session.execute(
            delete(IdentityAuthorizationCode).where(
                IdentityAuthorizationCode.citizen_id == citizen_id
            )
        )
        return rowcount(result)

    def purge_codes(self, now: datetime) -> int:
        return self.purge_expired(
            IdentityAuthorizationCode, IdentityAuthorizationCode.code_hash, now
        )
