"""Erasure of a citizen (UU PDP Art. 8, 43-45: destruction "so that it can no longer
identify"): crypto-shredding, as :meth:`CitizenErasure.erase` of the citizen service.

The wrapped data key is deleted, the sealed fields, the NIK blind index and the password
hash are cleared, and a tombstone (citizen id, ``erased_at``) remains so that the audit log's
entries about the citizen keep their meaning. In the same transaction each
:class:`ErasureStep` ends what was issued to the citizen (token families, authorization
codes, login sessions, second factor): nothing issued before the erasure is honoured after
it. With the blind index gone, the NIK may be registered again, as a new citizen with a new
id.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from audit import AuditAppender
from audit.entry import Action, Actor, LegalBasis
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.records import CitizenStore, Clock, Tombstone, citizen_entry, load_live
from identity.login.throttle import LoginThrottle

log = logging.getLogger(__name__)

#: The audit purpose of an erasure.
ERASURE_PURPOSE = "erasure-request"


class ErasureStep(Protocol):
    """Ends, in the erasure's own transaction (``bind``, as the audit appender takes it),
    something issued to the citizen that would otherwise outlive the erasure: token families,
    authorization codes, login sessions (``identity.storage.oidc.CitizenTokenErasure``).
    Part of the erasure: if it fails, nothing is erased (UU PDP Art. 43-44)."""

    def end_for_erased(self, bind: Any, citizen_id: str, *, now: datetime) -> None: ...


class CitizenErasure:
    """The erasure of :class:`identity.citizens.service.CitizenService`, over the service's
    store, clock, audit, throttle and erasure steps."""

    store: CitizenStore
    clock: Clock
    audit: AuditAppender
    pseudonymizer: SubjectPseudonymizer
    throttle: LoginThrottle | None
    erasure_steps: tuple[ErasureStep, ...]

    def erase(
        self,
        citizen_id: str,
        *,
        actor: Actor,
        legal_basis: LegalBasis = LegalBasis.LEGAL_OBLIGATION,
        request_id: str | None = None,
    ) -> Tombstone:
        """Crypto-shred a citizen (UU PDP Art. 43-44) and leave a tombstone.

        In one transaction: the wrapped data key is deleted, the sealed fields, the NIK blind
        index and the password hash are cleared, ``erased_at`` is set, each
        :class:`ErasureStep` ends what was issued to the citizen (their token families are
        revoked, so no refresh token, access token or code of theirs is honoured once this
        commits), and the erasure is audited. The account's login counter is dropped
        afterwards.

        Raises:
            CitizenNotFound; CitizenErased if already erased (nothing changes).
        """
        now = self.clock()
        with self.store.write() as tx:
            found = load_live(tx, citizen_id)
            items = [name for name in PERSONAL_FIELDS if found.sealed.get(name) is not None]
            tx.erase(citizen_id, erased_at=now)
            self.end_issued(tx.bind, citizen_id, now=now)
            entry = citizen_entry(
                self.pseudonymizer, citizen_id, now, actor=actor, action=Action.ERASE,
                items=items, purpose=ERASURE_PURPOSE, legal_basis=legal_basis,
                request_id=request_id,
            )  # fmt: skip
            self.audit.append(tx.bind, entry, queued_at=now)
        self.store.after_erasure()
        if self.throttle is not None and found.nik_index is not None:
            self.throttle.forget_account(found.nik_index)
        log.debug("citizen erased (data key destroyed, tombstone kept)")
        return Tombstone(citizen_id, now)

    def end_issued(self, bind: Any, citizen_id: str, *, now: datetime) -> None:
        """Run every :class:`ErasureStep` in the caller's transaction (``bind``): what was
        issued to the citizen ends (an erasure; an operator's access reset, which keeps the
        citizen, :mod:`identity.citizens.account_access`)."""
        for step in self.erasure_steps:
            step.end_for_erased(bind, citizen_id, now=now)
