"""Token Status List core (identity.credentials.status_list_token) and service
(identity.credentials.status_registry), without a database: the store here is a dictionary.
draft-ietf-oauth-status-list §4, §5.1, §7, §12.4 (random indices), §13.3 (no double allocation)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.credentials.status_list_token import (
    InvalidStatusList,
    Status,
    StatusList,
    sign_status_list,
    status_list_claims,
)
from identity.credentials.status_registry import (
    ListRecord,
    StatusLists,
    StatusReference,
    is_list_id,
)
from identity.errors import Conflict, NotFound
from identity.oidc.tokens import JwsSigner
from tests.token_helpers import Key

ISSUER = "https://id.example.go.id"


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def payload(token: str) -> dict[str, Any]:
    return dict(json.loads(b64decode(token.split(".")[1])))


def header(token: str) -> dict[str, Any]:
    return dict(json.loads(b64decode(token.split(".", maxsplit=1)[0])))


# -- the list ----------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_every_bit_size_stores_and_encodes_every_value(bits: int) -> None:
    size = 64
    values = [(i * 7 + 3) % (1 << bits) for i in range(size)]
    status_list = StatusList(size, bits)
    for index, value in enumerate(values):
        status_list.set(index, value)
    assert [status_list.get(i) for i in range(size)] == values
    assert len(status_list.to_bytes()) == size * bits // 8
    decoded = StatusList.decode(status_list.encode(), bits, max_size=size)
    assert [decoded.get(i) for i in range(size)] == values


def test_entries_are_packed_least_significant_bits_first() -> None:
    status_list = StatusList(8, 2)
    status_list.set(0, Status.INVALID)  # bits 0-1 of byte 0
    status_list.set(3, Status.SUSPENDED)  # bits 6-7 of byte 0
    status_list.set(5, 3)  # bits 2-3 of byte 1
    assert status_list.to_bytes() == bytes([0b1000_0001, 0b0000_1100])
    status_list.set(3, Status.VALID)  # clearing leaves the neighbours alone
    assert status_list.to_bytes() == bytes([0b0000_0001, 0b0000_1100])


def test_from_entries_equals_setting_each_entry() -> None:
    entries = {0: 1, 9: 2, 4095: 3, 100: 1}
    built = StatusList.from_entries(4096, 2, entries)
    one_by_one = StatusList(4096, 2)
    for index, status in entries.items():
        one_by_one.set(index, status)
    assert built.to_bytes() == one_by_one.to_bytes()
    assert StatusList.from_entries(4096, 2, list(entries.items())).encode() == built.encode()


def test_the_compressed_form_is_a_zlib_stream_at_the_highest_level() -> None:
    status_list = StatusList.from_entries(2**16, 2, {5: 1, 60_000: 2})
    compressed = status_list.compress()
    assert compressed[:2] == b"\x78\xda"  # RFC 1950 header: deflate, 32K window, level 9
    assert zlib.decompress(compressed) == status_list.to_bytes()
    assert "=" not in status_list.encode() and "+" not in status_list.encode()


@pytest.mark.parametrize("bits", [0, 3, 16, True, "2"])
def test_only_the_drafts_bit_sizes_are_accepted(bits: Any) -> None:
    with pytest.raises(InvalidStatusList, match="bits"):
        StatusList(8, bits)


def test_indices_and_values_are_bounded() -> None:
    status_list = StatusList(16, 2)
    for index in (-1, 16, 10**9, True):
        with pytest.raises(InvalidStatusList, match="index"):
            status_list.get(index)
        with pytest.raises(InvalidStatusList, match="index"):
            status_list.set(index, 1)
    with pytest.raises(InvalidStatusList, match="does not fit"):
        status_list.set(0, 4)
    with pytest.raises(InvalidStatusList, match="does not fit"):
        StatusList.from_entries(16, 1, {0: 2})
    with pytest.raises(InvalidStatusList, match="index"):
        StatusList.from_entries(16, 2, {16: 1})
    with pytest.raises(InvalidStatusList, match="size"):
        StatusList(0, 2)
    assert status_list.to_bytes() == bytes(4)  # nothing changed


def test_decoding_refuses_a_decompression_bomb_without_inflating_it() -> None:
    bomb = base64.urlsafe_b64encode(zlib.compress(bytes(64 * 1024 * 1024), 9)).decode()
    assert len(bomb) < 100_000
    with pytest.raises(InvalidStatusList, match="inflates to more than 262144 bytes"):
        StatusList.decode(bomb.rstrip("="), 2, max_size=2**20)


@pytest.mark.parametrize(
    ("lst", "why"),
    [
        ("eNrbuRgAAhcBXQ==", "base64url"),  # padding
        ("eNrbuRgAAhcBXQ+/", "base64url"),
        ("eNrbuRgAAhcBX", "base64url"),  # a length of 1 mod 4
        ("", "truncated"),
        (base64.urlsafe_b64encode(b"\x03\x00").decode().rstrip("="), "ZLIB"),  # raw deflate
        (base64.urlsafe_b64encode(zlib.compress(b"ab")[:-3]).decode().rstrip("="), "truncated"),
        (base64.urlsafe_b64encode(zlib.compress(b"ab") + b"!").decode().rstrip("="), "after"),
        (base64.urlsafe_b64encode(zlib.compress(b"")).decode().rstrip("="), "no entries"),
    ],
)
def test_decoding_refuses_what_is_not_a_status_list(lst: str, why: str) -> None:
    with pytest.raises(InvalidStatusList, match=why):
        StatusList.decode(lst, 1, max_size=1024)


# -- the token ---------------------------------------------------------------------------


def test_status_list_token_claims_and_header() -> None:
    key = Key.new("EdDSA")
    status_list = StatusList.from_entries(1024, 2, {3: 1})
    claims = status_list_claims(
        uri=ISSUER + "/statuslists/abc",
        status_list=status_list,
        issued_at=1_800_000_000,
        expires_at=1_800_086_400,
        ttl=300,
        issuer=ISSUER,
    )
    assert claims == {
        "iss": ISSUER,
        "sub": ISSUER + "/statuslists/abc",
        "iat": 1_800_000_000,
        "exp": 1_800_086_400,
        "ttl": 300,
        "status_list": {"bits": 2, "lst": status_list.encode()},
    }
    token = sign_status_list(JwsSigner(key.kid, "EdDSA", key.private), claims)
    assert header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "statuslist+jwt"}
    assert payload(token) == claims
    signing_input, _, signature = token.rpartition(".")
    assert isinstance(key.private, Ed25519PrivateKey)
    key.private.public_key().verify(b64decode(signature), signing_input.encode())


def test_status_list_token_claims_refuse_nonsense() -> None:
    status_list = StatusList(8, 2)
    with pytest.raises(InvalidStatusList, match="exp"):
        status_list_claims(uri="u", status_list=status_list, issued_at=10, expires_at=10, ttl=1)
    with pytest.raises(InvalidStatusList, match="ttl"):
        status_list_claims(uri="u", status_list=status_list, issued_at=10, expires_at=20, ttl=0)
    with pytest.raises(InvalidStatusList, match="uri"):
        status_list_claims(uri="", status_list=status_list, issued_at=10, expires_at=20, ttl=1)


# -- the service over a dictionary store ---------------------------------------------------


class MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def open_list(self) -> ListRecord | None:
        open_lists = [r for r in self.store.lists.values() if r.open]
        return open_lists[0] if open_lists else None

    def create_list(self, record: ListRecord, *, now: datetime) -> None:
        self.store.lists[record.id] = record

    def claim_index(self, list_id: str, idx: int, *, now: datetime) -> bool:
        self.store.picks.append(idx)
        if (list_id, idx) in self.store.entries:
            return False
        self.store.entries[list_id, idx] = 0
        return True

    def count_allocation(self, list_id: str, *, close: bool, now: datetime) -> None:
        record = self.store.lists[list_id]
        self.store.lists[list_id] = replace(
            record, allocated=record.allocated + 1, open=record.open and not close
        )

    def get_list(self, list_id: str) -> ListRecord | None:
        return self.store.lists.get(list_id)

    def statuses(self, list_id: str, indices: Sequence[int], *, lock: bool) -> dict[int, int]:
        return {
            i: self.store.entries[list_id, i] for i in indices if (list_id, i) in self.store.entries
        }

    def update_statuses(
        self, list_id: str, indices: Sequence[int], status: int, *, now: datetime
    ) -> None:
        for i in indices:
            self.store.entries[list_id, i] = status

    def bump_version(self, list_id: str, *, now: datetime) -> None:
        record = self.store.lists[list_id]
        self.store.lists[list_id] = replace(record, version=record.version + 1)

    def non_valid_entries(self, list_id: str) -> Iterable[tuple[int, int]]:
        self.store.full_reads += 1
        return [(i, s) for (lid, i), s in self.store.entries.items() if lid == list_id and s]


class MemoryStore:
    def __init__(self) -> None:
        self.lists: dict[str, ListRecord] = {}
        self.entries: dict[tuple[str, int], int] = {}
        self.picks: list[int] = []
        self.full_reads = 0

    @contextmanager
    def write(self) -> Iterator[MemoryTransaction]:
        yield MemoryTransaction(self)

    @contextmanager
    def read(self) -> Iterator[MemoryTransaction]:
        yield MemoryTransaction(self)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Signer:
    def __init__(self) -> None:
        self.key = Key.new("EdDSA")

    def __call__(self) -> JwsSigner:
        return JwsSigner(self.key.kid, "EdDSA", self.key.private)


def service(size: int = 4096, **options: Any) -> tuple[StatusLists, MemoryStore, Clock, Signer]:
    store, clock, signer = MemoryStore(), Clock(), Signer()
    lists = StatusLists(
        store=store, signer=signer, issuer=ISSUER, clock=clock, size=size, **options
    )
    return lists, store, clock, signer


def test_allocation_spreads_random_indices_over_the_whole_list() -> None:
    lists, _store, _clock, _signer = service(size=2**15)
    refs = [lists.allocate() for _ in range(2000)]
    indices = [r.idx for r in refs]
    assert len(set(indices)) == 2000  # never the same entry twice (§13.3)
    assert indices != sorted(indices)  # not issued in order
    counts = [0] * 8  # 8 equal slices of the list: each holds about 250
    for idx in indices:
        counts[idx * 8 // 2**15] += 1
    assert all(150 < c < 350 for c in counts), counts
    assert {r.list_id for r in refs} == {refs[0].list_id}
    assert refs[0].uri == f"{ISSUER}/statuslists/{refs[0].list_id}"
    assert refs[0].claim() == {"status_list": {"idx": refs[0].idx, "uri": refs[0].uri}}


def test_a_collision_picks_again() -> None:
    lists, store, _clock, _signer = service(size=1024)
    taken = {lists.allocate().idx for _ in range(255)}
    assert len(taken) == 255
    assert len(store.picks) > 255  # some picks collided and were retried, none reused


def test_a_quarter_full_list_closes_and_a_new_random_one_opens() -> None:
    lists, store, _clock, _signer = service(size=1024)
    first = [lists.allocate() for _ in range(256)]
    assert not store.lists[first[0].list_id].open
    nxt = lists.allocate()
    assert nxt.list_id != first[0].list_id
    assert is_list_id(nxt.list_id) and is_list_id(first[0].list_id)
    assert store.lists[nxt.list_id].open


def test_revoke_suspend_and_reinstate() -> None:
    lists, _store, _clock, _signer = service()
    ref = lists.allocate()
    assert lists.status_of(ref.list_id, ref.idx) is Status.VALID
    lists.set_status(ref, Status.SUSPENDED)
    assert lists.status_of(ref.list_id, ref.idx) is Status.SUSPENDED
    lists.set_status(ref.list_id, ref.idx, Status.VALID)  # reinstated
    assert lists.status_of(ref.list_id, ref.idx) is Status.VALID
    lists.set_status(ref, Status.INVALID)
    assert lists.status_of(ref.list_id, ref.idx) is Status.INVALID


@pytest.mark.parametrize("status", [Status.VALID, Status.SUSPENDED, Status.APPLICATION_SPECIFIC])
def test_revocation_is_final(status: Status) -> None:
    lists, store, _clock, _signer = service()
    ref = lists.allocate()
    lists.set_status(ref, Status.INVALID)
    version = store.lists[ref.list_id].version
    with pytest.raises(Conflict, match="revoked"):
        lists.set_status(ref, status)
    assert lists.status_of(ref.list_id, ref.idx) is Status.INVALID
    lists.set_status(ref, Status.INVALID)  # revoking again changes nothing
    assert store.lists[ref.list_id].version == version


def test_bad_status_changes_change_nothing() -> None:
    lists, store, _clock, _signer = service()
    ref = lists.allocate()
    never_allocated = (ref.idx + 1) % 4096
    before = dict(store.entries), dict(store.lists)
    with pytest.raises(NotFound):
        lists.set_status(ref.list_id, never_allocated, Status.INVALID)
    with pytest.raises(NotFound):
        lists.set_status("A" * 22, ref.idx, Status.INVALID)
    with pytest.raises(NotFound):
        lists.set_status("../../etc", ref.idx, Status.INVALID)
    with pytest.raises(InvalidStatusList, match="unknown status"):
        lists.set_status(ref, 7)
    with pytest.raises(InvalidStatusList, match="boolean"):
        lists.set_status(ref, True)
    with pytest.raises(NotFound):  # all or nothing: one unknown entry refuses the batch
        lists.set_statuses(ref.list_id, [ref.idx, never_allocated], Status.INVALID)
    assert (dict(store.entries), dict(store.lists)) == before
    with pytest.raises(NotFound):
        lists.status_of(ref.list_id, never_allocated)


def test_the_token_is_built_once_and_rebuilt_on_a_change() -> None:
    lists, store, _clock, _signer = service()
    ref = lists.allocate()
    first = lists.token(ref.list_id)
    assert lists.token(ref.list_id) is first
    assert store.full_reads == 1  # the second call only read the version
    lists.set_status(ref, Status.INVALID)
    second = lists.token(ref.list_id)
    assert second.etag != first.etag
    claims = payload(second.token)
    decoded = StatusList.decode(claims["status_list"]["lst"], 2, max_size=4096)
    assert decoded.get(ref.idx) == Status.INVALID
    assert claims["sub"] == ref.uri and claims["iss"] == ISSUER
    assert claims["ttl"] == 300 and claims["exp"] - claims["iat"] == 86_400
    assert header(second.token)["typ"] == "statuslist+jwt"


def test_a_change_made_by_another_worker_is_served() -> None:
    lists, store, clock, signer = service()
    other = StatusLists(store=store, signer=signer, issuer=ISSUER, clock=clock, size=4096)
    ref = lists.allocate()
    lists.token(ref.list_id)  # cached by this worker
    other.set_status(ref, Status.SUSPENDED)  # the other worker changes it
    claims = payload(lists.token(ref.list_id).token)
    assert StatusList.decode(claims["status_list"]["lst"], 2, 4096).get(ref.idx) == 2


def test_the_token_is_rebuilt_after_ttl_and_after_a_key_rotation() -> None:
    lists, _store, clock, signer = service(ttl=60)
    ref = lists.allocate()
    first = lists.token(ref.list_id)
    clock.now += timedelta(seconds=59)
    assert lists.token(ref.list_id) is first
    clock.now += timedelta(seconds=1)
    second = lists.token(ref.list_id)
    assert payload(second.token)["iat"] == payload(first.token)["iat"] + 60
    signer.key = Key.new("EdDSA")  # rotated
    third = lists.token(ref.list_id)
    assert header(third.token)["kid"] == signer.key.kid
    assert third.max_age == 60 <= third.ttl


def test_an_unknown_or_malformed_list_has_no_token() -> None:
    lists, _store, _clock, _signer = service()
    for list_id in ("A" * 22, "short", "../statuslists", "A" * 21 + "/"):
        with pytest.raises(NotFound):
            lists.token(list_id)


def test_the_service_refuses_settings_that_make_no_sense() -> None:
    store, clock, signer = MemoryStore(), Clock(), Signer()
    with pytest.raises(ValueError, match="multiple of 8"):
        StatusLists(store=store, signer=signer, issuer=ISSUER, clock=clock, size=1001)
    with pytest.raises(ValueError, match="ttl"):
        StatusLists(store=store, signer=signer, issuer=ISSUER, clock=clock, ttl=90, lifetime=60)
    with pytest.raises(ValueError, match="trailing slash"):
        StatusLists(store=store, signer=signer, issuer=ISSUER + "/", clock=clock)


def test_a_reference_is_a_plain_value() -> None:
    ref = StatusReference("x" * 22, 5, ISSUER + "/statuslists/" + "x" * 22)
    with pytest.raises(AttributeError):
        ref.idx = 6  # type: ignore[misc]


def test_settings_bound_the_ttl_and_lifetime_by_72_hours(tmp_path: Any) -> None:
    from pydantic import ValidationError

    from identity.service.settings import Settings

    defaults = Settings(data_dir=tmp_path)
    assert (defaults.status_list_size, defaults.status_list_ttl) == (2**20, 300)
    bad_values: list[dict[str, Any]] = [
        {"status_list_ttl": 72 * 3600 + 1},
        {"status_list_lifetime": 72 * 3600 + 1},
        {"status_list_ttl": 600, "status_list_lifetime": 300},
        {"status_list_size": 1001},
    ]
    for bad in bad_values:
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, **bad)
