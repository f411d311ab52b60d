"""Tables and store of the consent ledger: purposes, notices and the append-only events.

- ``consent_purpose``: an app's registered purposes (UU PDP Art. 20(2), Art. 4).
- ``consent_notice``: published notice versions, immutable (Art. 21), with content hashes.
- ``consent_event``: consent events, append-only (Art. 24: proof of consent); ``seq`` orders
  them. Database triggers refuse UPDATE, DELETE and TRUNCATE of notices and events, as for
  the audit log (migration 0007).

Consent changes of one citizen are serialised by a lock on the citizen (``BEGIN
IMMEDIATE`` on SQLite; a transaction advisory lock on PostgreSQL), so two workers recording
decisions for the same citizen at once cannot both derive a stale state.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from audit.entry import LegalBasis
from audit.storage.tables import UTCDateTime
from consent.gate import GateView
from consent.grants import ConsentEvent, EventKind, GivenBy, GrantStatus, derive_grants
from consent.notices import Notice, NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity
from consent.storage.sessions import SessionStore
from consent.storage.tables import ConsentBase, ConsentRestriction

_LOCK_NAMESPACE = 0x636F6E73  # "cons"


class ConsentPurpose(ConsentBase):
    __tablename__ = "consent_purpose"
    __table_args__ = (
        CheckConstraint("legal_basis IN ('a', 'b', 'c', 'd', 'e', 'f')", name="legal_basis"),
        CheckConstraint("retention_days > 0", name="retention"),
    )

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description_id: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(1))
    data_items: Mapped[str] = mapped_column(Text)  # JSON [{"name", "sensitivity"}]
    retention_days: Mapped[int] = mapped_column(Integer)


class ConsentNotice(ConsentBase):
    __tablename__ = "consent_notice"
    __table_args__ = (CheckConstraint("version > 0", name="version"),)

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of NoticeContent
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentEventRow(ConsentBase):
    __tablename__ = "consent_event"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('given', 'renewed', 'refused', 'withdrawn', 'expired')", name="kind"
        ),
        CheckConstraint("given_by IN ('subject', 'guardian')", name="given_by"),
        CheckConstraint("(given_by = 'guardian') = (guardian_id IS NOT NULL)", name="guardian"),
        UniqueConstraint("event_id"),
        Index(None, "subject_id", "seq"),
        Index(None, "grant_id", "seq"),
        Index(None, "expires_at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    purpose_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    notice_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_by: Mapped[str] = mapped_column(String(16))
    act: Mapped[str] = mapped_column(String(200))
    guardian_id: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconfirm_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _purpose(row: ConsentPurpose) -> Purpose:
    return Purpose(
        app_id=row.app_id,
        code=row.code,
        description=LocalizedText(row.description_id, row.description_en),
        legal_basis=LegalBasis(row.legal_basis),
        data_items=tuple(
            DataItem(item["name"], Sensitivity(item["sensitivity"]))
            for item in json.loads(row.data_items)
        ),
        retention_days=row.retention_days,
    )


def _notice(row: ConsentNotice) -> Notice:
    return Notice(
        app_id=row.app_id,
        version=row.version,
        content=NoticeContent.from_json(json.loads(row.content)),
        content_hash=row.content_hash,
        published_at=row.published_at,
    )


_EVENT_FIELDS = (
    "event_id",
    "grant_id",
    "subject_id",
    "app_id",
    "purpose_code",
    "notice_hash",
    "at",
    "act",
    "guardian_id",
    "expires_at",
    "reconfirm_at",
    "received_at",
    "due_by",
    "effective_at",
)


def _event(row: ConsentEventRow) -> ConsentEvent:
    values: dict[str, Any] = {name: getattr(row, name) for name in _EVENT_FIELDS}
    return ConsentEvent(kind=EventKind(row.kind), given_by=GivenBy(row.given_by), **values)


class _Transaction:
    """:class:`consent.ledger.LedgerTransaction` over one SQLAlchemy session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.bind = session

    def lock_subject(self, subject_id: str) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            key = zlib.crc32(subject_id.encode())
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                {"ns": _LOCK_NAMESPACE, "key": key - (1 << 31)},
            )
        # SQLite: the write transaction began with BEGIN IMMEDIATE, a database-wide lock

    def add_purpose(self, purpose: Purpose) -> None:
        self.session.add(
            ConsentPurpose(
                app_id=purpose.app_id,
                code=purpose.code,
                description_id=purpose.description.id,
                description_en=purpose.description.en,
                legal_basis=purpose.legal_basis.value,
                data_items=json.dumps(
                    [
                        {"name": i.name, "sensitivity": i.sensitivity.value}
                        for i in purpose.data_items
                    ]
                ),
                retention_days=purpose.retention_days,
            )
        )
        self.session.flush()

    def purposes(self, app_id: str) -> list[Purpose]:
        rows = self.session.scalars(
            select(ConsentPurpose)
            .where(ConsentPurpose.app_id == app_id)
            .order_by(ConsentPurpose.code)
        )
        return [_purpose(row) for row in rows]

    def add_notice(self, notice: Notice) -> None:
        self.session.add(
            ConsentNotice(
                app_id=notice.app_id,
                version=notice.version,
                content=json.dumps(notice.content.to_json(), sort_keys=True, ensure_ascii=False),
                content_hash=notice.content_hash,
                published_at=notice.published_at,
            )
        )
        self.session.flush()

    def current_notice(self, app_id: str) -> Notice | None:
        return self._latest_notice(ConsentNotice.app_id == app_id)

    def notice_version(self, app_id: str, version: int) -> Notice | None:
        return self._latest_notice(ConsentNotice.app_id == app_id, ConsentNotice.version == version)

    def notice_by_hash(self, app_id: str, content_hash: str) -> Notice | None:
        return self._latest_notice(
            ConsentNotice.app_id == app_id, ConsentNotice.content_hash == content_hash
        )

    def _latest_notice(self, *where: ColumnElement[bool]) -> Notice | None:
        """The latest version of the app's notice among those matching ``where``."""
        row = self.session.scalars(
            select(ConsentNotice).where(*where).order_by(ConsentNotice.version.desc()).limit(1)
        ).first()
        return _notice(row) if row else None

    def append_events(self, events: Sequence[ConsentEvent]) -> None:
        for event in events:
            values = {name: getattr(event, name) for name in _EVENT_FIELDS}
            self.session.add(
                ConsentEventRow(kind=event.kind.value, given_by=event.given_by.value, **values)
            )
        self.session.flush()

    def events_of_subject(self, subject_id: str) -> list[ConsentEvent]:
        return self.events_where(ConsentEventRow.subject_id == subject_id)

    def events_of_grant(self, grant_id: str) -> list[ConsentEvent]:
        return self.events_where(ConsentEventRow.grant_id == grant_id)

    def events_where(self, *where: ColumnElement[bool]) -> list[ConsentEvent]:
        """The events matching ``where``, in the order they were appended."""
        rows = self.session.scalars(
            select(ConsentEventRow).where(*where).order_by(ConsentEventRow.seq)
        )
        return [_event(row) for row in rows]

    def grants_due_to_expire(self, now: datetime) -> list[str]:
        """Grants with an expiry passed and no withdrawal or expiry recorded after it."""
        later = aliased(ConsentEventRow)
        ended = (
            select(later.seq)
            .where(
                later.grant_id == ConsentEventRow.grant_id,
                later.seq > ConsentEventRow.seq,
                later.kind.in_(("withdrawn", "expired")),
            )
            .exists()
        )
        query = select(ConsentEventRow.grant_id).where(ConsentEventRow.expires_at <= now, ~ended)
        return list(self.session.scalars(query.distinct()))


class SqlLedgerStore(SessionStore[_Transaction]):
    """The ledger store (:class:`consent.ledger.LedgerStore`) and the gate's source."""

    def transaction(self, session: Session) -> _Transaction:
        return _Transaction(session)

    def view(self, subject_id: str, app_id: str) -> GateView:
        """Everything the consent gate needs about (citizen, app), in one read transaction."""
        with self.read() as tx:
            restricted = tx.session.scalar(
                select(exists().where(ConsentRestriction.subject_id == subject_id))
            )
            purposes = {p.code: p for p in tx.purposes(app_id)}
            notice = tx.current_notice(app_id)
            events = tx.events_where(
                ConsentEventRow.subject_id == subject_id, ConsentEventRow.app_id == app_id
            )
            grants = {
                g.purpose_code: g for g in derive_grants(events) if g.status is GrantStatus.ACTIVE
            }
        return GateView(
            restricted=bool(restricted),
            purposes=purposes,
            notice_hash=notice.content_hash if notice else None,
            grants=grants,
        )
