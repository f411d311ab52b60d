"""Token Status List figures (issue 7): a list of 1,000,000 entries (2**20, 2 bits each)
with 1% of them revoked or suspended at random indices, each figure a ratio against the raw
cost measured in the same run (higher is better; 1.0 = no overhead):

- encode: our bit packing of the non-VALID entries into the byte array
  (``StatusList.from_entries``) / the same packing written as a bare loop over a
  ``bytearray`` (the least any Python implementation does); a plain copy of the array is
  noted for scale.
- compress: ``StatusList.encode()`` (zlib level 9 + base64url) / raw ``zlib.compress`` of the
  same bytes at the same level.
- sign: issuing the Status List Token from its claims (JSON, base64url, header, signature)
  / raw ``cryptography`` signing of a message of the same length, EdDSA and ES256.
- build: the whole token from the entries (pack, compress, claims, sign) / raw zlib + raw
  signature of the same sizes.
- lookup: ``StatusListCache.status(uri, idx)`` on a warm cache (the SDK's hot path) / a bare
  ``bytearray`` index and shift.

Each figure is the median of several rounds; within a round, batches of the candidate and
the baseline alternate so that a noisy neighbour hits both alike.
"""

from __future__ import annotations

import random
import statistics
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import Figure
from identity.credentials.status_list_token import StatusList, sign_status_list, status_list_claims
from identity.keys.signing_keys import generate_private_key, public_jwk
from identity.oidc.tokens import JwsSigner
from identity.relying_party.key_cache import KeyCache
from identity.relying_party.keys import key_set
from identity.relying_party.status_list import StatusListCache

ISSUER = "https://id.jakarta.go.id"
URI = ISSUER + "/statuslists/q1w2e3r4t5y6u7i8o9p0aS"
SIZE = 2**20
BITS = 2
NOW = int(time.time())


def _batch(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def _compare(
    candidate: Callable[[], object],
    baseline: Callable[[], object],
    *,
    rounds: int,
    seconds: float,
    batch: int,
) -> tuple[float, float]:
    """Median rates (candidate, baseline) in calls per second."""
    cand, base = [], []
    for _ in range(rounds):
        spent_cand = spent_base = 0.0
        calls = 0
        while spent_cand + spent_base < seconds or calls == 0:
            spent_base += _batch(baseline, batch)
            spent_cand += _batch(candidate, batch)
            calls += batch
        cand.append(calls / spent_cand)
        base.append(calls / spent_base)
    return statistics.median(cand), statistics.median(base)


def _entries() -> dict[int, int]:
    rng = random.Random(7)
    return {rng.randrange(SIZE): rng.choice((1, 1, 1, 2)) for _ in range(SIZE // 100)}


def _bare_packing(entries: dict[int, int]) -> Callable[[], object]:
    items = list(entries.items())

    def pack() -> object:
        data = bytearray(SIZE * BITS // 8)
        for index, status in items:
            position = index * BITS
            data[position >> 3] |= status << (position & 7)
        return data

    return pack


def _raw_signer(private: Any) -> Callable[[bytes], bytes]:
    if isinstance(private, Ed25519PrivateKey):
        return private.sign
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda data: private.sign(data, algorithm)


def run(*, quick: bool = False) -> Iterator[Figure]:
    slow_rounds, slow_seconds = (3, 0.5) if quick else (5, 2.0)
    fast_rounds, fast_seconds = (3, 0.3) if quick else (7, 1.0)
    entries = _entries()
    status_list = StatusList.from_entries(SIZE, BITS, entries)
    raw = status_list.to_bytes()
    note = f"{len(entries):,} of {SIZE:,} entries not VALID"

    # -- encode: bit packing ---------------------------------------------------------------
    ours, base = _compare(
        lambda: StatusList.from_entries(SIZE, BITS, entries),
        _bare_packing(entries),
        rounds=slow_rounds,
        seconds=slow_seconds,
        batch=5,
    )
    copy_rate = 20 / _batch(lambda: bytearray(raw), 20)
    yield Figure(
        "status list encode (pack 1M entries) / bare bytearray loop",
        ours,
        base,
        "lists/s",
        note=f"{note}; a plain copy of the {len(raw) // 1024} KiB array: {copy_rate:,.0f}/s",
    )

    # -- compress: zlib + base64url --------------------------------------------------------
    ours, base = _compare(
        status_list.encode,
        lambda: zlib.compress(raw, 9),
        rounds=slow_rounds,
        seconds=slow_seconds,
        batch=2,
    )
    lst = status_list.encode()
    yield Figure(
        "status list compress (zlib 9 + base64url) / raw zlib.compress level 9",
        ours,
        base,
        "lists/s",
        note=f"{len(raw):,} bytes -> lst of {len(lst):,} characters",
    )

    # -- sign and build --------------------------------------------------------------------
    for alg in ("EdDSA", "ES256"):
        private = generate_private_key(alg)
        jwk = public_jwk(private, alg)
        signer = JwsSigner(jwk["kid"], alg, private)
        claims = status_list_claims(
            uri=URI,
            status_list=status_list,
            issued_at=NOW,
            expires_at=NOW + 86_400,
            ttl=300,
            issuer=ISSUER,
        )
        token = sign_status_list(signer, claims)
        signing_input = token.rpartition(".")[0].encode()
        raw_sign = _raw_signer(private)
        ours, base = _compare(
            lambda s=signer, c=claims: sign_status_list(s, c),  # type: ignore[misc]
            lambda r=raw_sign, d=signing_input: r(d),  # type: ignore[misc]
            rounds=fast_rounds,
            seconds=fast_seconds,
            batch=20,
        )
        yield Figure(
            f"status list token sign {alg} / raw cryptography sign of as many bytes",
            ours,
            base,
            "tokens/s",
            note=f"token of {len(token):,} bytes",
        )

        def build(s: JwsSigner = signer) -> object:
            built = StatusList.from_entries(SIZE, BITS, entries)
            body = status_list_claims(
                uri=URI,
                status_list=built,
                issued_at=NOW,
                expires_at=NOW + 86_400,
                ttl=300,
                issuer=ISSUER,
            )
            return sign_status_list(s, body)

        def raw_build(r: Callable[[bytes], bytes] = raw_sign, d: bytes = signing_input) -> object:
            zlib.compress(raw, 9)
            return r(d)

        ours, base = _compare(build, raw_build, rounds=slow_rounds, seconds=slow_seconds, batch=2)
        yield Figure(
            f"status list token build {alg} (pack+compress+sign) / raw zlib + raw sign",
            ours,
            base,
            "tokens/s",
        )

        # -- lookup on a warm SDK cache ----------------------------------------------------
        if alg != "EdDSA":
            continue
        cache = StatusListCache(
            issuer=ISSUER,
            keys=KeyCache(None, keys=key_set({"keys": [jwk]})),
            loader=lambda _uri, t=token: (t, None),  # type: ignore[misc]
        )
        idx = next(iter(entries))
        assert cache.status(URI, idx) == entries[idx]  # warms the cache
        data = bytearray(raw)

        def bare_lookup(d: bytearray = data, i: int = idx) -> int:
            position = i * BITS
            return (d[position >> 3] >> (position & 7)) & 3

        ours, base = _compare(
            lambda c=cache, i=idx: c.status(URI, i),  # type: ignore[misc]
            bare_lookup,
            rounds=fast_rounds,
            seconds=fast_seconds,
            batch=1000,
        )
        yield Figure(
            "SDK status lookup (warm cache) / bare bytearray index and shift",
            ours,
            base,
            "lookups/s",
            note=f"{1e9 / ours:,.0f} ns per lookup",
        )
