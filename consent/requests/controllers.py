"""The data protection officer's desk (UU PDP Art. 14, 30, 32, 41, 53): the requests a
controller must answer, and the acts that answer them.

- A DPO of some apps sees the requests addressed to those apps' controllers
  (:meth:`ControllerDesk.requests_for`): every one still ``received``, the soonest due
  first, then the latest closed. :meth:`ControllerDesk.complete` answers one: an access
  request becomes ``exported`` (the citizen downloads Jati's export under it), a correction
  ``corrected`` (Jati's own copy was corrected when the citizen asked; the DPO confirms the
  app's).
- The platform's DPO (a DPO of no app: Jati's own controller) sees the requests to Jati, and
  :meth:`ControllerDesk.lift` ends a citizen's restriction of processing (Art. 41 restricts
  "for a period"; lifting was the path missing): the flag goes in the same transaction as
  its audit entry, and every worker's consent gate hears of it.

Each act is an audit entry under the officer (``staff:<id>:dpo``), the citizen's pseudonym as
subject, the request's purpose (``data-subject-<kind>``), legal basis (c) and the request id,
so the citizen reads it in their log. An act on a request that is not the officer's, or no
longer open, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, AuditEntry, LegalBasis, Outcome
from consent.errors import InvalidSubjectRequest, RequestNotFound
from consent.gate import ChangeNotifier
from consent.requests.checks import looks_like_request_id
from consent.requests.ports import Clock, RequestStore, RestrictionRecorder
from consent.requests.records import (
    PURPOSES,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    SubjectRequest,
)

__all__ = ["ControllerDesk"]

log = logging.getLogger(__name__)

_ANSWERS = {RequestKind.ACCESS: "exported", RequestKind.CORRECTION: "corrected"}


@dataclass(kw_only=True, eq=False, repr=False)
class ControllerDesk:
    """Lists and answers the requests addressed to a controller."""

    store: RequestStore
    clock: Clock
    audit: AuditAppender
    pseudonymizer: Pseudonymizer
    restrictions: RestrictionRecorder
    notifier: ChangeNotifier | None = None

    def requests_for(
        self, client_ids: Sequence[str] | None, *, limit: int = 50
    ) -> list[SubjectRequest]:
        """The requests to these apps' controllers (None: to Jati itself), open ones first."""
        if client_ids is not None and not client_ids:
            return []
        with self.store.read() as tx:
            return tx.addressed_to(client_ids, limit=limit)

    def restricted(self, requests: Sequence[SubjectRequest]) -> set[str]:
        """The ids of the restriction requests among ``requests`` whose restriction holds."""
        return {
            r.id
            for r in requests
            if r.kind is RequestKind.RESTRICTION
            and r.status is RequestStatus.COMPLETED
            and r.outcome is not None
            and r.outcome.action == "restricted"
            and self.restrictions.is_restricted(r.subject_id)
        }

    def complete(
        self, request_id: str, *, client_ids: Sequence[str], actor: Actor
    ) -> SubjectRequest:
        """Answer an open access or correction request to one of ``client_ids``' controllers.

        Raises:
            RequestNotFound: no such request among these apps' (the same answer for any).
            InvalidSubjectRequest: it is closed already.
        """
        now = self.clock()
        with self.store.write() as tx:
            request = self._own(tx.get(request_id) if looks_like_request_id(request_id)
                                else None, client_ids)  # fmt: skip
            if request.status is not RequestStatus.RECEIVED:
                raise InvalidSubjectRequest("status", "this request is closed already")
            done = replace(
                request, status=RequestStatus.COMPLETED, completed_at=now,
                outcome=RequestOutcome(_ANSWERS[request.kind], fields=request.fields),
            )  # fmt: skip
            tx.update(done)
            self.audit.append(tx.bind, self._entry(done, actor, Action.UPDATE), queued_at=now)
        log.info("data-subject request %s (%s) answered by its controller", done.id, done.kind)
        return done

    def lift(self, request_id: str, *, actor: Actor) -> SubjectRequest:
        """End the restriction a request to Jati made (the platform's DPO).

        Raises:
            RequestNotFound: no restriction request to Jati with this id.
            InvalidSubjectRequest: its restriction no longer holds.
        """
        now = self.clock()
        with self.store.write() as tx:
            found = tx.get(request_id) if looks_like_request_id(request_id) else None
            if found is None or found.kind is not RequestKind.RESTRICTION or found.client_id:
                raise RequestNotFound()
            if not self.restrictions.lift(found.subject_id, bind=tx.bind):
                raise InvalidSubjectRequest("status", "this restriction no longer holds")
            lifted = replace(found, outcome=RequestOutcome("lifted"))
            tx.update(lifted)
            self.audit.append(tx.bind, self._entry(lifted, actor, Action.UPDATE), queued_at=now)
        if self.notifier is not None:
            self.notifier.changed(found.subject_id)
        log.info("restriction of request %s lifted", found.id)
        return lifted

    @staticmethod
    def _own(found: SubjectRequest | None, client_ids: Sequence[str]) -> SubjectRequest:
        if found is None or found.client_id is None or found.client_id not in client_ids:
            raise RequestNotFound()
        return found

    def _entry(self, request: SubjectRequest, actor: Actor, action: Action) -> AuditEntry:
        return AuditEntry(
            time=self.clock(), actor=actor, action=action, outcome=Outcome.SUCCESS,
            subject=self.pseudonymizer.pseudonym(request.subject_id),
            data_items=request.fields, purpose=PURPOSES[request.kind],
            legal_basis=LegalBasis.LEGAL_OBLIGATION, request_id=request.id,
        )  # fmt: skip
