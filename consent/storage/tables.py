"""The consent package's tables (SQLAlchemy 2.0 typed mappings).

- ``consent_request``: the register of data-subject requests (UU PDP Art. 14): kind,
  received-at, statutory due-by, status, completion and outcome. ``fields`` holds the JSON
  list of the field *names* a correction changed, never their values.
- ``consent_restriction``: subjects whose processing is restricted (Art. 11, 41), read by
  every release path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit.storage.naming import new_metadata
from audit.storage.tables import UTCDateTime

metadata = new_metadata()


class ConsentBase(DeclarativeBase):
    metadata = metadata


class ConsentRequest(ConsentBase):
    """One data-subject request and what became of it."""

    __tablename__ = "consent_request"
    __table_args__ = (
        CheckConstraint("kind IN ('access', 'correction', 'erasure', 'restriction')", name="kind"),
        CheckConstraint("status IN ('received', 'completed', 'refused')", name="status"),
        CheckConstraint("(status = 'received') = (completed_at IS NULL)", name="completion"),
        CheckConstraint("kind = 'erasure' OR due_by IS NOT NULL", name="deadline"),
        Index(None, "subject_id", "received_at"),
        Index(None, "status", "due_by"),
        Index(None, "client_id", "status", "due_by"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fields: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(128))


class ConsentRestriction(ConsentBase):
    """A subject whose processing is restricted (UU PDP Art. 41)."""

    __tablename__ = "consent_restriction"

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    restricted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(String(32))
