"""Token figures (issue 4), each a ratio against raw ``cryptography`` in the same run:

- SDK verification of a typical access token / raw signature verify of the same token
  (target >= 0.9, EdDSA and ES256); PyJWT and joserfc decoding the same token, for reference.
- Token issuance (claims, pairwise sub, jti, JSON, base64url, signature) / raw signing of the
  same bytes (target >= 0.7).

Each figure is the median of several rounds; within a round, batches of the candidate and
the baseline alternate so that a noisy neighbour hits both alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import Figure
from identity.keys.signing_keys import KeyState, SigningKeyInfo, generate_private_key, public_jwk
from identity.oidc.pairwise import PairwiseSubjects
from identity.oidc.tokens import ActiveSigner, TokenIssuer
from identity.relying_party import TokenVerifier
from identity.relying_party.encoding import b64url_decode
from identity.relying_party.keys import raw_to_der

ISSUER = "https://id.jakarta.go.id"
CLIENT_ID = "layanan-kependudukan"


def _batch(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def _compare(
    candidate: Callable[[], object], baseline: Callable[[], object], rounds: int, seconds: float
) -> tuple[float, float]:
    """Median rates (candidate, baseline): within each round, batches of 100 calls alternate
    between the two, so that load from elsewhere on the machine hits both alike."""
    cand, base = [], []
    for _ in range(rounds):
        spent_cand = spent_base = 0.0
        calls = 0
        while spent_cand + spent_base < seconds:
            spent_base += _batch(baseline, 100)
            spent_cand += _batch(candidate, 100)
            calls += 100
        cand.append(calls / spent_cand)
        base.append(calls / spent_base)
    return statistics.median(cand), statistics.median(base)


def _setup(alg: str) -> tuple[Any, dict[str, Any], TokenIssuer, str]:
    private = generate_private_key(alg)
    jwk = public_jwk(private, alg)
    info = SigningKeyInfo(jwk["kid"], alg, KeyState.ACTIVE, jwk, created_at=None)  # type: ignore[arg-type]
    issuer = TokenIssuer(
        issuer=ISSUER,
        signer=ActiveSigner(lambda _a: (info, private), alg),
        pairwise=PairwiseSubjects(bytes(range(32))),
    )
    token = issuer.access_token(
        client_id=CLIENT_ID,
        scope=["openid", "profile", "email"],
        subject_id="3f1c9a8e-7b2d-4c55-9e0a-1d2b3c4d5e6f",
        sector_identifier="kependudukan.jakarta.go.id",
        auth_time=int(time.time()),
        acr="urn:jati:acr:password",
    ).token
    return private, jwk, issuer, token


def _raw_verify(private: Any, token: str) -> Callable[[], object]:
    signing_input, _, signature = token.rpartition(".")
    data, sig = signing_input.encode(), b64url_decode(signature)
    public = private.public_key()
    if isinstance(private, Ed25519PrivateKey):
        return lambda: public.verify(sig, data)
    der, algorithm = raw_to_der(sig), ec.ECDSA(hashes.SHA256())
    return lambda: public.verify(der, data, algorithm)


def _raw_sign(private: Any, token: str) -> Callable[[], object]:
    data = token.rpartition(".")[0].encode()
    if isinstance(private, Ed25519PrivateKey):
        return lambda: private.sign(data)
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda: private.sign(data, algorithm)


def _pyjwt(jwk: dict[str, Any], token: str, alg: str) -> Callable[[], object]:
    key = pyjwt.PyJWK(jwk).key
    return lambda: pyjwt.decode(
        token, key=key, algorithms=[alg], audience=CLIENT_ID, issuer=ISSUER, leeway=30
    )


def _joserfc(jwk: dict[str, Any], token: str, alg: str) -> Callable[[], object] | None:
    try:
        from joserfc import jwt as jose_jwt
        from joserfc.jwk import import_key
    except ImportError:
        return None
    key = import_key(jwk)
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        leeway=30,
    )

    def decode() -> object:
        result = jose_jwt.decode(token, key, algorithms=[alg])
        registry.validate(result.claims)
        return result

    return decode


def run(*, quick: bool = False) -> Iterator[Figure]:
    rounds, seconds = (3, 0.3) if quick else (7, 1.0)
    for alg in ("EdDSA", "ES256"):
        private, jwk, issuer, token = _setup(alg)
        sdk = TokenVerifier(issuer=ISSUER, audience=CLIENT_ID, jwks={"keys": [jwk]})
        sdk.verify_access_token(token)  # fills the header cache, as in a running app
        raw = _raw_verify(private, token)
        ours, base = _compare(partial(sdk.verify_access_token, token), raw, rounds, seconds)
        yield Figure(
            f"SDK verify {alg} access token / raw cryptography verify",
            ours,
            base,
            "verifications/s",
            target=0.9,
        )
        peers = {
            "PyJWT decode": _pyjwt(jwk, token, alg),
            "joserfc decode": _joserfc(jwk, token, alg),
        }
        for name, peer in peers.items():
            if peer is None:
                yield Figure(f"{name} {alg}", 0, 1, "-", note="not installed: pip install joserfc")
                continue
            peer()
            theirs, their_base = _compare(peer, raw, rounds, seconds)
            relative = (ours / base) / (theirs / their_base)
            yield Figure(
                f"{name} {alg} / raw cryptography verify",
                theirs,
                their_base,
                "verifications/s",
                note=f"SDK is {relative:.2f}x {name.split()[0]}",
            )
        issue = partial(
            issuer.access_token,
            client_id=CLIENT_ID,
            scope=["openid", "profile", "email"],
            subject_id="3f1c9a8e-7b2d-4c55-9e0a-1d2b3c4d5e6f",
            sector_identifier="kependudukan.jakarta.go.id",
        )
        ours, base = _compare(issue, _raw_sign(private, token), rounds, seconds)
        yield Figure(
            f"issue {alg} access token / raw cryptography sign",
            ours,
            base,
            "tokens/s",
            target=0.7,
        )
