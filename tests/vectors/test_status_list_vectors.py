"""Token Status List vectors (tests/vectors/data/credentials.json, the examples of
draft-ietf-oauth-status-list §4.1/§4.2) and a round trip of our lists through an independent
decoder written here from the draft's rules: plain ``zlib`` and bit arithmetic, nothing
imported from Jati's encoder."""

from __future__ import annotations

import base64
import random
import zlib
from typing import Any

import pytest

from identity.credentials.status_list_token import StatusList
from identity.relying_party.key_cache import KeyCache
from identity.relying_party.status_list import StatusListCache
from tests.vectors import load_vectors

VECTORS = load_vectors("credentials.json")
CASES: list[dict[str, Any]] = VECTORS["status_list"]


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independent_decode(lst: str, bits: int) -> list[int]:
    """The rule of the vectors' ``status_list_rule``, word for word: base64url without
    padding of a zlib (RFC 1950) stream; the status of index i is at bit offset
    (i*bits)%8 of byte (i*bits)//8, least significant bits first."""
    raw = zlib.decompress(b64url(lst))
    count = len(raw) * 8 // bits
    return [(raw[(i * bits) // 8] >> ((i * bits) % 8)) & ((1 << bits) - 1) for i in range(count)]


def test_the_rule_is_the_one_implemented() -> None:
    rule = VECTORS["status_list_rule"]
    assert "zlib (RFC 1950)" in rule and "least significant bits first" in rule


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"bits={c['bits']}")
def test_each_vector_decodes_to_its_statuses(case: dict[str, Any]) -> None:
    decoded = StatusList.decode(case["lst"], case["bits"], max_size=1024)
    assert decoded.to_bytes().hex() == case["bytes_hex"]
    statuses = case["statuses"]
    assert [decoded.get(i) for i in range(len(statuses))] == statuses
    # The independent decoder agrees with the vector too (it is the yardstick below).
    assert independent_decode(case["lst"], case["bits"])[: len(statuses)] == statuses


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"bits={c['bits']}")
def test_our_encoder_reproduces_each_vector(case: dict[str, Any]) -> None:
    size = len(bytes.fromhex(case["bytes_hex"])) * 8 // case["bits"]
    built = StatusList(size, case["bits"])
    for index, status in enumerate(case["statuses"]):
        built.set(index, status)
    assert built.to_bytes().hex() == case["bytes_hex"]
    # Deflate output is not canonical (zlib-ng compresses differently): the same bytes
    # inside, and a list any decoder following the draft reads, is what interop needs.
    lst = built.encode()
    assert zlib.decompress(b64url(lst)) == zlib.decompress(b64url(case["lst"]))
    statuses = case["statuses"]
    assert independent_decode(lst, case["bits"])[: len(statuses)] == statuses


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"bits={c['bits']}")
def test_the_sdk_reads_each_vector(case: dict[str, Any]) -> None:
    """The relying-party decoder, fed the vector inside a signed token, finds the statuses."""
    from tests.unit.identity.relying_party.test_status_list_sdk import ISSUER, URI, World

    world = World()
    world.serve(status_list={"bits": case["bits"], "lst": case["lst"]})
    cache = StatusListCache(
        issuer=ISSUER, keys=KeyCache(None, keys=world.keys), loader=world.load, clock=world.now
    )
    assert [cache.status(URI, i) for i in range(len(case["statuses"]))] == case["statuses"]


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_our_lists_round_trip_through_the_independent_decoder(bits: int) -> None:
    rng = random.Random(bits)
    size = 4096
    statuses = [rng.randrange(1 << bits) if rng.random() < 0.2 else 0 for _ in range(size)]
    built = StatusList.from_entries(size, bits, {i: s for i, s in enumerate(statuses) if s})
    assert independent_decode(built.encode(), bits) == statuses


def test_a_large_random_list_round_trips_through_the_independent_decoder() -> None:
    """A million entries, 2 bits, 1% revoked or suspended at random indices."""
    rng = random.Random(20261128)
    size = 2**20
    entries = {rng.randrange(size): rng.choice((1, 2)) for _ in range(size // 100)}
    built = StatusList.from_entries(size, 2, entries)
    decoded = independent_decode(built.encode(), 2)
    assert len(decoded) == size
    assert {i: s for i, s in enumerate(decoded) if s} == entries
