"""Audit entries and their canonical byte encoding (the Merkle leaf input).

An entry records one processing of personal data (UU PDP Art. 31): when, who (actor), whose
(subject, as a keyed pseudonym), what (action, data items), why (purpose, legal basis under
Art. 20(2), consent id) and with what result. It never holds plaintext personal data: the
subject is a pseudonym (:mod:`audit.pseudonym`), everything else is a code, and free text
is limited to a commitment to a detail record kept elsewhere, encrypted.

Encoding, version 1 (``ENCODING_VERSION``): UTF-8 JSON with keys sorted, no insignificant
whitespace, every key present (``null`` when absent), lists sorted and de-duplicated, times as
RFC 3339 UTC with exactly six fractional digits and ``Z``. :func:`decode_entry` accepts only
bytes that re-encode to themselves, so each entry has exactly one leaf hash.

Example (one line in practice)::

    {"action":"disclose","actor":{"id":"app-dukcapil","kind":"relying_app"},
     "citizen_visible":true,"consent_id":"c-81f2","data_items":["address","name"],
     "detail_commitment":null,"exception_basis":null,"legal_basis":"a",
     "outcome":"success","purpose":"social-aid-eligibility","request_id":"4be0c1f4",
     "subject":"q5m...","time":"2026-11-28T07:00:00.000000Z","v":1,"visible_after":null}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from audit.errors import InvalidEntry

ENCODING_VERSION = 1
MAX_ENTRY_BYTES = 4096

_CODE = re.compile(r"[a-z0-9][a-z0-9._:-]{0,63}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
#: Identifiers are internal ids, never an email address or a NIK (a 16-digit segment).
_LOOKS_PERSONAL = re.compile(r"@|(?:^|[._:/-])\d{16}(?:$|[._:/-])")
_PSEUDONYM = re.compile(r"[A-Za-z0-9_-]{43}")
_COMMITMENT = re.compile(r"[A-Za-z0-9_-]{43}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_KEYS = frozenset(
    {
        "v", "time", "actor", "subject", "action", "data_items", "purpose", "legal_basis",
        "consent_id", "request_id", "outcome", "exception_basis", "citizen_visible",
        "visible_after", "detail_commitment",
    }
)  # fmt: skip


class ActorKind(StrEnum):
    RELYING_APP = "relying_app"
    OFFICIAL = "official"
    CITIZEN = "citizen"
    SYSTEM = "system"


class Action(StrEnum):
    READ = "read"
    DISCLOSE = "disclose"
    CREATE = "create"
    UPDATE = "update"
    ERASE = "erase"
    RESTRICT = "restrict"
    EXPORT = "export"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    TOKEN_ISSUED = "token_issued"  # noqa: S105 - an action code, not a secret
    CREDENTIAL_ISSUED = "credential_issued"
    CREDENTIAL_REVOKED = "credential_revoked"
    LOGIN = "login"


class LegalBasis(StrEnum):
    """UU PDP Art. 20(2): the six lawful bases for processing."""

    CONSENT = "a"
    CONTRACT = "b"
    LEGAL_OBLIGATION = "c"
    VITAL_INTEREST = "d"
    PUBLIC_TASK = "e"
    LEGITIMATE_INTEREST = "f"


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _enum(ActorKind, self.kind, "actor.kind"))
        _match(_IDENTIFIER, self.id, "actor.id")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One processing event. Construct with codes; :func:`encode_entry` gives the leaf bytes.

    ``subject`` is the keyed pseudonym of the data subject (or None for events about no one);
    ``exception_basis`` names the Art. 15/50 exception under which the event is withheld from
    the citizen; ``citizen_visible`` and ``visible_after`` control what the citizen's
    "who used my data" view shows, and when.
    """

    time: datetime
    actor: Actor
    action: Action
    outcome: Outcome = Outcome.SUCCESS
    subject: str | None = None
    data_items: tuple[str, ...] = ()
    purpose: str | None = None
    legal_basis: LegalBasis | None = None
    consent_id: str | None = None
    request_id: str | None = None
    exception_basis: str | None = None
    citizen_visible: bool = True
    visible_after: datetime | None = None
    detail_commitment: str | None = None
    version: int = field(default=ENCODING_VERSION)

    def __post_init__(self) -> None:
        if self.version != ENCODING_VERSION:
            raise InvalidEntry(f"unsupported entry version {self.version}")
        object.__setattr__(self, "time", _utc(self.time, "time"))
        object.__setattr__(self, "action", _enum(Action, self.action, "action"))
        object.__setattr__(self, "outcome", _enum(Outcome, self.outcome, "outcome"))
        if self.legal_basis is not None:
            object.__setattr__(
                self, "legal_basis", _enum(LegalBasis, self.legal_basis, "legal_basis")
            )
        if self.subject is not None:
            _match(_PSEUDONYM, self.subject, "subject (a 43-character pseudonym)")
        items = tuple(sorted(set(self.data_items)))
        for item in items:
            _match(_CODE, item, "data_items")
        object.__setattr__(self, "data_items", items)
        for name in ("purpose", "exception_basis"):
            value = getattr(self, name)
            if value is not None:
                _match(_CODE, value, name)
        for name in ("consent_id", "request_id"):
            value = getattr(self, name)
            if value is not None:
                _match(_IDENTIFIER, value, name)
        if self.visible_after is not None:
            object.__setattr__(self, "visible_after", _utc(self.visible_after, "visible_after"))
        if self.detail_commitment is not None:
            _match(_COMMITMENT, self.detail_commitment, "detail_commitment")
        if not isinstance(self.citizen_visible, bool):
            raise InvalidEntry("citizen_visible must be true or false")

    def at(self, time: datetime) -> AuditEntry:
        """The same event at another ``time``: only the time is checked, every other field
        having been checked when this entry was made (entries are immutable). For writers
        that record one kind of event again and again (each refresh of a token family)."""
        copy = object.__new__(AuditEntry)
        for name in _ENTRY_FIELDS:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "time", _utc(time, "time"))
        return copy

    def visible_to_citizen(self, now: datetime) -> bool:
        """Whether the citizen's "who used my data" view shows this entry at ``now``: not
        withheld for good, nor until a ``visible_after`` still to come (UU PDP Art. 15, 50)."""
        return self.citizen_visible and (self.visible_after is None or self.visible_after <= now)

    def to_json_dict(self) -> dict[str, Any]:
        """The entry as the JSON object that :func:`encode_entry` serialises."""
        return {
            "v": self.version,
            "time": format_time(self.time),
            "actor": {"kind": self.actor.kind.value, "id": self.actor.id},
            "subject": self.subject,
            "action": self.action.value,
            "data_items": list(self.data_items),
            "purpose": self.purpose,
            "legal_basis": self.legal_basis.value if self.legal_basis else None,
            "consent_id": self.consent_id,
            "request_id": self.request_id,
            "outcome": self.outcome.value,
            "exception_basis": self.exception_basis,
            "citizen_visible": self.citizen_visible,
            "visible_after": format_time(self.visible_after) if self.visible_after else None,
            "detail_commitment": self.detail_commitment,
        }


_ENTRY_FIELDS = tuple(f.name for f in fields(AuditEntry))


def encode_entry(entry: AuditEntry) -> bytes:
    """The canonical leaf bytes of ``entry`` (encoding version 1, see module docstring).

    Equal to ``json.dumps(entry.to_json_dict(), sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, written out directly because it sits on every writer's path.
    That is safe because every string field has already been checked against a pattern
    that excludes quotes, backslashes and control characters; a test holds the two equal.
    """
    data = "".join(
        (
            '{"action":"', entry.action.value,
            '","actor":{"id":"', entry.actor.id, '","kind":"', entry.actor.kind.value,
            '"},"citizen_visible":', "true" if entry.citizen_visible else "false",
            ',"consent_id":', _json_str(entry.consent_id),
            ',"data_items":[', ",".join(f'"{item}"' for item in entry.data_items),
            '],"detail_commitment":', _json_str(entry.detail_commitment),
            ',"exception_basis":', _json_str(entry.exception_basis),
            ',"legal_basis":', _json_str(entry.legal_basis.value if entry.legal_basis else None),
            ',"outcome":"', entry.outcome.value,
            '","purpose":', _json_str(entry.purpose),
            ',"request_id":', _json_str(entry.request_id),
            ',"subject":', _json_str(entry.subject),
            ',"time":"', format_time(entry.time),
            '","v":', str(entry.version),
            ',"visible_after":',
            f'"{format_time(entry.visible_after)}"' if entry.visible_after else "null",
            "}",
        )
    ).encode()  # fmt: skip
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidEntry(f"an encoded entry is at most {MAX_ENTRY_BYTES} bytes")
    return data


def _json_str(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def decode_entry(data: bytes) -> AuditEntry:
    """Parse leaf bytes; raise :class:`InvalidEntry` unless they are canonical version 1."""
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidEntry("entry too large")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEntry("entry is not UTF-8 JSON") from exc
    if not isinstance(obj, dict) or set(obj) != _KEYS:
        raise InvalidEntry("entry does not have exactly the version 1 fields")
    if obj["v"] != ENCODING_VERSION or type(obj["v"]) is not int:
        raise InvalidEntry(f"unsupported entry version {obj['v']!r}")
    actor = obj["actor"]
    if not isinstance(actor, dict) or set(actor) != {"kind", "id"}:
        raise InvalidEntry("actor must have exactly kind and id")
    if not isinstance(obj["data_items"], list):
        raise InvalidEntry("data_items must be a list")
    try:
        entry = AuditEntry(
            time=parse_time(_str(obj["time"], "time")),
            actor=Actor(kind=_str(actor["kind"], "actor.kind"), id=_str(actor["id"], "actor.id")),  # type: ignore[arg-type]
            action=_str(obj["action"], "action"),  # type: ignore[arg-type]
            outcome=_str(obj["outcome"], "outcome"),  # type: ignore[arg-type]
            subject=_opt_str(obj["subject"], "subject"),
            data_items=tuple(_str(i, "data_items") for i in obj["data_items"]),
            purpose=_opt_str(obj["purpose"], "purpose"),
            legal_basis=_opt_str(obj["legal_basis"], "legal_basis"),  # type: ignore[arg-type]
            consent_id=_opt_str(obj["consent_id"], "consent_id"),
            request_id=_opt_str(obj["request_id"], "request_id"),
            exception_basis=_opt_str(obj["exception_basis"], "exception_basis"),
            citizen_visible=obj["citizen_visible"],
            visible_after=(
                parse_time(_str(obj["visible_after"], "visible_after"))
                if obj["visible_after"] is not None
                else None
            ),
            detail_commitment=_opt_str(obj["detail_commitment"], "detail_commitment"),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidEntry(str(exc)) from exc
    if encode_entry(entry) != data:
        raise InvalidEntry("entry is not in canonical form")
    return entry


def format_time(value: datetime) -> str:
    t = _utc(value, "time")
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def parse_time(text: str) -> datetime:
    if not _TIME.fullmatch(text):
        raise InvalidEntry("times are RFC 3339 UTC with six fractional digits and Z")
    # the pattern admits only what fromisoformat reads the same way (and it is ~10x faster
    # than strptime, which a page of a citizen's log calls a hundred times)
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidEntry(f"{name} must be a timezone-aware datetime")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidEntry(f"{name} is out of range") from None


def _enum(kind: type[Any], value: object, name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidEntry(f"{name} must be one of: {allowed}") from None


def _match(pattern: re.Pattern[str], value: object, name: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidEntry(f"{name} is not a valid code or identifier")
    if pattern is _IDENTIFIER and _LOOKS_PERSONAL.search(value):
        raise InvalidEntry(
            f"{name} looks like personal data (an email address or a 16-digit NIK); "
            "use an internal id"
        )


def _str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidEntry(f"{name} must be a string")
    return value


def _opt_str(value: object, name: str) -> str | None:
    return None if value is None else _str(value, name)
