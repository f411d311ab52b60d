"""SD-JWT VC presentation figures (issue 7), each a ratio against raw ``cryptography`` in the
same run:

- SDK ``verify_presentation`` of a typical presentation (issuer signature, KB-JWT, 5
  Disclosures, ``vct``, status from a warm ``StatusListCache`` fed a real, signed Token Status
  List by an offline loader) / raw verification of the same two signatures (target >= 0.7);
  issuer keys EdDSA and ES256, holder keys ES256 and EdDSA.
- The ``sd-jwt`` reference verifier (``SDJWTVerifier``, jwcrypto) on the same presentation,
  for reference (its KB-JWT is ES256 only): its ratio to the same raw baseline and how many
  times faster the SDK is.

Each figure is the median of several rounds; within a round, batches of the candidate and
the baseline alternate so that a noisy neighbour hits both alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import Figure
from bench.tokens import _compare
from identity.credentials.sd_jwt import Disclosable, issue
from identity.credentials.status_list_token import StatusList, sign_status_list, status_list_claims
from identity.keys.base64url import b64url_encode
from identity.keys.signing_keys import PrivateKey, generate_private_key, public_jwk
from identity.oidc.tokens import JwsSigner, der_to_raw
from identity.relying_party import TokenVerifier
from identity.relying_party.encoding import b64url_decode
from identity.relying_party.keys import raw_to_der

ISSUER = "https://id.jakarta.go.id"
VCT = ISSUER + "/vct/identity/v1"
STATUS_URI = ISSUER + "/statuslists/1"
AUDIENCE = "https://layanan.jakarta.go.id"
NONCE = "bench-nonce-0123456789"
NOW = 1_800_000_000
#: The claims a relying app typically asks for: 5 Disclosures.
SHOWN = {"given_name", "family_name", "address", "locality", "18"}


def _sign(private: PrivateKey, data: bytes) -> bytes:
    if isinstance(private, Ed25519PrivateKey):
        return private.sign(data)
    return der_to_raw(private.sign(data, ec.ECDSA(hashes.SHA256())))


def _json_b64(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def _credential(issuer: JwsSigner, holder_jwk: dict[str, Any]) -> str:
    claims = {
        "iss": ISSUER,
        "iat": NOW,
        "exp": NOW + 365 * 86_400,
        "vct": VCT,
        "cnf": {"jwk": holder_jwk},
        "status": {"status_list": {"idx": 48_213, "uri": STATUS_URI}},
        "name": Disclosable("Siti Rahayu"),
        "given_name": Disclosable("Siti"),
        "family_name": Disclosable("Rahayu"),
        "birthdate": Disclosable("1990-08-17"),
        "address": Disclosable(
            {
                "formatted": Disclosable("Jl. Merdeka 1, Jakarta Pusat"),
                "street_address": Disclosable("Jl. Merdeka 1"),
                "locality": Disclosable("Jakarta Pusat"),
                "country": Disclosable("ID"),
            }
        ),
        "age_equal_or_over": {str(a): Disclosable(a <= 35) for a in (12, 14, 16, 18, 21, 65)},
        "nationalities": Disclosable(["ID"]),
    }
    return issue(issuer, claims).compact


def _present(compact: str, holder: PrivateKey, holder_alg: str) -> str:
    jwt, *disclosures, _ = compact.split("~")
    chosen = [d for d in disclosures if json.loads(b64url_decode(d))[1] in SHOWN]
    assert len(chosen) == 5
    signed_part = jwt + "~" + "".join(d + "~" for d in chosen)
    sd_hash = b64url_encode(hashlib.sha256(signed_part.encode()).digest())
    header = _json_b64({"alg": holder_alg, "typ": "kb+jwt"})
    payload = _json_b64({"nonce": NONCE, "aud": AUDIENCE, "iat": NOW, "sd_hash": sd_hash})
    signing_input = f"{header}.{payload}"
    signature = b64url_encode(_sign(holder, signing_input.encode()))
    return f"{signed_part}{signing_input}.{signature}"


def _raw_verify(private: PrivateKey, jws: str) -> Callable[[], object]:
    signing_input, _, signature = jws.rpartition(".")
    data, sig = signing_input.encode(), b64url_decode(signature)
    public = private.public_key()
    if isinstance(private, Ed25519PrivateKey):
        return lambda: public.verify(sig, data)  # type: ignore[call-arg]
    der, algorithm = raw_to_der(sig), ec.ECDSA(hashes.SHA256())
    return lambda: public.verify(der, data, algorithm)  # type: ignore[call-arg]


def _both(first: Callable[[], object], second: Callable[[], object]) -> Callable[[], None]:
    def both() -> None:
        first()
        second()

    return both


def _status_loader(issuer: JwsSigner) -> Callable[[str], tuple[str, float | None]]:
    """A real Token Status List of 100,000 entries (a few revoked), signed by the issuer."""
    entries = {i: 1 for i in range(7, 100_000, 9_973)}
    status_list = StatusList.from_entries(100_000, 2, entries)
    claims = status_list_claims(
        uri=STATUS_URI,
        status_list=status_list,
        issued_at=NOW,
        expires_at=NOW + 86_400,
        ttl=43_200,
        issuer=ISSUER,
    )
    token = sign_status_list(issuer, claims)
    return lambda _uri: (token, None)


def _reference(issuer_jwk: dict[str, Any], presentation: str) -> Callable[[], object] | None:
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.verifier import SDJWTVerifier
    except ImportError:
        return None
    key = JWK(**issuer_jwk)

    def verify() -> object:
        verifier = SDJWTVerifier(
            presentation, lambda _iss, _header: key, expected_aud=AUDIENCE, expected_nonce=NONCE
        )
        return verifier.get_verified_payload()

    return verify


def run(*, quick: bool = False) -> Iterator[Figure]:
    rounds, seconds = (3, 0.3) if quick else (7, 1.0)
    for issuer_alg, holder_alg in (("EdDSA", "ES256"), ("ES256", "ES256"), ("EdDSA", "EdDSA")):
        issuer_private = generate_private_key(issuer_alg)
        issuer_jwk = public_jwk(issuer_private, issuer_alg)
        issuer = JwsSigner(issuer_jwk["kid"], issuer_alg, issuer_private)
        holder_private = generate_private_key(holder_alg)
        holder_jwk = {
            k: v
            for k, v in public_jwk(holder_private, holder_alg).items()
            if k in ("kty", "crv", "x", "y")
        }
        presentation = _present(_credential(issuer, holder_jwk), holder_private, holder_alg)
        sdk = TokenVerifier(
            issuer=ISSUER,
            audience="unused",
            jwks={"keys": [issuer_jwk]},
            status_list_loader=_status_loader(issuer),
            clock=lambda: float(NOW),
        )
        verify = partial(sdk.verify_presentation, presentation, audience=AUDIENCE, nonce=NONCE)
        shown = verify()  # warms the status list and the header caches, as in a running app
        assert shown["age_equal_or_over"] == {"18": True} and len(shown["address"]) == 1
        issuer_jwt, kb_jwt = presentation.split("~")[0], presentation.rsplit("~", 1)[1]
        raw = _both(_raw_verify(issuer_private, issuer_jwt), _raw_verify(holder_private, kb_jwt))
        ours, base = _compare(verify, raw, rounds, seconds)
        label = f"issuer {issuer_alg}, holder {holder_alg}"
        yield Figure(
            f"SDK verify presentation ({label}; 5 disclosures + status) / raw verify of both"
            " signatures",
            ours,
            base,
            "verifications/s",
            target=0.7,
            note=f"{1e6 / ours:,.0f} µs per presentation",
        )
        if holder_alg != "ES256":
            continue  # the reference verifier checks KB-JWTs as ES256 only
        reference = _reference(issuer_jwk, presentation)
        if reference is None:
            yield Figure(f"sd-jwt reference verify ({label})", 0, 1, "-", note="pip install sd-jwt")
            continue
        assert reference()["given_name"] == "Siti"
        theirs, their_base = _compare(reference, raw, rounds, seconds)
        relative = (ours / base) / (theirs / their_base)
        yield Figure(
            f"sd-jwt reference verify ({label}) / raw verify of both signatures",
            theirs,
            their_base,
            "verifications/s",
            note=f"{1e6 / theirs:,.0f} µs per verify; SDK is {relative:.2f}x the reference",
        )
