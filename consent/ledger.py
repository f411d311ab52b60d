"""The consent ledger: append-only consent events and the grants derived from them.

- **Events** (UU PDP Art. 24: the controller must prove consent): ``given``, ``renewed``,
  ``refused``, ``withdrawn``, ``expired``. Each carries the hash of the notice the citizen
  saw, who decided (the citizen, or a parent/guardian for a child: Art. 25), when, and the
  explicit act. Events are never updated or deleted (database triggers refuse it); the
  current state of a grant is derived from its events (:mod:`consent.grants`).
- **Recording a decision** (Art. 22): one explicit choice per purpose whose basis is consent,
  nothing bundled or pre-ticked, after the app's current notice, by an explicit act. A child
  (under 18) is represented by a parent or guardian (Art. 25(1)); such a grant must be
  re-confirmed by the citizen at majority. An attempt that fails any rule is refused with a
  clear error and records nothing.
- **Withdrawal** (Art. 9, 40(1)): takes effect at once; the record keeps the time the request
  was received, the statutory due-by (3x24 h) and the actual effective time.
- Every event appends an audit entry in the same transaction (Art. 31).

After a change commits, the subject's slot in the shared generations is bumped so that every
worker's consent gate sees it on its next check (:mod:`consent.gate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from consent.errors import GrantNotFound, InvalidConsent, InvalidPurpose, NoticeChanged
from consent.gate import ChangeNotifier
from consent.grants import (
    ConsentEvent,
    EventKind,
    GivenBy,
    Grant,
    GrantStatus,
    derive_grants,
    grant_summary,
    new_id,
)
from consent.notices import Notice, NoticeContent
from consent.purposes import Purpose

WITHDRAWAL_DEADLINE = timedelta(hours=72)  # Art. 40(1): processing stops within 3x24 h
AGE_OF_MAJORITY = 18  # Art. 25 (Penjelasan): a child is under 18
MAX_ACT_CHARS = 200


_AUDIT_ACTION = {
    EventKind.GIVEN: Action.CONSENT_GIVEN,
    EventKind.RENEWED: Action.CONSENT_GIVEN,
    EventKind.REFUSED: Action.CONSENT_REFUSED,
    EventKind.WITHDRAWN: Action.CONSENT_WITHDRAWN,
    EventKind.EXPIRED: Action.CONSENT_EXPIRED,
}


@dataclass(frozen=True, slots=True)
class ConsentAttempt:
    """A citizen's (or guardian's) decision on an app's consent purposes (Art. 22).

    ``choices`` maps each purpose code whose basis is consent to an explicit True (grant) or
    False (refuse); ``act`` describes the explicit affirmative act (e.g. which button of the
    consent screen was pressed); ``notice_hash`` is the notice shown.
    """

    subject_id: str
    app_id: str
    notice_hash: str
    choices: Mapping[str, bool]
    act: str
    subject_birthdate: date
    guardian_id: str | None = None
    expires_at: datetime | None = None


class LedgerTransaction(Protocol):
    bind: Any

    def lock_subject(self, subject_id: str) -> None: ...
    def add_purpose(self, purpose: Purpose) -> None: ...
    def purposes(self, app_id: str) -> list[Purpose]: ...
    def add_notice(self, notice: Notice) -> None: ...
    def current_notice(self, app_id: str) -> Notice | None: ...
    def notice_by_hash(self, app_id: str, content_hash: str) -> Notice | None: ...
    def notice_version(self, app_id: str, version: int) -> Notice | None: ...
    def append_events(self, events: Sequence[ConsentEvent]) -> None: ...
    def events_of_subject(self, subject_id: str) -> list[ConsentEvent]: ...
    def grants_due_to_expire(self, now: datetime) -> list[str]: ...
    def events_of_grant(self, grant_id: str) -> list[ConsentEvent]: ...


class LedgerStore(Protocol):
    def write(self) -> AbstractContextManager[LedgerTransaction]: ...
    def read(self) -> AbstractContextManager[LedgerTransaction]: ...


def _majority(birthdate: date) -> date:
    try:
        return birthdate.replace(year=birthdate.year + AGE_OF_MAJORITY)
    except ValueError:  # 29 February
        return date(birthdate.year + AGE_OF_MAJORITY, 3, 1)


@dataclass(kw_only=True, eq=False, repr=False)
class ConsentLedger:
    """Purposes, notices and grants, with every change audited."""

    store: LedgerStore
    clock: Callable[[], datetime]
    audit: AuditAppender
    pseudonymizer: Pseudonymizer
    notifier: ChangeNotifier | None = None

    # -- purposes and notices -------------------------------------------------------------

    def register_purpose(self, purpose: Purpose) -> Purpose:
        with self.store.write() as tx:
            if any(p.code == purpose.code for p in tx.purposes(purpose.app_id)):
                raise InvalidPurpose(f"purpose {purpose.code} is already registered")
            tx.add_purpose(purpose)
        self._changed(None)
        return purpose

    def purposes(self, app_id: str) -> list[Purpose]:
        with self.store.read() as tx:
            return tx.purposes(app_id)

    def publish_notice(self, app_id: str, content: NoticeContent) -> Notice:
        """Publish the app's next notice version. Existing grants made under an earlier
        version no longer count: the citizen is asked again (Art. 21(2))."""
        with self.store.write() as tx:
            current = tx.current_notice(app_id)
            if current is not None and current.content_hash == content.content_hash:
                return current  # the same text again: nothing changes
            notice = Notice(
                app_id=app_id,
                version=(current.version + 1) if current else 1,
                content=content,
                content_hash=content.content_hash,
                published_at=self.clock(),
            )
            tx.add_notice(notice)
        self._changed(None)
        return notice

    def current_notice(self, app_id: str) -> Notice | None:
        with self.store.read() as tx:
            return tx.current_notice(app_id)

    def notice(self, app_id: str, version: int) -> Notice | None:
        """A published version of the app's notice (versions are immutable, so the text a
        citizen consented under stays readable after a newer one is published, Art. 24)."""
        with self.store.read() as tx:
            return tx.notice_version(app_id, version)

    def notice_of(self, grant: Grant) -> Notice | None:
        """The notice version the grant was given (or last renewed) under."""
        with self.store.read() as tx:
            return tx.notice_by_hash(grant.app_id, grant.notice_hash)

    # -- decisions ------------------------------------------------------------------------

    def record(self, attempt: ConsentAttempt) -> list[Grant]:
        """Record a decision on every consent purpose of the app (Art. 22, 25).

        Raises:
            InvalidConsent: the attempt breaks a rule; nothing is recorded.
            NoticeChanged: the notice shown is not the app's current one.
        """
        now = self.clock()
        act, is_child, adult_on = _check_attempt(attempt, now)
        with self.store.write() as tx:
            tx.lock_subject(attempt.subject_id)
            notice = tx.current_notice(attempt.app_id)
            if notice is None:
                raise InvalidConsent(
                    "the app has no published notice: consent cannot be informed (Art. 21)"
                )
            if notice.content_hash != attempt.notice_hash:
                raise NoticeChanged(
                    "the notice shown is not the app's current notice; show it and ask again"
                )
            purposes = _purposes_by_code(tx, attempt.app_id)
            asked = _check_choices(attempt, purposes)
            current = {
                g.purpose_code: g
                for g in derive_grants(tx.events_of_subject(attempt.subject_id))
                if g.app_id == attempt.app_id
                and g.status_at(now) in (GrantStatus.ACTIVE, GrantStatus.NEEDS_RECONFIRMATION)
            }
            decision = _Decision(
                attempt=attempt,
                notice_hash=notice.content_hash,
                at=now,
                act=act,
                given_by=GivenBy.GUARDIAN if is_child else GivenBy.SUBJECT,
                reconfirm_at=(
                    datetime.combine(adult_on, datetime.min.time(), now.tzinfo)
                    if is_child
                    else None
                ),
            )
            events = [decision.event(code, current.get(code)) for code in sorted(asked)]
            self._append(tx, events, purposes)
            touched = {e.grant_id for e in events}
            result = [
                g
                for g in derive_grants(tx.events_of_subject(attempt.subject_id))
                if g.grant_id in touched
            ]
        self._changed(attempt.subject_id)
        return result

    def withdraw(
        self, subject_id: str, grant_id: str, *, received_at: datetime | None = None
    ) -> Grant:
        """Withdraw a grant at once (Art. 9, 40). Withdrawing twice answers the same grant."""
        now = self.clock()
        with self.store.write() as tx:
            tx.lock_subject(subject_id)
            grant = self._own_grant(tx, subject_id, grant_id)
            if grant.status in (GrantStatus.WITHDRAWN, GrantStatus.REFUSED):
                return grant
            received = received_at or now
            event = _ending(
                grant,
                EventKind.WITHDRAWN,
                at=now,
                given_by=GivenBy.SUBJECT,
                act="withdrawal",
                received_at=received,
                due_by=received + WITHDRAWAL_DEADLINE,
                effective_at=now,
            )
            self._append(tx, [event], _purposes_by_code(tx, grant.app_id))
            grant = self._own_grant(tx, subject_id, grant_id)
        self._changed(subject_id)
        return grant

    def expire_due(self) -> int:
        """Append ``expired`` events for grants past their expiry; returns how many."""
        now = self.clock()
        expired = 0
        with self.store.write() as tx:
            for grant_id in tx.grants_due_to_expire(now):
                (grant,) = derive_grants(tx.events_of_grant(grant_id))
                tx.lock_subject(grant.subject_id)  # another worker may be expiring it too
                (grant,) = derive_grants(tx.events_of_grant(grant_id))
                if grant.status is not GrantStatus.ACTIVE or (
                    grant.status_at(now) is not GrantStatus.EXPIRED
                ):
                    continue  # already ended, or renewed with a later expiry
                event = _ending(
                    grant, EventKind.EXPIRED, at=now, given_by=grant.given_by, act="expiry"
                )
                self._append(tx, [event], _purposes_by_code(tx, grant.app_id))
                expired += 1
        if expired:
            self._changed(None)
        return expired

    # -- reads ----------------------------------------------------------------------------

    def grants_of(self, subject_id: str) -> list[Grant]:
        with self.store.read() as tx:
            return derive_grants(tx.events_of_subject(subject_id))

    def grant(self, subject_id: str, grant_id: str) -> Grant:
        """One of the citizen's grants; :class:`GrantNotFound` for anyone else's."""
        with self.store.read() as tx:
            return self._own_grant(tx, subject_id, grant_id)

    def consents_of(self, subject_id: str) -> list[dict[str, Any]]:
        """The citizen's grants as JSON objects (the citizen API and the Art. 7/32 export):
        purpose with legal basis and data items, status now, who gave it and when, expiry,
        notice hash and, for a withdrawal, its received-at, due-by and effective times."""
        now = self.clock()
        with self.store.read() as tx:
            grants = derive_grants(tx.events_of_subject(subject_id))
            purposes: dict[str, dict[str, Purpose]] = {}
            for grant in grants:
                if grant.app_id not in purposes:
                    purposes[grant.app_id] = _purposes_by_code(tx, grant.app_id)
        return [grant_summary(g, purposes[g.app_id].get(g.purpose_code), now) for g in grants]

    def grant_owner(self, grant_id: str) -> tuple[str, str] | None:
        """(citizen id, app id) of a grant, or None for an unknown id."""
        with self.store.read() as tx:
            events = tx.events_of_grant(grant_id)
        return (events[0].subject_id, events[0].app_id) if events else None

    def is_grant_active(self, grant_id: str) -> bool:
        """For token introspection: is the grant a token was issued under still active?"""
        with self.store.read() as tx:
            grants = derive_grants(tx.events_of_grant(grant_id))
        return bool(grants) and grants[0].status_at(self.clock()) is GrantStatus.ACTIVE

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _own_grant(tx: LedgerTransaction, subject_id: str, grant_id: str) -> Grant:
        grants = derive_grants(tx.events_of_grant(grant_id))
        if not grants or grants[0].subject_id != subject_id:
            raise GrantNotFound("no such consent")
        return grants[0]

    def _append(
        self,
        tx: LedgerTransaction,
        events: Sequence[ConsentEvent],
        purposes: Mapping[str, Purpose],
    ) -> None:
        """Append ``events`` and, in the same transaction, an audit entry for each."""
        tx.append_events(events)
        for event in events:
            purpose = purposes.get(event.purpose_code)
            entry = AuditEntry(
                time=event.at,
                actor=Actor(ActorKind.RELYING_APP, event.app_id),
                action=_AUDIT_ACTION[event.kind],
                outcome=Outcome.SUCCESS,
                subject=self.pseudonymizer.pseudonym(event.subject_id),
                data_items=tuple(sorted(purpose.item_names)) if purpose else (),
                purpose=event.purpose_code,
                legal_basis=LegalBasis.CONSENT,
                consent_id=event.grant_id,
            )
            self.audit.append(tx.bind, entry, queued_at=event.at)

    def _changed(self, subject_id: str | None) -> None:
        if self.notifier is not None:
            self.notifier.changed(subject_id)


def _purposes_by_code(tx: LedgerTransaction, app_id: str) -> dict[str, Purpose]:
    return {p.code: p for p in tx.purposes(app_id)}


@dataclass(frozen=True, slots=True)
class _Decision:
    """What one recorded attempt shares across its events (one per purpose asked)."""

    attempt: ConsentAttempt
    notice_hash: str
    at: datetime
    act: str
    given_by: GivenBy
    reconfirm_at: datetime | None  # a child's grant: re-confirmed at majority

    def event(self, code: str, existing: Grant | None) -> ConsentEvent:
        """The event of the choice on purpose ``code``, given the grant that is active or
        awaiting re-confirmation for it (``existing``), if any."""
        attempt, now = self.attempt, self.at
        granted = attempt.choices[code]
        if granted and existing is not None:
            kind, grant_id = EventKind.RENEWED, existing.grant_id
        elif granted:
            kind, grant_id = EventKind.GIVEN, new_id()
        elif existing is not None:  # refusing what was granted is a withdrawal
            kind, grant_id = EventKind.WITHDRAWN, existing.grant_id
        else:
            kind, grant_id = EventKind.REFUSED, new_id()
        withdrawn = kind is EventKind.WITHDRAWN
        return ConsentEvent(
            event_id=new_id(),
            grant_id=grant_id,
            subject_id=attempt.subject_id,
            app_id=attempt.app_id,
            purpose_code=code,
            kind=kind,
            notice_hash=self.notice_hash,
            at=now,
            given_by=self.given_by,
            act=self.act,
            guardian_id=attempt.guardian_id,
            expires_at=attempt.expires_at if granted else None,
            reconfirm_at=self.reconfirm_at if granted else None,
            received_at=now if withdrawn else None,
            due_by=now + WITHDRAWAL_DEADLINE if withdrawn else None,
            effective_at=now if withdrawn else None,
        )


def _ending(
    grant: Grant,
    kind: EventKind,
    *,
    at: datetime,
    given_by: GivenBy,
    act: str,
    received_at: datetime | None = None,
    due_by: datetime | None = None,
    effective_at: datetime | None = None,
) -> ConsentEvent:
    """The event that ends ``grant`` (a withdrawal or an expiry), under its notice."""
    return ConsentEvent(
        event_id=new_id(),
        grant_id=grant.grant_id,
        subject_id=grant.subject_id,
        app_id=grant.app_id,
        purpose_code=grant.purpose_code,
        kind=kind,
        notice_hash=grant.notice_hash,
        at=at,
        given_by=given_by,
        act=act,
        received_at=received_at,
        due_by=due_by,
        effective_at=effective_at,
    )


def _check_attempt(attempt: ConsentAttempt, now: datetime) -> tuple[str, bool, date]:
    """The rules on the act and on who decides (Art. 22(1), 25); returns (act, whether the
    citizen is a child, the day they come of age)."""
    act = attempt.act.strip()
    if not act or len(act) > MAX_ACT_CHARS:
        raise InvalidConsent(
            "consent needs an explicit act by the citizen (UU PDP Art. 22(1)); "
            "silence, a pre-ticked box or inactivity is not consent"
        )
    if attempt.expires_at is not None and attempt.expires_at <= now:
        raise InvalidConsent("the expiry of a consent must be in the future")
    adult_on = _majority(attempt.subject_birthdate)
    is_child = now.date() < adult_on
    if is_child and attempt.guardian_id is None:
        raise InvalidConsent(
            "the citizen is under 18: consent is given by a parent or guardian (UU PDP Art. 25(1))"
        )
    if not is_child and attempt.guardian_id is not None:
        raise InvalidConsent("an adult gives consent themselves (UU PDP Art. 25)")
    if attempt.guardian_id is not None and attempt.guardian_id == attempt.subject_id:
        raise InvalidConsent("a guardian is another person than the child")
    return act, is_child, adult_on


def _check_choices(attempt: ConsentAttempt, purposes: Mapping[str, Purpose]) -> set[str]:
    """One explicit yes or no for each consent purpose, and nothing else (Art. 20(2), 22(2));
    returns the codes asked."""
    asked = {code for code, p in purposes.items() if p.needs_consent}
    if not asked:
        raise InvalidConsent("the app has no purpose whose basis is consent")
    chosen = set(attempt.choices)
    unknown = sorted(chosen - set(purposes))
    if unknown:
        raise InvalidConsent(f"unknown purpose(s): {', '.join(unknown)}")
    not_asked = sorted(chosen - asked)
    if not_asked:
        raise InvalidConsent(
            f"purpose(s) {', '.join(not_asked)} rest on another legal basis: they are "
            "shown to the citizen, not asked (Art. 20(2))"
        )
    missing = sorted(asked - chosen)
    if missing:
        raise InvalidConsent(
            "one explicit choice per purpose is required, nothing bundled "
            f"(Art. 22(2)); missing: {', '.join(missing)}"
        )
    if any(type(v) is not bool for v in attempt.choices.values()):
        raise InvalidConsent("each choice is an explicit yes or no")
    return asked
