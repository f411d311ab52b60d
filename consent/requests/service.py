"""The data-subject request service (UU PDP Art. 14): records each request and carries it out
at once through the identity package's protocols (see :mod:`consent.requests`).

Every request and its completion append an audit entry (Art. 31) in the transaction that
writes the register row; a restriction also sets its flag there (Art. 41). What a citizen
sends is checked (:mod:`consent.requests.checks`) before anything is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from consent.errors import ConsentError, InvalidSubjectRequest, RequestNotFound
from consent.gate import ChangeNotifier
from consent.requests.checks import checked_changes, checked_kind
from consent.requests.export import Export, processing_record
from consent.requests.ports import (
    Clock,
    ConsentSource,
    EventSource,
    NoConsents,
    PersonalDataCorrector,
    PersonalDataEraser,
    PersonalDataExporter,
    RequestStore,
    RestrictionRecorder,
)
from consent.requests.records import (
    DEADLINES,
    DEFAULT_RETAINED_AFTER_ERASURE,
    PURPOSES,
    STATUTORY_DEADLINE,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    RetainedData,
    SubjectRequest,
    new_request_id,
)
from consent.requests.register import RequestRegister

__all__ = ["SELF", "RequestService"]

log = logging.getLogger(__name__)

#: The citizen acting on their own account. Never their id: the entry's subject is already
#: their pseudonym, and an actor id would undo it.
SELF = Actor(kind=ActorKind.CITIZEN, id="self")


@dataclass(kw_only=True, eq=False, repr=False)
class RequestService:
    """Records data-subject requests and carries them out through identity's protocols."""

    store: RequestStore
    clock: Clock
    audit: AuditAppender
    pseudonymizer: Pseudonymizer
    eraser: PersonalDataEraser
    corrector: PersonalDataCorrector
    exporter: PersonalDataExporter
    restrictions: RestrictionRecorder
    events: EventSource
    consents: ConsentSource = field(default_factory=NoConsents)
    notifier: ChangeNotifier | None = None
    retained_after_erasure: tuple[RetainedData, ...] = DEFAULT_RETAINED_AFTER_ERASURE
    register: RequestRegister = field(init=False)

    def __post_init__(self) -> None:
        self.register = RequestRegister(store=self.store, clock=self.clock)

    # ------------------------------------------------------------ submission

    def submit(
        self,
        subject_id: str,
        kind: RequestKind | str,
        *,
        changes: Mapping[str, str] | None = None,
        actor: Actor = SELF,
        client_id: str | None = None,
    ) -> SubjectRequest:
        """Record a request of ``subject_id`` and carry it out at once.

        With ``client_id`` (an app the subject has a consent record with), an access or a
        correction (Art. 30, 32) waits ``received``, 72 hours, for its controller's DPO
        (:mod:`consent.requests.controllers`); Jati's own copy is corrected at once. All
        that was sent is checked before anything is written; a refusal records nothing.

        Returns:
            The request as recorded: ``completed`` (``refused`` with the reason's code when
            the data could no longer be changed), or ``received`` for an app's controller.

        Raises:
            InvalidSubjectRequest: names the part of the request that is wrong, never a value.
        """
        kind = checked_kind(kind)
        if client_id is not None:
            self._check_addressee(subject_id, kind, client_id)
        names: tuple[str, ...] = ()
        if kind is RequestKind.CORRECTION:
            checked = checked_changes(changes)
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
            client_id=client_id,
        )
        if client_id is not None and kind is RequestKind.ACCESS:
            return self._record(request, then=None, actor=actor)  # for the app's DPO
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
        if client_id is not None:  # Jati's copy is corrected; the app's DPO confirms theirs
            log.info("data-subject request %s (%s) received for an app", request.id, kind)
            return request
        completed = self._complete(request, outcome, actor)
        log.info("data-subject request %s (%s) completed", request.id, kind)
        if kind is RequestKind.ERASURE:
            self._notify(subject_id)
        return completed

    def _check_addressee(self, subject_id: str, kind: RequestKind, client_id: str) -> None:
        """An app's controller is asked for access or a correction, and only by a subject
        with a consent record at that app (the same answer for an app that does not exist)."""
        if kind not in (RequestKind.ACCESS, RequestKind.CORRECTION):
            raise InvalidSubjectRequest(
                "client_id", "an app's controller is asked for access or a correction"
            )
        if not any(c.get("app_id") == client_id for c in self.consents.consents_of(subject_id)):
            raise InvalidSubjectRequest("client_id", "name an app you have used")

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
            if request.status is RequestStatus.RECEIVED:  # the app's controller has not yet
                raise InvalidSubjectRequest("request_id", "not answered yet by its controller")
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
