"""Reads of the data-subject request register (UU PDP Art. 14): a subject's own requests, one
of them, listings for operators and the requests past their statutory due-by."""

from __future__ import annotations

from consent.errors import InvalidSubjectRequest, RequestNotFound
from consent.requests.checks import checked_status, looks_like_request_id
from consent.requests.ports import Clock, RequestStore
from consent.requests.records import RequestStatus, SubjectRequest

__all__ = ["RequestRegister"]


class RequestRegister:
    """Reads of the register: a subject's requests, one request, listings, overdue ones."""

    def __init__(self, *, store: RequestStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def requests_of(self, subject_id: str) -> list[SubjectRequest]:
        """The subject's own requests, newest first."""
        with self.store.read() as tx:
            return tx.of_subject(subject_id)

    def request_of(self, subject_id: str, request_id: str) -> SubjectRequest:
        """One of the subject's requests.

        Raises:
            RequestNotFound: no such request *for this subject*; the same answer whether
                the id exists for another subject or not at all.
        """
        if not looks_like_request_id(request_id):
            raise RequestNotFound()
        with self.store.read() as tx:
            found = tx.get(request_id)
        if found is None or found.subject_id != subject_id:
            raise RequestNotFound()
        return found

    def listing(
        self, *, status: RequestStatus | str | None = None, limit: int = 100
    ) -> list[SubjectRequest]:
        """Requests for operators, newest first (``status`` filters)."""
        wanted = checked_status(status) if status is not None else None
        if not 1 <= limit <= 100_000:
            raise InvalidSubjectRequest("limit", "between 1 and 100000")
        with self.store.read() as tx:
            return tx.listing(status=wanted, limit=limit)

    def counts(self) -> dict[tuple[str, str], int]:
        """How many requests of each (kind, state), ``overdue`` apart from ``received``
        (Art. 14: the register shows what is late)."""
        with self.store.read() as tx:
            return tx.counts(self.clock())

    def overdue(self) -> list[SubjectRequest]:
        """Requests past their statutory due-by and still not completed (Art. 14), the
        longest overdue first."""
        now = self.clock()
        with self.store.read() as tx:
            return [r for r in tx.overdue(now) if r.is_overdue(now)]
