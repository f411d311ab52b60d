"""What the data-subject request service is given (UU PDP Art. 14), as protocols: its
register's store, the restriction flags (Art. 11, 41), the executors that the identity
package implements (:mod:`identity.citizens.subject_requests`, since consent may not import
identity), the subject's consents and the audit log's events (the processing record)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from audit.records import EventFilter, StoredLeaf
from consent.requests.records import RequestStatus, SubjectRequest

__all__ = [
    "Clock",
    "ConsentSource",
    "Erasure",
    "EventSource",
    "NoConsents",
    "PersonalDataCorrector",
    "PersonalDataEraser",
    "PersonalDataExport",
    "PersonalDataExporter",
    "RequestStore",
    "RequestTransaction",
    "RestrictionRecorder",
    "SubjectData",
]

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Erasure:
    """What the identity service erased: the names of the data destroyed, and when."""

    erased: tuple[str, ...]
    erased_at: datetime


@dataclass(frozen=True, slots=True)
class PersonalDataExport:
    """A subject's personal data as read through the one audited path (``values``), or, for
    an erased subject, None and the time of erasure. ``repr`` never shows the values."""

    values: Mapping[str, str | None] | None = field(repr=False)
    erased_at: datetime | None = None


class RequestTransaction(Protocol):
    """One database transaction over the register (``consent.storage.requests``)."""

    @property
    def bind(self) -> Any:
        """What the audit appender and the restriction recorder write through."""
        ...

    def add(self, request: SubjectRequest) -> None: ...

    def update(self, request: SubjectRequest) -> None:
        """Store the status, ``completed_at`` and outcome of an existing request."""
        ...

    def get(self, request_id: str) -> SubjectRequest | None: ...

    def of_subject(self, subject_id: str) -> list[SubjectRequest]:
        """A subject's requests, newest first."""
        ...

    def listing(self, *, status: RequestStatus | None, limit: int) -> list[SubjectRequest]:
        """Requests (of a status), newest first."""
        ...

    def overdue(self, now: datetime) -> list[SubjectRequest]:
        """Received, not completed, ``due_by`` before ``now``; the longest overdue first."""
        ...

    def addressed_to(self, client_ids: Sequence[str] | None, *, limit: int) -> list[SubjectRequest]:
        """Requests to these apps' controllers (None: to Jati itself): the ``received``
        ones, soonest due first, then up to ``limit`` closed ones, newest first."""
        ...

    def counts(self, now: datetime) -> dict[tuple[str, str], int]:
        """How many requests of each (kind, state); a state is ``received``, ``overdue``
        (received and past ``due_by`` at ``now``), ``completed`` or ``refused``."""
        ...


class RequestStore(Protocol):
    def write(self) -> AbstractContextManager[RequestTransaction]: ...

    def read(self) -> AbstractContextManager[RequestTransaction]: ...


class RestrictionRecorder(Protocol):
    """The restriction flag per subject (UU PDP Art. 11, 41), which every release path reads.

    ``restrict`` with a ``bind`` joins that transaction (the register's), like the audit
    appender; without one it commits on its own. Restricting twice keeps the first time.
    """

    def restrict(
        self, subject_id: str, *, at: datetime, request_id: str | None = None, bind: Any = None
    ) -> None: ...

    def lift(self, subject_id: str, *, bind: Any) -> bool:
        """End the subject's restriction in ``bind``'s transaction; False if none held."""
        ...

    def is_restricted(self, subject_id: str) -> bool: ...

    def restricted_at(self, subject_id: str) -> datetime | None: ...


class PersonalDataEraser(Protocol):
    """Erases a subject's personal data (crypto-shredding) and audits it with ``request_id``.

    Raises :class:`~consent.errors.SubjectErased` or
    :class:`~consent.errors.SubjectNotFound` (nothing changes)."""

    def erase(self, subject_id: str, *, request_id: str) -> Erasure: ...


class PersonalDataCorrector(Protocol):
    """Corrects personal fields (UU PDP Art. 6, 30) through the one audited write path."""

    def check_correction(self, changes: Mapping[str, str]) -> tuple[str, ...]:
        """Validate ``changes`` without writing; return the field names. Raises
        :class:`~consent.errors.InvalidSubjectRequest` naming a field, never a value."""
        ...

    def correct(
        self, subject_id: str, changes: Mapping[str, str], *, request_id: str
    ) -> tuple[str, ...]:
        """Apply and audit ``changes`` in one transaction; return the field names changed.
        Raises what :meth:`check_correction` raises, or ``SubjectErased``/``SubjectNotFound``."""
        ...


class PersonalDataExporter(Protocol):
    """Reads all of a subject's personal data through the one audited read path."""

    def export(self, subject_id: str, *, request_id: str) -> PersonalDataExport: ...


class SubjectData(PersonalDataEraser, PersonalDataCorrector, PersonalDataExporter, Protocol):
    """One object doing all three (``identity.citizens.subject_requests.CitizenSubjectData``)."""


class ConsentSource(Protocol):
    """The subject's consents as JSON objects (the consent ledger)."""

    def consents_of(self, subject_id: str) -> list[dict[str, Any]]: ...


class EventSource(Protocol):
    """Integrated audit entries matching a filter, in log order (:class:`AuditLog`)."""

    def events(self, flt: EventFilter, *, page_size: int = ...) -> Iterator[StoredLeaf]: ...


class NoConsents:
    """A :class:`ConsentSource` for a service without a consent ledger: no consents."""

    def consents_of(self, subject_id: str) -> list[dict[str, Any]]:
        return []
