"""The identity package's tables (SQLAlchemy 2.0 typed mappings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit.storage.naming import new_metadata
from audit.storage.tables import UTCDateTime

metadata = new_metadata()


class IdentityBase(DeclarativeBase):
    metadata = metadata


class IdentitySigningKey(IdentityBase):
    """A token signing key; ``private_key`` is sealed (see :mod:`identity.keys.signing_keys`)."""

    __tablename__ = "identity_signing_key"
    __table_args__ = (
        CheckConstraint("state IN ('next', 'active', 'retired')", name="state"),
        CheckConstraint("alg IN ('EdDSA', 'Ed25519', 'ES256', 'RS256')", name="alg"),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
