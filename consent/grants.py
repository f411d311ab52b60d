"""Consent events and the grants derived from them (UU PDP Art. 24: the controller must prove
consent).

Events are ``given``, ``renewed``, ``refused``, ``withdrawn`` and ``expired``. Each carries
the hash of the notice the citizen saw, who decided (the citizen, or a parent/guardian for a
child: Art. 25), when, and the explicit act. Events are never updated or deleted; the current
state of a grant is derived from its events (:func:`derive_grants`). A withdrawal (Art. 9,
40(1)) also records when the request was received, the statutory due-by and when it took
effect.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from consent.purposes import Purpose

__all__ = [
    "ConsentEvent",
    "EventKind",
    "GivenBy",
    "Grant",
    "GrantStatus",
    "derive_grants",
    "events_in_order",
    "grant_summary",
    "new_id",
]


class EventKind(StrEnum):
    GIVEN = "given"
    RENEWED = "renewed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class GivenBy(StrEnum):
    SUBJECT = "subject"
    GUARDIAN = "guardian"


class GrantStatus(StrEnum):
    ACTIVE = "active"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NEEDS_RECONFIRMATION = "needs_reconfirmation"  # a guardian's grant, the child now adult


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    event_id: str
    grant_id: str
    subject_id: str
    app_id: str
    purpose_code: str
    kind: EventKind
    notice_hash: str
    at: datetime
    given_by: GivenBy
    act: str
    guardian_id: str | None = None
    expires_at: datetime | None = None
    reconfirm_at: datetime | None = None
    received_at: datetime | None = None  # withdrawal: when the request arrived
    due_by: datetime | None = None  # withdrawal: the statutory deadline
    effective_at: datetime | None = None  # withdrawal: when processing actually stopped


@dataclass(frozen=True, slots=True)
class Grant:
    """The current state of one grant, derived from its events."""

    grant_id: str
    subject_id: str
    app_id: str
    purpose_code: str
    status: GrantStatus
    notice_hash: str
    given_at: datetime
    given_by: GivenBy
    guardian_id: str | None
    expires_at: datetime | None
    reconfirm_at: datetime | None
    withdrawal: ConsentEvent | None
    events: tuple[ConsentEvent, ...]

    def status_at(self, now: datetime) -> GrantStatus:
        if self.status is not GrantStatus.ACTIVE:
            return self.status
        if self.expires_at is not None and now >= self.expires_at:
            return GrantStatus.EXPIRED
        if self.reconfirm_at is not None and now >= self.reconfirm_at:
            return GrantStatus.NEEDS_RECONFIRMATION
        return GrantStatus.ACTIVE

    def withdrawal_times(self) -> dict[str, datetime | None] | None:
        """When the withdrawal was received, its statutory due-by and when it took effect
        (Art. 40(1)), by those names; None while the grant is not withdrawn."""
        if self.withdrawal is None:
            return None
        return {
            "received_at": self.withdrawal.received_at,
            "due_by": self.withdrawal.due_by,
            "effective_at": self.withdrawal.effective_at,
        }


def new_id() -> str:
    """128 random bits, base32 lower case: a valid audit identifier."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def grant_summary(grant: Grant, purpose: Purpose | None, now: datetime) -> dict[str, Any]:
    """A grant as a JSON object (see :meth:`consent.ledger.ConsentLedger.consents_of`)."""
    body: dict[str, Any] = {
        "id": grant.grant_id,
        "app_id": grant.app_id,
        "purpose": purpose.to_json() if purpose else {"code": grant.purpose_code},
        "status": grant.status_at(now).value,
        "given_at": _time(grant.given_at),
        "given_by": grant.given_by.value,
        "expires_at": _time(grant.expires_at),
        "notice_hash": grant.notice_hash,
    }
    if grant.reconfirm_at is not None:
        body["reconfirm_at"] = _time(grant.reconfirm_at)
    if (withdrawal := grant.withdrawal_times()) is not None:
        body["withdrawal"] = {name: _time(at) for name, at in withdrawal.items()}
    return body


class _Terms(TypedDict):
    """What a decision (given, refused or renewed) sets on its grant."""

    notice_hash: str
    given_by: GivenBy
    guardian_id: str | None
    expires_at: datetime | None
    reconfirm_at: datetime | None


def _terms(event: ConsentEvent) -> _Terms:
    return {
        "notice_hash": event.notice_hash,
        "given_by": event.given_by,
        "guardian_id": event.guardian_id,
        "expires_at": event.expires_at,
        "reconfirm_at": event.reconfirm_at,
    }


def derive_grants(events: Iterable[ConsentEvent]) -> list[Grant]:
    """Fold events (in order) into grants: the first sets the grant's terms, a renewal sets
    them anew, a withdrawal or an expiry ends the grant."""
    grouped: dict[str, list[ConsentEvent]] = {}
    for event in events:
        grouped.setdefault(event.grant_id, []).append(event)
    grants = []
    for grant_id, history in grouped.items():
        first = history[0]
        state = Grant(
            grant_id=grant_id,
            subject_id=first.subject_id,
            app_id=first.app_id,
            purpose_code=first.purpose_code,
            status=GrantStatus.REFUSED if first.kind is EventKind.REFUSED else GrantStatus.ACTIVE,
            given_at=first.at,
            withdrawal=None,
            events=tuple(history),
            **_terms(first),
        )
        for event in history[1:]:
            if event.kind is EventKind.RENEWED:
                state = replace(state, status=GrantStatus.ACTIVE, **_terms(event))
            elif event.kind is EventKind.WITHDRAWN:
                state = replace(state, status=GrantStatus.WITHDRAWN, withdrawal=event)
            elif event.kind is EventKind.EXPIRED:
                state = replace(state, status=GrantStatus.EXPIRED)
        grants.append(state)
    return grants


def events_in_order(events: Iterable[ConsentEvent]) -> Iterator[ConsentEvent]:
    return iter(sorted(events, key=lambda e: e.at))
