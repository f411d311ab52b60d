"""The records of the data-subject request register (UU PDP Art. 14): each request's kind,
statutory deadline, status and outcome, and what an erasure keeps (Art. 43-45 with Art. 8).

"3x24 h" (Art. 30, 32, 41) is 72 hours from receipt (see PDP.md). Erasure has no statutory
deadline in UU PDP, so its ``due_by`` is None. A request names fields, never their values.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "DEADLINES",
    "DEFAULT_RETAINED_AFTER_ERASURE",
    "PURPOSES",
    "STATUTORY_DEADLINE",
    "RequestKind",
    "RequestOutcome",
    "RequestStatus",
    "RetainedData",
    "SubjectRequest",
    "iso_time",
    "new_request_id",
    "outcome_from_json",
    "outcome_to_json",
]

#: "3x24 jam" (UU PDP Art. 30, 32, 41): 72 hours from receipt of the request.
STATUTORY_DEADLINE = timedelta(hours=72)


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


def new_request_id() -> str:
    """128 random bits, base32 (26 lowercase characters)."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def iso_time(value: datetime | None) -> str | None:
    """A time as JSON shows it: ISO 8601 with ``Z`` for UTC (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


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
    """One recorded request (UU PDP Art. 14). ``fields``: names only, never values.

    A request to Jati itself (``client_id`` None) is carried out at once. One addressed to
    the controller of an app the citizen used waits, ``received``, for that controller's
    data protection officer (an access or a correction, 72 hours, Art. 30, 32)."""

    id: str
    subject_id: str = field(repr=False)
    kind: RequestKind
    status: RequestStatus
    received_at: datetime
    due_by: datetime | None
    completed_at: datetime | None = None
    fields: tuple[str, ...] = ()
    outcome: RequestOutcome | None = None
    #: The relying app whose controller the request is addressed to; None: Jati itself.
    client_id: str | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Past its statutory deadline and not yet completed or refused."""
        return (
            self.status is RequestStatus.RECEIVED and self.due_by is not None and now > self.due_by
        )

    def hours_left(self, now: datetime) -> float:
        """Hours until ``due_by`` (0 when due or late, or without a deadline)."""
        if self.due_by is None or now >= self.due_by:
            return 0.0
        return (self.due_by - now).total_seconds() / 3600

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
            "received_at": iso_time(self.received_at),
            "due_by": iso_time(self.due_by),
            "completed_at": iso_time(self.completed_at),
            "fields": list(self.fields),
            "outcome": self.outcome.to_json_dict() if self.outcome else None,
            "client_id": self.client_id,
        }


def outcome_to_json(outcome: RequestOutcome | None) -> str | None:
    """The stored form of an outcome (storage adapters use it)."""
    return json.dumps(outcome.to_json_dict(), sort_keys=True) if outcome else None


def outcome_from_json(text: str | None) -> RequestOutcome | None:
    return RequestOutcome.from_json_dict(json.loads(text)) if text else None
