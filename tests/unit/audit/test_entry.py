"""The canonical audit entry encoding (audit.entry) and subject pseudonyms (audit.pseudonym).

An entry's bytes are the Merkle leaf input: every entry must have exactly one encoding, so
that one event has one leaf hash, and decoding must refuse anything else. Entries must also
never carry plaintext personal data in their code fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.entry import (
    ENCODING_VERSION,
    MAX_ENTRY_BYTES,
    Action,
    Actor,
    ActorKind,
    AuditEntry,
    LegalBasis,
    Outcome,
    decode_entry,
    encode_entry,
)
from audit.errors import InvalidEntry
from audit.pseudonym import KEY_BYTES, SubjectPseudonymizer

NIK = "3171011708450001"
PSEUDONYM = "q5m" + "A" * 40
WIB = timezone(timedelta(hours=7))

#: The example of the module docstring, one line: the exact bytes of encoding version 1.
GOLDEN = (
    b'{"action":"disclose","actor":{"id":"app-dukcapil","kind":"relying_app"},'
    b'"citizen_visible":true,"consent_id":"c-81f2","data_items":["address","name"],'
    b'"detail_commitment":null,"exception_basis":null,"legal_basis":"a",'
    b'"outcome":"success","purpose":"social-aid-eligibility","request_id":"4be0c1f4",'
    b'"subject":"' + PSEUDONYM.encode() + b'","time":"2026-11-28T07:00:00.000000Z","v":1,'
    b'"visible_after":null}'
)


def golden_entry(**overrides: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "time": datetime(2026, 11, 28, 14, 0, tzinfo=WIB),
        "actor": Actor(kind=ActorKind.RELYING_APP, id="app-dukcapil"),
        "action": Action.DISCLOSE,
        "subject": PSEUDONYM,
        "data_items": ("name", "address"),
        "purpose": "social-aid-eligibility",
        "legal_basis": LegalBasis.CONSENT,
        "consent_id": "c-81f2",
        "request_id": "4be0c1f4",
    }
    values.update(overrides)
    return AuditEntry(**values)


# ------------------------------------------------------------------ encoding


def test_encoding_is_the_documented_canonical_form() -> None:
    assert encode_entry(golden_entry()) == GOLDEN
    assert decode_entry(GOLDEN) == golden_entry()


def test_one_instant_in_any_time_zone_has_one_encoding() -> None:
    in_jakarta = golden_entry(time=datetime(2026, 11, 28, 14, 0, tzinfo=WIB))
    in_utc = golden_entry(time=datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    in_new_york = golden_entry(
        time=datetime(2026, 11, 28, 2, 0, tzinfo=timezone(-timedelta(hours=5)))
    )
    assert encode_entry(in_jakarta) == encode_entry(in_utc) == encode_entry(in_new_york)
    assert in_jakarta.time.tzinfo is UTC


def test_an_entry_at_another_time_is_that_entry_made_at_that_time() -> None:
    entry = golden_entry(exception_basis="uu-pdp-art-15", detail_commitment="c" * 43)
    later = datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=WIB)
    moved = entry.at(later)
    assert moved == golden_entry(
        exception_basis="uu-pdp-art-15", detail_commitment="c" * 43, time=later
    )
    assert encode_entry(moved) == encode_entry(
        golden_entry(exception_basis="uu-pdp-art-15", detail_commitment="c" * 43, time=later)
    )
    assert moved.time.tzinfo is UTC and entry.time == golden_entry().time  # unchanged
    with pytest.raises(InvalidEntry, match="timezone-aware"):
        entry.at(datetime(2026, 12, 1, 8, 30))  # naive: refused


def test_all_optional_fields_round_trip() -> None:
    entry = golden_entry(
        outcome=Outcome.DENIED,
        exception_basis="uu-pdp-art-15",
        citizen_visible=False,
        visible_after=datetime(2027, 1, 1, 7, 0, 0, 1, tzinfo=WIB),
        detail_commitment="c" * 43,
        legal_basis=LegalBasis.PUBLIC_TASK,
    )
    data = encode_entry(entry)
    fields = json.loads(data)
    assert fields["visible_after"] == "2027-01-01T00:00:00.000001Z"
    assert fields["citizen_visible"] is False
    assert fields["legal_basis"] == "e"
    assert decode_entry(data) == entry


def test_an_entry_about_no_one_has_null_fields() -> None:
    entry = AuditEntry(
        time=datetime(2026, 1, 1, tzinfo=UTC),
        actor=Actor(kind=ActorKind.SYSTEM, id="sequencer"),
        action=Action.CREATE,
    )
    fields = json.loads(encode_entry(entry))
    assert fields["subject"] is None and fields["purpose"] is None
    assert fields["data_items"] == []
    assert decode_entry(encode_entry(entry)) == entry


def test_data_items_are_sorted_and_deduplicated() -> None:
    entry = golden_entry(data_items=["name", "address", "name", "birthdate", "address"])
    assert entry.data_items == ("address", "birthdate", "name")
    assert json.loads(encode_entry(entry))["data_items"] == ["address", "birthdate", "name"]
    assert encode_entry(entry) == encode_entry(
        golden_entry(data_items=("birthdate", "address", "name"))
    )


# Hypothesis strategies for valid entries.
codes = st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,63}", fullmatch=True)
identifiers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}", fullmatch=True).filter(
    lambda value: re.search(r"(?:^|[._:/-])\d{16}(?:$|[._:/-])", value) is None
)
pseudonyms = st.from_regex(r"[A-Za-z0-9_-]{43}", fullmatch=True)
time_zones: st.SearchStrategy[tzinfo] = st.one_of(
    st.just(UTC),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
    st.timezones(),
)
# Years from 1000 (see test_an_entry_before_year_1000_is_refused_or_round_trips) and away
# from datetime.max, which an offset would push out of range.
aware_times = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=time_zones
)


@st.composite
def entries(draw: st.DrawFn) -> tuple[AuditEntry, datetime]:
    time = draw(aware_times)
    entry = AuditEntry(
        time=time,
        actor=Actor(kind=draw(st.sampled_from(ActorKind)), id=draw(identifiers)),
        action=draw(st.sampled_from(Action)),
        outcome=draw(st.sampled_from(Outcome)),
        subject=draw(st.none() | pseudonyms),
        data_items=tuple(draw(st.lists(codes, max_size=5))),
        purpose=draw(st.none() | codes),
        legal_basis=draw(st.none() | st.sampled_from(LegalBasis)),
        consent_id=draw(st.none() | identifiers),
        request_id=draw(st.none() | identifiers),
        exception_basis=draw(st.none() | codes),
        citizen_visible=draw(st.booleans()),
        visible_after=draw(st.none() | aware_times),
        detail_commitment=draw(st.none() | pseudonyms),
    )
    return entry, time


_CANONICAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


@settings(max_examples=200, deadline=None)
@given(entries())
def test_round_trip_of_any_valid_entry(generated: tuple[AuditEntry, datetime]) -> None:
    entry, original_time = generated
    data = encode_entry(entry)
    decoded = decode_entry(data)
    assert decoded == entry
    assert encode_entry(decoded) == data
    # Times are normalised to UTC without moving the instant. (Compared in UTC: PEP 495
    # makes a local time in a DST gap or fold unequal to every time in another zone.)
    assert decoded.time == original_time.astimezone(UTC)
    assert decoded.time.utcoffset() == timedelta(0)
    fields = json.loads(data)
    assert _CANONICAL_TIME.fullmatch(fields["time"])
    assert fields["data_items"] == sorted(set(fields["data_items"]))
    assert list(fields) == sorted(fields)
    assert data == json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _mutate(data: bytes, position: int, kind: int, byte: int) -> bytes:
    position %= len(data) + (1 if kind == 0 else 0)
    if kind == 0:
        return data[:position] + bytes([byte]) + data[position:]
    if kind == 1:
        return data[:position] + data[position + 1 :]
    return data[:position] + bytes([byte]) + data[position + 1 :]


@settings(max_examples=200, deadline=None)
@given(
    entries(),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=255),
)
def test_decode_accepts_only_bytes_that_reencode_to_themselves(
    generated: tuple[AuditEntry, datetime], position: int, kind: int, byte: int
) -> None:
    data = _mutate(encode_entry(generated[0]), position, kind, byte)
    try:
        decoded = decode_entry(data)
    except InvalidEntry:
        return
    assert encode_entry(decoded) == data


def test_an_entry_before_year_1000_is_refused_or_round_trips() -> None:
    """Whatever ``encode_entry`` accepts must decode: it becomes a leaf of the log."""
    try:
        entry = golden_entry(time=datetime(999, 12, 31, 23, 0, tzinfo=UTC))
        data = encode_entry(entry)
    except InvalidEntry:
        return
    assert decode_entry(data) == entry


def _with_size(target: int) -> AuditEntry:
    """An entry whose encoding is exactly ``target`` bytes long."""
    for count in range(target // 67, 0, -1):
        items = tuple(f"{i:03d}" + "x" * 61 for i in range(count))
        for length in range(1, 129):
            entry = golden_entry(data_items=items, request_id="r" * length)
            size = len(json.dumps(entry.to_json_dict(), sort_keys=True, separators=(",", ":")))
            if size == target:
                return entry
    raise AssertionError(f"no entry of {target} bytes")


def test_size_limit_is_enforced_on_both_sides() -> None:
    largest = _with_size(MAX_ENTRY_BYTES)
    data = encode_entry(largest)
    assert len(data) == MAX_ENTRY_BYTES
    assert decode_entry(data) == largest
    too_large = golden_entry(data_items=largest.data_items, request_id=largest.request_id + "r")  # type: ignore[operator]
    with pytest.raises(InvalidEntry):
        encode_entry(too_large)
    padded = GOLDEN + b" " * (MAX_ENTRY_BYTES + 1 - len(GOLDEN))
    with pytest.raises(InvalidEntry, match="too large"):
        decode_entry(padded)


def _replace_field(key: str, value: Any) -> bytes:
    fields = json.loads(GOLDEN)
    fields[key] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _without(key: str) -> bytes:
    fields = json.loads(GOLDEN)
    del fields[key]
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


NON_CANONICAL: dict[str, Callable[[], bytes]] = {
    "space after colon": lambda: GOLDEN.replace(b'"v":1', b'"v": 1'),
    "space after comma": lambda: GOLDEN.replace(b',"v"', b', "v"'),
    "trailing newline": lambda: GOLDEN + b"\n",
    "leading space": lambda: b" " + GOLDEN,
    "pretty printed": lambda: json.dumps(json.loads(GOLDEN), sort_keys=True, indent=1).encode(),
    "keys reordered": lambda: json.dumps(
        dict(reversed(json.loads(GOLDEN).items())), separators=(",", ":")
    ).encode(),
    "actor keys reordered": lambda: GOLDEN.replace(
        b'{"id":"app-dukcapil","kind":"relying_app"}',
        b'{"kind":"relying_app","id":"app-dukcapil"}',
    ),
    "missing key": lambda: _without("detail_commitment"),
    "missing version": lambda: _without("v"),
    "extra key": lambda: _replace_field("name", None),
    "extra actor key": lambda: _replace_field(
        "actor", {"id": "app-dukcapil", "kind": "relying_app", "name": "Dukcapil"}
    ),
    "version 2": lambda: _replace_field("v", 2),
    "version as string": lambda: _replace_field("v", "1"),
    "version as true": lambda: _replace_field("v", True),
    "version as float": lambda: GOLDEN.replace(b'"v":1', b'"v":1.0'),
    "data items unsorted": lambda: GOLDEN.replace(b'["address","name"]', b'["name","address"]'),
    "data items repeated": lambda: GOLDEN.replace(
        b'["address","name"]', b'["address","address","name"]'
    ),
    "escaped ASCII": lambda: GOLDEN.replace(b'"disclose"', b'"disclos\\u0065"'),
    "citizen_visible as 1": lambda: _replace_field("citizen_visible", 1),
    "time without fraction": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28T07:00:00Z"
    ),
    "time with 3 fractional digits": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28T07:00:00.000Z"
    ),
    "time with 9 fractional digits": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28T07:00:00.000000000Z"
    ),
    "time with offset": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28T14:00:00.000000+07:00"
    ),
    "time lower-case z": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28T07:00:00.000000z"
    ),
    "time with space": lambda: GOLDEN.replace(
        b"2026-11-28T07:00:00.000000Z", b"2026-11-28 07:00:00.000000Z"
    ),
    "time as number": lambda: _replace_field("time", 1795849200),
    "non-UTF-8": lambda: GOLDEN.replace(b"app-dukcapil", b"app-duk\xffapil"),
    "UTF-8 BOM": lambda: b"\xef\xbb\xbf" + GOLDEN,
    "not an object": lambda: b"[" + GOLDEN + b"]",
    "duplicate key": lambda: GOLDEN.replace(b'"v":1', b'"v":1,"v":1'),
    "unknown action": lambda: _replace_field("action", "sell"),
    "subject is a NIK": lambda: _replace_field("subject", NIK),
}


@pytest.mark.parametrize("make", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_decode_refuses_non_canonical_bytes(make: Callable[[], bytes]) -> None:
    data = make()
    assert data != GOLDEN
    with pytest.raises(InvalidEntry):
        decode_entry(data)


def test_decode_names_the_reason() -> None:
    with pytest.raises(InvalidEntry, match="version"):
        decode_entry(_replace_field("v", 2))
    with pytest.raises(InvalidEntry, match="UTF-8"):
        decode_entry(GOLDEN.replace(b"app-dukcapil", b"app-duk\xffapil"))
    with pytest.raises(InvalidEntry, match="fields"):
        decode_entry(_without("request_id"))
    with pytest.raises(InvalidEntry, match="six fractional digits"):
        decode_entry(GOLDEN.replace(b"07:00:00.000000Z", b"07:00:00.000Z"))
    with pytest.raises(InvalidEntry, match="canonical"):
        decode_entry(GOLDEN.replace(b'"v":1', b'"v": 1'))


# ------------------------------------------------------------------ no personal data


@pytest.mark.parametrize(
    "subject",
    [
        NIK,  # a NIK in plaintext
        "Budi Santoso",  # a name
        "budi.santoso@example.go.id",  # an email
        "+6281234567890",  # a phone number
        PSEUDONYM[:-1],  # 42 characters
        PSEUDONYM + "A",  # 44 characters
        PSEUDONYM[:-1] + "=",  # padded base64, not base64url without padding
        PSEUDONYM[:-1] + "/",  # standard base64 alphabet
        "",
    ],
)
def test_subject_must_be_a_43_character_pseudonym(subject: str) -> None:
    with pytest.raises(InvalidEntry, match="subject"):
        golden_entry(subject=subject)


@pytest.mark.parametrize(
    "purpose", ["Social-Aid", "social aid", "Bantuan Sosial", "budi@example.go.id", "", "a" * 65]
)
def test_purpose_is_a_lower_case_code(purpose: str) -> None:
    with pytest.raises(InvalidEntry, match="purpose"):
        golden_entry(purpose=purpose)


@pytest.mark.parametrize(
    "item", ["Name", "nama lengkap", "budi@example.go.id", "-name", "alamat/rumah", "a" * 65]
)
def test_data_items_are_lower_case_codes(item: str) -> None:
    with pytest.raises(InvalidEntry, match="data_items"):
        golden_entry(data_items=("address", item))


def test_exception_basis_is_a_lower_case_code() -> None:
    with pytest.raises(InvalidEntry, match="exception_basis"):
        golden_entry(exception_basis="Pasal 15 UU PDP")
    assert golden_entry(exception_basis="uu-pdp-art-15:1.a").exception_basis == "uu-pdp-art-15:1.a"


@pytest.mark.parametrize(
    "identifier",
    [
        "Budi Santoso",
        "Dinas Sosial",
        "bürgeramt",
        "",
        "a" * 129,
        "budi.santoso@example.go.id",
        "3171011708450001",
        "official:3171011708450001",
    ],
)
def test_identifiers_refuse_free_text(identifier: str) -> None:
    """Actor, consent and request ids are identifiers: no spaces, ASCII, at most 128."""
    with pytest.raises(InvalidEntry, match=r"actor\.id"):
        Actor(kind=ActorKind.OFFICIAL, id=identifier)
    with pytest.raises(InvalidEntry, match="consent_id"):
        golden_entry(consent_id=identifier)
    with pytest.raises(InvalidEntry, match="request_id"):
        golden_entry(request_id=identifier)


def test_identifiers_accept_client_ids_and_uuids() -> None:
    assert Actor(kind="relying_app", id="client:4f1e/app-dukcapil_2.v1").id  # type: ignore[arg-type]
    assert golden_entry(consent_id="8a3c6f2e-51d0-4b7e-9d1a-0c2f4e6a8b10").consent_id


def test_detail_commitment_is_43_base64url_characters() -> None:
    with pytest.raises(InvalidEntry, match="detail_commitment"):
        golden_entry(detail_commitment="the citizen asked about her address")
    assert golden_entry(detail_commitment="_-" + "0" * 41).detail_commitment == "_-" + "0" * 41


@pytest.mark.parametrize(
    "overrides",
    [
        {"time": datetime(2026, 11, 28, 7, 0)},  # naive
        {"visible_after": datetime(2027, 1, 1)},  # naive
        {"time": "2026-11-28T07:00:00.000000Z"},  # a string, not a datetime
        {"action": "sell"},
        {"outcome": "maybe"},
        {"legal_basis": "g"},
        {"citizen_visible": 1},
        {"citizen_visible": "yes"},
        {"version": 2},
    ],
    ids=",".join,
)
def test_construction_refuses_invalid_fields(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidEntry):
        golden_entry(**overrides)


def test_construction_refuses_an_unknown_actor_kind() -> None:
    with pytest.raises(InvalidEntry, match=r"actor\.kind"):
        Actor(kind="admin", id="root")  # type: ignore[arg-type]


def test_construction_accepts_codes_given_as_strings() -> None:
    entry = golden_entry(action="read", outcome="error", legal_basis="c")
    assert entry.action is Action.READ
    assert entry.outcome is Outcome.ERROR
    assert entry.legal_basis is LegalBasis.LEGAL_OBLIGATION
    assert entry.version == ENCODING_VERSION


# ------------------------------------------------------------------ pseudonyms

KEY = bytes(range(32))
SUBJECT_ID = "3f2c1e9a-0000-4000-8000-000000000001"


def test_pseudonym_is_stable_across_releases() -> None:
    """base64url(HMAC-SHA-256(key, "jati-audit-subject/v1" || 0x00 || id)), unpadded."""
    assert SubjectPseudonymizer(KEY).pseudonym(SUBJECT_ID) == (
        "QW0nWQcT3-uq_hYBxwPl5iZNs36apVwl7HOROhLxJc4"
    )


def test_pseudonym_is_stable_and_usable_as_subject() -> None:
    first = SubjectPseudonymizer(KEY).pseudonym(SUBJECT_ID)
    again = SubjectPseudonymizer(bytes(KEY)).pseudonym(SUBJECT_ID)
    assert first == again
    assert len(first) == 43
    assert golden_entry(subject=first).subject == first


def test_pseudonym_depends_on_the_key() -> None:
    other_key = bytes([KEY[0] ^ 1]) + KEY[1:]
    assert SubjectPseudonymizer(KEY).pseudonym(SUBJECT_ID) != SubjectPseudonymizer(
        other_key
    ).pseudonym(SUBJECT_ID)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_different_subjects_have_different_pseudonyms(a: str, b: str) -> None:
    pseudonymizer = SubjectPseudonymizer(KEY)
    pa, pb = pseudonymizer.pseudonym(a), pseudonymizer.pseudonym(b)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", pa)
    assert (pa == pb) == (a == b)


def test_pseudonym_of_a_nik_reveals_nothing_of_it() -> None:
    pseudonym = SubjectPseudonymizer(KEY).pseudonym(NIK)
    assert NIK not in pseudonym and NIK[:6] not in pseudonym
    assert pseudonym != SubjectPseudonymizer(KEY).pseudonym(NIK + " ")


@pytest.mark.parametrize("length", [0, 16, KEY_BYTES - 1])
def test_short_key_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SubjectPseudonymizer(b"k" * length)


def test_empty_subject_id_is_refused() -> None:
    with pytest.raises(ValueError):
        SubjectPseudonymizer(KEY).pseudonym("")


def test_pseudonymizer_repr_hides_the_key() -> None:
    key = b"secret-key-material-0123456789ab"
    text = repr(SubjectPseudonymizer(key))
    assert "secret" not in text and key.hex() not in text


@settings(max_examples=300, deadline=None)
@given(entries())
def test_fast_encoder_equals_canonical_json(generated: tuple[AuditEntry, datetime]) -> None:
    """encode_entry writes JSON by hand; it must equal json.dumps with sorted keys."""
    entry, _ = generated
    reference = json.dumps(
        entry.to_json_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert encode_entry(entry) == reference
