"""SQL storage of the data-subject request register and of the restriction flags.

:class:`SqlRequestStore` implements :class:`consent.requests.ports.RequestStore` and
:class:`SqlRestrictionRecorder` implements :class:`consent.requests.ports.RestrictionRecorder`,
on the tables of :mod:`consent.storage.tables`. Both work through a *session source*
(:class:`consent.storage.sessions.SessionSource`): any object whose ``write()`` and ``read()``
open a SQLAlchemy session in a transaction that commits on success and rolls back on error
(Jati's ``identity.storage.database.Database`` is one; on SQLite its writes begin with
``BEGIN IMMEDIATE``).

The register holds no personal data: a subject's internal id, codes, times, the names of the
fields a correction changed and the outcome (codes and the fixed texts of what was kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from audit import AuditAppender, Pseudonymizer
from consent.gate import ChangeNotifier
from consent.requests.ports import ConsentSource, EventSource, NoConsents, SubjectData
from consent.requests.records import (
    RequestKind,
    RequestStatus,
    SubjectRequest,
    outcome_from_json,
    outcome_to_json,
)
from consent.requests.service import RequestService
from consent.storage.sessions import SessionSource, SessionStore
from consent.storage.tables import ConsentRequest, ConsentRestriction

__all__ = [
    "SqlRequestStore",
    "SqlRequestTransaction",
    "SqlRestrictionRecorder",
    "build_request_service",
]


def _request(row: ConsentRequest) -> SubjectRequest:
    return SubjectRequest(
        id=row.id,
        subject_id=row.subject_id,
        kind=RequestKind(row.kind),
        status=RequestStatus(row.status),
        received_at=row.received_at,
        due_by=row.due_by,
        completed_at=row.completed_at,
        fields=tuple(json.loads(row.fields)),
        outcome=outcome_from_json(row.outcome),
        client_id=row.client_id,
    )


class SqlRequestTransaction:
    """:class:`consent.requests.ports.RequestTransaction` over one SQLAlchemy session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def bind(self) -> Session:
        return self.session

    def add(self, request: SubjectRequest) -> None:
        self.session.add(
            ConsentRequest(
                id=request.id,
                subject_id=request.subject_id,
                kind=request.kind.value,
                status=request.status.value,
                received_at=request.received_at,
                due_by=request.due_by,
                completed_at=request.completed_at,
                fields=json.dumps(list(request.fields)),
                outcome=outcome_to_json(request.outcome),
                client_id=request.client_id,
            )
        )
        self.session.flush()

    def update(self, request: SubjectRequest) -> None:
        row = self.session.get(ConsentRequest, request.id, with_for_update=True)
        if row is None:
            raise LookupError("no such request to update")
        row.status = request.status.value
        row.completed_at = request.completed_at
        row.outcome = outcome_to_json(request.outcome)
        self.session.flush()

    def get(self, request_id: str) -> SubjectRequest | None:
        row = self.session.get(ConsentRequest, request_id)
        return _request(row) if row is not None else None

    def of_subject(self, subject_id: str) -> list[SubjectRequest]:
        rows = self.session.scalars(
            select(ConsentRequest)
            .where(ConsentRequest.subject_id == subject_id)
            .order_by(ConsentRequest.received_at.desc(), ConsentRequest.id)
        )
        return [_request(row) for row in rows]

    def listing(self, *, status: RequestStatus | None, limit: int) -> list[SubjectRequest]:
        query = select(ConsentRequest)
        if status is not None:
            query = query.where(ConsentRequest.status == status.value)
        query = query.order_by(ConsentRequest.received_at.desc(), ConsentRequest.id).limit(limit)
        return [_request(row) for row in self.session.scalars(query)]

    def overdue(self, now: datetime) -> list[SubjectRequest]:
        rows = self.session.scalars(
            select(ConsentRequest)
            .where(
                ConsentRequest.status == RequestStatus.RECEIVED.value,
                ConsentRequest.due_by.is_not(None),
                ConsentRequest.due_by < now,
            )
            .order_by(ConsentRequest.due_by, ConsentRequest.id)
        )
        return [_request(row) for row in rows]

    def addressed_to(self, client_ids: Sequence[str] | None, *, limit: int) -> list[SubjectRequest]:
        """Requests to these apps' controllers (None: to Jati itself): every one still
        ``received``, the soonest due first, then up to ``limit`` closed ones, newest first."""
        where = (
            ConsentRequest.client_id.is_(None)
            if client_ids is None
            else ConsentRequest.client_id.in_(list(client_ids))
        )
        waiting = self.session.scalars(
            select(ConsentRequest)
            .where(where, ConsentRequest.status == RequestStatus.RECEIVED.value)
            .order_by(ConsentRequest.due_by, ConsentRequest.received_at, ConsentRequest.id)
        ).all()
        closed = self.session.scalars(
            select(ConsentRequest)
            .where(where, ConsentRequest.status != RequestStatus.RECEIVED.value)
            .order_by(ConsentRequest.completed_at.desc(), ConsentRequest.id)
            .limit(limit)
        ).all()
        return [_request(row) for row in (*waiting, *closed)]

    def counts(self, now: datetime) -> dict[tuple[str, str], int]:
        late = and_(
            ConsentRequest.status == RequestStatus.RECEIVED.value,
            ConsentRequest.due_by.is_not(None),
            ConsentRequest.due_by < now,
        )
        state = case((late, "overdue"), else_=ConsentRequest.status)
        rows = self.session.execute(
            select(ConsentRequest.kind, state.label("state"), func.count()).group_by(
                ConsentRequest.kind, state
            )
        ).all()
        return {(str(kind), str(label)): int(n) for kind, label, n in rows}


class SqlRequestStore(SessionStore[SqlRequestTransaction]):
    """:class:`consent.requests.ports.RequestStore` on Jati's database."""

    def transaction(self, session: Session) -> SqlRequestTransaction:
        return SqlRequestTransaction(session)


class SqlRestrictionRecorder:
    """:class:`consent.requests.ports.RestrictionRecorder`: one row per restricted subject.

    A row is only ever inserted (restricting again keeps the first time); every release path
    asks :meth:`is_restricted`, which reads the database each time, so a restriction
    recorded by one worker holds in every worker at once.
    """

    def __init__(self, *, database: SessionSource) -> None:
        self.database = database

    def restrict(
        self, subject_id: str, *, at: datetime, request_id: str | None = None, bind: Any = None
    ) -> None:
        if bind is not None:
            self._insert(bind, subject_id, at, request_id)
            return
        with self.database.write() as session:
            self._insert(session, subject_id, at, request_id)

    @staticmethod
    def _insert(session: Session, subject_id: str, at: datetime, request_id: str | None) -> None:
        values = {"subject_id": subject_id, "restricted_at": at, "request_id": request_id}
        if session.get_bind().dialect.name == "postgresql":
            statement: Any = pg_insert(ConsentRestriction).values(**values)
        else:
            statement = sqlite_insert(ConsentRestriction).values(**values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["subject_id"]))

    def lift(self, subject_id: str, *, bind: Any) -> bool:
        """Lift the subject's restriction in ``bind``'s transaction; False if none held."""
        result = bind.execute(
            delete(ConsentRestriction).where(ConsentRestriction.subject_id == subject_id)
        )
        return bool(result.rowcount)

    def is_restricted(self, subject_id: str) -> bool:
        return self.restricted_at(subject_id) is not None

    def restricted_at(self, subject_id: str) -> datetime | None:
        with self.database.read() as session:
            return session.scalar(
                select(ConsentRestriction.restricted_at).where(
                    ConsentRestriction.subject_id == subject_id
                )
            )


def build_request_service(
    *,
    database: SessionSource,
    audit: AuditAppender,
    pseudonymizer: Pseudonymizer,
    events: EventSource,
    subject_data: SubjectData,
    clock: Callable[[], datetime],
    consents: ConsentSource | None = None,
    notifier: ChangeNotifier | None = None,
) -> RequestService:
    """The request service on ``database``: its register and restriction flags in the
    consent tables, execution by ``subject_data``, the processing record from ``events``."""
    return RequestService(
        store=SqlRequestStore(database=database),
        clock=clock,
        audit=audit,
        pseudonymizer=pseudonymizer,
        eraser=subject_data,
        corrector=subject_data,
        exporter=subject_data,
        restrictions=SqlRestrictionRecorder(database=database),
        events=events,
        consents=consents or NoConsents(),
        notifier=notifier,
    )
