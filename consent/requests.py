"""Data-subject requests: the register through which citizens exercise their rights.

UU PDP Art. 14: the rights of Art. 5-13 are exercised by a recorded request to the
controller. Each request here has a random id, its subject (the citizen's internal id), a
kind, the time it was received, the statutory due-by, a status, the time it was completed
and an outcome that says what was done. Four kinds:

=============  ==========================  =============================================
kind           right                       due-by; what happens on receipt
=============  ==========================  =============================================
access         Art. 7, 32 (and 13: JSON)   72 h; completed at once: the export (personal
                                           data, requests, consents, processing record)
correction     Art. 6, 30                  72 h; applied at once through the identity
                                           service; only the field *names* are kept
erasure        Art. 8, 43-45               none in UU PDP; carried out at once (PP 71/2019
                                           self-service deletion): crypto-shredding, and
                                           the answer names what is kept and on what basis
restriction    Art. 11, 41                 72 h; recorded at once: every release path
                                           reads the flag (:class:`RestrictionRecorder`)
=============  ==========================  =============================================

"3x24 h" (Art. 30, 32, 41) is 72 hours from receipt (see PDP.md). Erasure has no
statutory deadline in UU PDP, so its ``due_by`` is None; it is done at once anyway.

What is stored, and what is not: the register holds no personal data. A correction's new
values go straight to the identity service, which validates, seals and audits them in one
transaction; the register keeps the names of the fields that changed. Nothing here logs an
id of a subject, a field value or a token.

Execution is given to this service as small protocols that the identity package implements
(:mod:`identity.citizens.subject_requests`), since consent may not import identity:
:class:`PersonalDataEraser`, :class:`PersonalDataCorrector`, :class:`PersonalDataExporter`.
Consents come from a :class:`ConsentSource` and the processing record from the audit log
(:class:`EventSource`, which :class:`audit.log.AuditLog` is).

Every request and its completion append an audit entry (Art. 31), in the transaction that
writes the register row. Everything a citizen sends is checked before the request is
recorded. A request whose execution fails with a consent error (the subject was erased
meanwhile, say) is recorded as ``refused`` with the error's code. A correction that fails
otherwise is recorded as ``refused`` with ``internal_error`` (its one write was rolled back,
and its new values are not kept, so no one could carry it out later); an erasure that
fails otherwise stays ``received`` for an operator (it can be carried out again), and so
does any request whose refusal cannot be written either: ``jati requests overdue`` shows
it once its deadline passes.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome, decode_entry
from audit.errors import InvalidEntry
from audit.records import EventFilter, StoredLeaf
from consent.errors import ConsentError, InvalidSubjectRequest, RequestNotFound

__all__ = [
    "DEFAULT_RETAINED_AFTER_ERASURE",
    "STATUTORY_DEADLINE",
    "AuditAppender",
    "ChangeNotifier",
    "ConsentSource",
    "Erasure",
    "EventSource",
    "Export",
    "NoConsents",
    "PersonalDataCorrector",
    "PersonalDataEraser",
    "PersonalDataExport",
    "PersonalDataExporter",
    "Pseudonymizer",
    "RequestKind",
    "RequestOutcome",
    "RequestRegister",
    "RequestService",
    "RequestStatus",
    "RequestStore",
    "RequestTransaction",
    "RestrictionRecorder",
    "RetainedData",
    "SubjectRequest",
    "new_request_id",
    "outcome_from_json",
    "outcome_to_json",
    "processing_record",
]

log = logging.getLogger(__name__)

#: "3x24 jam" (UU PDP Art. 30, 32, 41): 72 hours from receipt of the request.
STATUTORY_DEADLINE = timedelta(hours=72)

#: The citizen acting on their own account. Never their id: the entry's subject is already
#: their pseudonym, and an actor id would undo it.
SELF = Actor(kind=ActorKind.CITIZEN, id="self")

#: Limits on a correction as received (values are checked again by the identity service).
MAX_CORRECTION_FIELDS = 8
MAX_CORRECTION_VALUE_CHARS = 1000
_FIELD_NAME = re.compile(r"[a-z][a-z_]{0,31}")


class RequestKind(StrEnum):
    ACCESS = "access"  # Art. 7, 32
    CORRECTION = "correction"  # Art. 6, 30
    ERASURE = "erasure"  # Art. 8, 43-45
    RESTRICTION = "restriction"  # Art. 11, 41


class RequestStatus(StrEnum):
    RECEIVED = "received"
    COMPLETED = "completed"
    REFUSED = "refused"


#: The deadline the law sets for each kind (None: no statutory deadline).
DEADLINES: Mapping[RequestKind, timedelta | None] = {
    RequestKind.ACCESS: STATUTORY_DEADLINE,
    RequestKind.CORRECTION: STATUTORY_DEADLINE,
    RequestKind.ERASURE: None,
    RequestKind.RESTRICTION: STATUTORY_DEADLINE,
}

#: The audit purpose code of each kind's entries; every one is processing under a legal
#: obligation (Art. 20(2)(c)): the controller must honour the request.
PURPOSES: Mapping[RequestKind, str] = {kind: f"data-subject-{kind.value}" for kind in RequestKind}


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class RetainedData:
    """Data kept after an erasure, named with the basis that requires keeping it.

    UU PDP Art. 43-45 with Art. 8: erasure destroys the data "so that it can no longer
    identify"; what the law requires the controller to keep is kept and named in the answer
    (DESIGN.md §4), in Bahasa Indonesia first.
    """

    item: str
    basis: str
    description_id: str
    description_en: str

    def to_json_dict(self) -> dict[str, str]:
        return {
            "item": self.item,
            "basis": self.basis,
            "description_id": self.description_id,
            "description_en": self.description_en,
        }


#: What an erasure keeps. None of it holds personal data in plain text.
DEFAULT_RETAINED_AFTER_ERASURE: tuple[RetainedData, ...] = (
    RetainedData(
        item="audit-log",
        basis="UU PDP Art. 31; Permenkominfo 20/2016 (audit trail, at least 5 years)",
        description_id=(
            "Entri log audit tentang Anda: pseudonim berkunci dan kode (siapa, kapan, tujuan, "
            "dasar hukum, nama jenis data), tanpa data pribadi Anda dalam bentuk terbaca. "
            "Log hanya dapat ditambah, agar catatan pemrosesan tetap dapat diverifikasi."
        ),
        description_en=(
            "The audit log's entries about you: a keyed pseudonym and codes (who, when, "
            "purpose, legal basis, names of data items), never your personal data in plain "
            "text. The log is append-only so that the record of processing stays verifiable."
        ),
    ),
    RetainedData(
        item="request-register",
        basis="UU PDP Art. 14; PP 71/2019 (register of deletion requests)",
        description_id=(
            "Catatan permintaan Anda (jenis, waktu, status, nama kolom yang dikoreksi, tanpa "
            "nilainya)."
        ),
        description_en=(
            "The record of your requests (kind, times, status, names of corrected fields, "
            "never their values)."
        ),
    ),
    RetainedData(
        item="tombstone",
        basis="UU PDP Art. 45, 47 (notice and proof of the erasure)",
        description_id=(
            "ID akun acak Anda dan waktu penghapusan, tanpa data pribadi, sebagai bukti bahwa "
            "data telah dimusnahkan."
        ),
        description_en=(
            "Your random account id and the time of erasure, without personal data, as proof "
            "that the data was destroyed."
        ),
    ),
    RetainedData(
        item="consent-records",
        basis="UU PDP Art. 24 (the controller must prove consent)",
        description_id=(
            "Riwayat persetujuan Anda (aplikasi, tujuan, hash pemberitahuan, waktu), tanpa data "
            "pribadi dalam bentuk terbaca."
        ),
        description_en=(
            "The history of your consents (app, purpose, notice hash, times), without personal "
            "data in plain text."
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What became of a request: ``action`` is a code (``exported``, ``corrected``,
    ``erased``, ``restricted``, ``refused``); ``fields`` names the fields corrected or erased;
    ``kept`` what an erasure kept and why; ``reason`` the error code of a refusal."""

    action: str
    fields: tuple[str, ...] = ()
    kept: tuple[RetainedData, ...] = ()
    reason: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "fields": list(self.fields),
            "kept": [item.to_json_dict() for item in self.kept],
            "reason": self.reason,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> RequestOutcome:
        return cls(
            action=str(data["action"]),
            fields=tuple(str(f) for f in data.get("fields", ())),
            kept=tuple(RetainedData(**item) for item in data.get("kept", ())),
            reason=data.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    """One recorded request (UU PDP Art. 14). ``fields``: names only, never values."""

    id: str
    subject_id: str = field(repr=False)
    kind: RequestKind
    status: RequestStatus
    received_at: datetime
    due_by: datetime | None
    completed_at: datetime | None = None
    fields: tuple[str, ...] = ()
    outcome: RequestOutcome | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Past its statutory deadline and not yet completed or refused."""
        return (
            self.status is RequestStatus.RECEIVED and self.due_by is not None and now > self.due_by
        )

    def hours_late(self, now: datetime) -> float:
        """Hours past ``due_by`` (0 when not late)."""
        if self.due_by is None or now <= self.due_by:
            return 0.0
        return (now - self.due_by).total_seconds() / 3600

    def to_json_dict(self) -> dict[str, Any]:
        """The request as shown to its citizen and to operators (no subject id)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "status": self.status.value,
            "received_at": _time(self.received_at),
            "due_by": _time(self.due_by),
            "completed_at": _time(self.completed_at),
            "fields": list(self.fields),
            "outcome": self.outcome.to_json_dict() if self.outcome else None,
        }


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


@dataclass(frozen=True, slots=True)
class Export:
    """Everything the access right gives (Art. 7, 13, 32), as one document.

    ``processing_record`` is lazy: the audit log is read page by page while the document is
    written out, so a long history is streamed in constant memory.
    """

    request: SubjectRequest
    generated_at: datetime
    personal_data: PersonalDataExport
    requests: list[SubjectRequest]
    consents: list[dict[str, Any]]
    restricted_at: datetime | None
    processing_record: Iterator[dict[str, Any]] = field(repr=False)

    FORMAT = "jati-subject-export/1"

    def head(self) -> dict[str, Any]:
        """The document without its processing record (written first, then the record)."""
        data = self.personal_data
        return {
            "format": self.FORMAT,
            "generated_at": _time(self.generated_at),
            "request": self.request.to_json_dict(),
            "personal_data": dict(data.values) if data.values is not None else None,
            "erased_at": _time(data.erased_at),
            "restricted_at": _time(self.restricted_at),
            "requests": [r.to_json_dict() for r in self.requests],
            "consents": self.consents,
        }


# ---------------------------------------------------------------- collaborators


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


class ConsentSource(Protocol):
    """The subject's consents as JSON objects (the consent ledger)."""

    def consents_of(self, subject_id: str) -> list[dict[str, Any]]: ...


class EventSource(Protocol):
    """Integrated audit entries matching a filter, in log order (:class:`AuditLog`)."""

    def events(self, flt: EventFilter, *, page_size: int = ...) -> Iterator[StoredLeaf]: ...


class ChangeNotifier(Protocol):
    """Told after a subject's restriction or erasure commits, so that every worker's consent
    gate sees it on its next check."""

    def changed(self, subject_id: str | None) -> None: ...


class NoConsents:
    """A :class:`ConsentSource` for a service without a consent ledger: no consents."""

    def consents_of(self, subject_id: str) -> list[dict[str, Any]]:
        return []


Clock = Callable[[], datetime]


def new_request_id() -> str:
    """128 random bits, base32 (26 lowercase characters)."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


# ---------------------------------------------------------------- the register


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
        if not _looks_like_request_id(request_id):
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
        wanted = _status(status) if status is not None else None
        if not 1 <= limit <= 100_000:
            raise InvalidSubjectRequest("limit", "between 1 and 100000")
        with self.store.read() as tx:
            return tx.listing(status=wanted, limit=limit)

    def overdue(self) -> list[SubjectRequest]:
        """Requests past their statutory due-by and still not completed (Art. 14), the
        longest overdue first."""
        now = self.clock()
        with self.store.read() as tx:
            return [r for r in tx.overdue(now) if r.is_overdue(now)]


# ---------------------------------------------------------------- the service


class RequestService:
    """Records data-subject requests and carries them out through identity's protocols."""

    def __init__(
        self,
        *,
        store: RequestStore,
        clock: Clock,
        audit: AuditAppender,
        pseudonymizer: Pseudonymizer,
        eraser: PersonalDataEraser,
        corrector: PersonalDataCorrector,
        exporter: PersonalDataExporter,
        restrictions: RestrictionRecorder,
        events: EventSource,
        consents: ConsentSource | None = None,
        notifier: ChangeNotifier | None = None,
        retained_after_erasure: Sequence[RetainedData] = DEFAULT_RETAINED_AFTER_ERASURE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.pseudonymizer = pseudonymizer
        self.eraser = eraser
        self.corrector = corrector
        self.exporter = exporter
        self.restrictions = restrictions
        self.events = events
        self.consents: ConsentSource = consents or NoConsents()
        self.notifier = notifier
        self.retained_after_erasure = tuple(retained_after_erasure)
        self.register = RequestRegister(store=store, clock=clock)

    # ------------------------------------------------------------ submission

    def submit(
        self,
        subject_id: str,
        kind: RequestKind | str,
        *,
        changes: Mapping[str, str] | None = None,
        actor: Actor = SELF,
    ) -> SubjectRequest:
        """Record a request of ``subject_id`` and carry it out at once.

        Everything the caller sent is checked before anything is written: a bad kind, a
        correction without fields, fields on another kind, or a field value the identity
        service refuses raise :class:`InvalidSubjectRequest` and record nothing.

        Returns:
            The request as recorded: ``completed`` (``refused`` with the reason's code when
            the subject's data could no longer be changed, e.g. erased meanwhile).

        Raises:
            InvalidSubjectRequest: names the part of the request that is wrong, never a value.
        """
        kind = _kind(kind)
        names: tuple[str, ...] = ()
        if kind is RequestKind.CORRECTION:
            checked = _checked_changes(changes)
            names = self.corrector.check_correction(checked)
            changes = checked
        elif changes is not None:  # even empty: the kind takes none
            raise InvalidSubjectRequest("fields", "only a correction request takes fields")
        now = self.clock()
        deadline = DEADLINES[kind]
        request = SubjectRequest(
            id=new_request_id(),
            subject_id=subject_id,
            kind=kind,
            status=RequestStatus.RECEIVED,
            received_at=now,
            due_by=now + deadline if deadline is not None else None,
            fields=names,
        )
        if kind is RequestKind.ACCESS:
            return self._record(request, then=RequestOutcome("exported"), actor=actor)
        if kind is RequestKind.RESTRICTION:
            restricted = self._record(request, then=RequestOutcome("restricted"), actor=actor)
            self._notify(subject_id)
            return restricted
        self._record(request, then=None, actor=actor)
        try:
            if kind is RequestKind.CORRECTION:
                assert changes is not None
                changed = self.corrector.correct(subject_id, changes, request_id=request.id)
                outcome = RequestOutcome("corrected", fields=changed)
            else:
                erasure = self.eraser.erase(subject_id, request_id=request.id)
                outcome = RequestOutcome(
                    "erased", fields=erasure.erased, kept=self.retained_after_erasure
                )
        except ConsentError as exc:
            log.info("data-subject request %s (%s) refused: %s", request.id, kind, exc.code)
            return self._complete(request, RequestOutcome("refused", reason=exc.code), actor)
        except Exception as exc:
            # The error's type only (its text could quote what was sent).
            log.error(
                "data-subject request %s (%s) failed: %s", request.id, kind, type(exc).__name__
            )
            if kind is RequestKind.CORRECTION:
                self._refuse_after_failure(request, actor)
            raise
        completed = self._complete(request, outcome, actor)
        log.info("data-subject request %s (%s) completed", request.id, kind)
        if kind is RequestKind.ERASURE:
            self._notify(subject_id)
        return completed

    # ------------------------------------------------------------ access

    def export(
        self, subject_id: str, *, request_id: str | None = None, actor: Actor = SELF
    ) -> Export:
        """The subject's export (UU PDP Art. 7, 13, 32): personal data, requests, consents,
        restriction and the processing record from the audit log.

        With ``request_id`` (one of the subject's access requests) the export answers that
        request; without, a new access request is recorded and completed, so every export
        is a recorded request (Art. 14). The personal data is read through the identity
        service's one audited path, with purpose ``data-subject-access``, legal basis (c),
        and the request's id in the entry.

        Raises:
            RequestNotFound: ``request_id`` is not one of this subject's access requests.
            SubjectNotFound: no such subject (the new request is recorded as refused).
        """
        if request_id is not None:
            request = self.register.request_of(subject_id, request_id)
            if request.kind is not RequestKind.ACCESS:
                raise RequestNotFound()
            data = self.exporter.export(subject_id, request_id=request.id)
        else:
            now = self.clock()
            request = SubjectRequest(
                id=new_request_id(),
                subject_id=subject_id,
                kind=RequestKind.ACCESS,
                status=RequestStatus.RECEIVED,
                received_at=now,
                due_by=now + STATUTORY_DEADLINE,
            )
            self._record(request, then=None, actor=actor)
            try:
                data = self.exporter.export(subject_id, request_id=request.id)
            except ConsentError as exc:
                self._complete(request, RequestOutcome("refused", reason=exc.code), actor)
                raise
            request = self._complete(request, RequestOutcome("exported"), actor)
        generated_at = self.clock()
        return Export(
            request=request,
            generated_at=generated_at,
            personal_data=data,
            requests=self.register.requests_of(subject_id),
            consents=self.consents.consents_of(subject_id),
            restricted_at=self.restrictions.restricted_at(subject_id),
            processing_record=processing_record(
                self.events, self.pseudonymizer.pseudonym(subject_id), now=generated_at
            ),
        )

    # ------------------------------------------------------------ reads

    def requests_of(self, subject_id: str) -> list[SubjectRequest]:
        return self.register.requests_of(subject_id)

    def request_of(self, subject_id: str, request_id: str) -> SubjectRequest:
        return self.register.request_of(subject_id, request_id)

    # ------------------------------------------------------------ helpers

    def _record(
        self, request: SubjectRequest, *, then: RequestOutcome | None, actor: Actor
    ) -> SubjectRequest:
        """Insert ``request`` with its receipt entry; with ``then``, complete it in the same
        transaction (a restriction also sets the flag there)."""
        now = request.received_at
        done = (
            replace(request, status=RequestStatus.COMPLETED, completed_at=now, outcome=then)
            if then is not None
            else request
        )
        receipt = self._entry(request, Action.CREATE, now, actor)
        with self.store.write() as tx:
            tx.add(done)
            self.audit.append(tx.bind, receipt, queued_at=now)
            if then is not None:
                if request.kind is RequestKind.RESTRICTION:
                    self.restrictions.restrict(
                        request.subject_id, at=now, request_id=request.id, bind=tx.bind
                    )
                restricting = request.kind is RequestKind.RESTRICTION
                action = Action.RESTRICT if restricting else Action.UPDATE
                self.audit.append(tx.bind, self._entry(done, action, now, actor), queued_at=now)
        return done

    def _refuse_after_failure(self, request: SubjectRequest, actor: Actor) -> None:
        """Close a correction whose write failed (and was rolled back) as ``refused`` with
        ``internal_error``, rather than leave it ``received`` for good: its new values are not
        kept, so no one could carry it out later. If even that cannot be written, it stays
        ``received`` and ``jati requests overdue`` shows it."""
        try:
            self._complete(
                request, RequestOutcome("refused", reason="internal_error"), actor, failed=True
            )
        except Exception as exc:
            log.error("data-subject request %s left received: %s", request.id, type(exc).__name__)

    def _complete(
        self,
        request: SubjectRequest,
        outcome: RequestOutcome,
        actor: Actor,
        *,
        failed: bool = False,
    ) -> SubjectRequest:
        """Record the end of ``request``: completed, or refused (``failed``: because of an
        error of Jati's, audited with outcome ``error`` rather than ``denied``)."""
        now = self.clock()
        refused = outcome.action == "refused"
        done = replace(
            request,
            status=RequestStatus.REFUSED if refused else RequestStatus.COMPLETED,
            completed_at=now,
            outcome=outcome,
        )
        entry_outcome = Outcome.SUCCESS
        if refused:
            entry_outcome = Outcome.ERROR if failed else Outcome.DENIED
        entry = self._entry(done, Action.UPDATE, now, actor, outcome=entry_outcome)
        with self.store.write() as tx:
            tx.update(done)
            self.audit.append(tx.bind, entry, queued_at=now)
        return done

    def _entry(
        self,
        request: SubjectRequest,
        action: Action,
        now: datetime,
        actor: Actor,
        *,
        outcome: Outcome = Outcome.SUCCESS,
    ) -> AuditEntry:
        return AuditEntry(
            time=now,
            actor=actor,
            action=action,
            outcome=outcome,
            subject=self.pseudonymizer.pseudonym(request.subject_id),
            data_items=request.fields,
            purpose=PURPOSES[request.kind],
            legal_basis=LegalBasis.LEGAL_OBLIGATION,
            request_id=request.id,
        )

    def _notify(self, subject_id: str) -> None:
        if self.notifier is not None:
            self.notifier.changed(subject_id)


# ---------------------------------------------------------------- the processing record


def processing_record(
    events: EventSource, subject_pseudonym: str, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The subject's processing record (UU PDP Art. 31, 32): every integrated audit entry
    about them, in log order, with its leaf index (so that the citizen can ask for an
    inclusion proof), lazily.

    Entries withheld under an Art. 15/50 exception (not citizen-visible, or visible only
    after a time still to come) are left out, as on the citizen's "who used my data" view.
    """
    for leaf in events.events(EventFilter(subject=subject_pseudonym)):
        try:
            entry = decode_entry(leaf.entry)
        except InvalidEntry:
            continue  # `jati audit verify` reports it; a citizen's export skips it
        if not entry.visible_to_citizen(now):
            continue
        yield {
            "leaf_index": leaf.leaf_index,
            "time": _time(entry.time),
            "actor": {"kind": entry.actor.kind.value, "id": entry.actor.id},
            "action": entry.action.value,
            "purpose": entry.purpose,
            "legal_basis": entry.legal_basis.value if entry.legal_basis else None,
            "data_items": list(entry.data_items),
            "consent_id": entry.consent_id,
            "request_id": entry.request_id,
            "outcome": entry.outcome.value,
        }


# ---------------------------------------------------------------- checks


def _kind(value: RequestKind | str) -> RequestKind:
    try:
        return RequestKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in RequestKind)
        raise InvalidSubjectRequest("kind", f"must be one of: {allowed}") from None


def _status(value: RequestStatus | str) -> RequestStatus:
    try:
        return RequestStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in RequestStatus)
        raise InvalidSubjectRequest("status", f"must be one of: {allowed}") from None


def _checked_changes(changes: Mapping[str, str] | None) -> dict[str, str]:
    """The shape of a correction: a few field names, each with a text value. Nothing the
    client sent is repeated in an error, not even a field name (it could carry personal
    data); the identity service then names the field it refuses, from its own list."""
    if not changes:
        raise InvalidSubjectRequest("fields", "name one or more fields and their new values")
    if len(changes) > MAX_CORRECTION_FIELDS:
        raise InvalidSubjectRequest("fields", f"at most {MAX_CORRECTION_FIELDS} fields")
    checked: dict[str, str] = {}
    for name, value in changes.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidSubjectRequest("fields", "field names are lower-case words")
        if not isinstance(value, str) or not _is_text(value):
            raise InvalidSubjectRequest("fields", "each new value must be text")
        if len(value) > MAX_CORRECTION_VALUE_CHARS:
            raise InvalidSubjectRequest(
                "fields", f"a new value has at most {MAX_CORRECTION_VALUE_CHARS} characters"
            )
        checked[name] = value
    return checked


def _is_text(value: str) -> bool:
    """Text that can be stored: no NUL (PostgreSQL text cannot hold one) and no lone
    surrogate (JSON's ``\\ud800`` escape gives one; it has no UTF-8 form)."""
    return "\x00" not in value and _LONE_SURROGATE.search(value) is None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REQUEST_ID = re.compile(r"[a-z2-7]{26}")


def _looks_like_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.fullmatch(value))


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def outcome_to_json(outcome: RequestOutcome | None) -> str | None:
    """The stored form of an outcome (storage adapters use it)."""
    return json.dumps(outcome.to_json_dict(), sort_keys=True) if outcome else None


def outcome_from_json(text: str | None) -> RequestOutcome | None:
    return RequestOutcome.from_json_dict(json.loads(text)) if text else None
