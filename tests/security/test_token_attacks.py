"""One test per known attack on JWT verification (RFC 8725 §2, issue 4's list): each is
refused by the relying-party SDK with the reason a relying app would log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.jose_header import parse_header
from identity.relying_party.keys import HOLDER_ALGORITHMS, UnusableKey, verification_key
from tests.token_helpers import (
    CLIENT_ID,
    ISSUER,
    NOW,
    Key,
    access_claims,
    b64,
    forge,
    id_token_of,
    issuer_for,
    key_fixture,
    verifier_for,
)

ed = key_fixture("EdDSA")
ec = key_fixture("ES256")


@pytest.fixture
def verifier(ed: Key, ec: Key) -> TokenVerifier:
    return verifier_for(ed, ec)


def refused(verifier: TokenVerifier, token: str, reason: Reason, *, id_token: bool = False) -> None:
    with pytest.raises(InvalidToken) as caught:
        if id_token:
            verifier.verify_id_token(token)
        else:
            verifier.verify_access_token(token)
    assert caught.value.reason is reason, caught.value


def test_a_correct_token_is_accepted_so_each_refusal_below_is_meaningful(
    verifier: TokenVerifier, ed: Key, ec: Key
) -> None:
    assert verifier.verify_access_token(forge(ed))["sub"] == "pairwise-subject"
    assert verifier.verify_access_token(forge(ec))["client_id"] == CLIENT_ID


def test_alg_none(verifier: TokenVerifier, ed: Key) -> None:
    header = b64(json.dumps({"alg": "none", "kid": ed.kid, "typ": "at+jwt"}).encode())
    payload = b64(json.dumps(access_claims()).encode())
    refused(verifier, f"{header}.{payload}.", Reason.UNSUPPORTED_ALGORITHM)


def test_hs256_signed_with_the_public_key_as_secret(verifier: TokenVerifier, ed: Key) -> None:
    header = b64(json.dumps({"alg": "HS256", "kid": ed.kid, "typ": "at+jwt"}).encode())
    payload = b64(json.dumps(access_claims()).encode())
    for secret in (json.dumps(ed.jwk).encode(), ed.jwk["x"].encode()):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        refused(verifier, f"{header}.{payload}.{b64(mac)}", Reason.UNSUPPORTED_ALGORITHM)


def test_algorithm_swapped_between_key_types(verifier: TokenVerifier, ed: Key, ec: Key) -> None:
    # signed correctly with the P-256 key, but claiming the Ed25519 key's kid, and back
    refused(verifier, forge(ec, header={"kid": ed.kid}), Reason.KEY_MISMATCH)
    refused(verifier, forge(ed, header={"kid": ec.kid}), Reason.KEY_MISMATCH)


@pytest.mark.parametrize(
    "kid",
    ["not-a-known-kid", "../../../../etc/passwd", "' OR '1'='1' --; DROP TABLE keys"],
    ids=["absent", "path-traversal", "sql"],
)
def test_kid_not_in_the_jwks(verifier: TokenVerifier, ed: Key, kid: str) -> None:
    refused(verifier, forge(ed, header={"kid": kid}), Reason.UNKNOWN_KEY)


@pytest.mark.parametrize("name", ["jku", "x5u"])
def test_key_url_headers_are_never_followed(
    verifier: TokenVerifier, ed: Key, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[object] = []
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: fetched.append(a))
    token = forge(ed, header={name: "https://attacker.example/keys"})
    refused(verifier, token, Reason.FORBIDDEN_HEADER)
    assert fetched == []


def test_x5c_header(verifier: TokenVerifier, ed: Key) -> None:
    refused(verifier, forge(ed, header={"x5c": ["MIIBszCCAVmgAwIBAgIU"]}), Reason.FORBIDDEN_HEADER)


def test_embedded_jwk_header(verifier: TokenVerifier) -> None:
    attacker = Key.new("EdDSA")  # signs with its own key and ships the public key along
    token = forge(attacker, header={"jwk": attacker.jwk})
    refused(verifier, token, Reason.FORBIDDEN_HEADER)


def test_unknown_crit(verifier: TokenVerifier, ed: Key) -> None:
    token = forge(ed, header={"crit": ["urn:example:unknown"], "urn:example:unknown": True})
    refused(verifier, token, Reason.FORBIDDEN_HEADER)


def test_id_token_presented_as_access_token(verifier: TokenVerifier, ed: Key) -> None:
    id_token = id_token_of(issuer_for(ed))
    assert verifier.verify_id_token(id_token.token)["aud"] == CLIENT_ID
    refused(verifier, id_token.token, Reason.WRONG_TYPE)


def test_access_token_presented_as_id_token(verifier: TokenVerifier, ed: Key) -> None:
    token = issuer_for(ed).access_token(
        client_id=CLIENT_ID, scope=["openid"], subject_id="c-1", sector_identifier="sector"
    )
    assert verifier.verify_access_token(token.token)["client_id"] == CLIENT_ID
    refused(verifier, token.token, Reason.WRONG_TYPE, id_token=True)


def test_access_token_without_typ(verifier: TokenVerifier, ed: Key) -> None:
    refused(verifier, forge(ed, header={"typ": None}), Reason.WRONG_TYPE)


def test_expired(verifier: TokenVerifier, ed: Key) -> None:
    token = forge(ed, claims=access_claims(iat=int(NOW) - 700, exp=int(NOW) - 100))
    refused(verifier, token, Reason.EXPIRED)


def test_nbf_in_the_future(verifier: TokenVerifier, ed: Key) -> None:
    refused(verifier, forge(ed, claims=access_claims(nbf=int(NOW) + 120)), Reason.NOT_YET_VALID)


def test_iat_far_in_the_future(verifier: TokenVerifier, ed: Key) -> None:
    token = forge(ed, claims=access_claims(iat=int(NOW) + 3600, exp=int(NOW) + 4200))
    refused(verifier, token, Reason.ISSUED_IN_FUTURE)


def test_wrong_iss(verifier: TokenVerifier, ed: Key) -> None:
    for iss in ("https://evil.example", ISSUER + "/", ISSUER.upper()):
        refused(verifier, forge(ed, claims=access_claims(iss=iss)), Reason.WRONG_ISSUER)


def test_wrong_aud(verifier: TokenVerifier, ed: Key) -> None:
    for aud in ("another-app", ["another-app", "third-app"], [], CLIENT_ID.upper()):
        refused(verifier, forge(ed, claims=access_claims(aud=aud)), Reason.WRONG_AUDIENCE)


def test_signature_stripped(verifier: TokenVerifier, ed: Key) -> None:
    header, payload, _ = forge(ed).split(".")
    refused(verifier, f"{header}.{payload}.", Reason.BAD_SIGNATURE)
    refused(verifier, f"{header}.{payload}", Reason.MALFORMED)


def test_signature_truncated(verifier: TokenVerifier, ed: Key, ec: Key) -> None:
    for key in (ed, ec):
        header, payload, signature = forge(key).split(".")
        raw = base64.urlsafe_b64decode(signature + "==")
        for cut in (1, 3, 32, 63):
            truncated = b64(raw[:-cut])
            refused(verifier, f"{header}.{payload}.{truncated}", Reason.BAD_SIGNATURE)


def test_payload_altered(verifier: TokenVerifier, ed: Key, ec: Key) -> None:
    for key in (ed, ec):
        header, _, signature = forge(key).split(".")
        altered = b64(json.dumps(access_claims(scope="openid profile nik")).encode())
        refused(verifier, f"{header}.{altered}.{signature}", Reason.BAD_SIGNATURE)


def test_token_over_8_kib(verifier: TokenVerifier, ed: Key) -> None:
    token = forge(ed, claims=access_claims(padding="x" * 8192))
    refused(verifier, token, Reason.TOO_LARGE)
    refused(verifier, "." * 9000, Reason.TOO_LARGE)  # refused before any parsing


def test_duplicate_claim_names(verifier: TokenVerifier, ed: Key) -> None:
    claims_json = json.dumps(access_claims())[:-1] + ', "sub": "someone-else"}'
    refused(verifier, forge(ed, claims_json=claims_json), Reason.MALFORMED)


def test_duplicate_header_names(verifier: TokenVerifier, ed: Key) -> None:
    header_json = json.dumps({"alg": "EdDSA", "kid": ed.kid, "typ": "at+jwt"})[:-1]
    refused(verifier, forge(ed, header_json=header_json + ', "alg": "none"}'), Reason.MALFORMED)


def test_deeply_nested_json_is_refused_not_a_crash(verifier: TokenVerifier, ed: Key) -> None:
    nested = "[" * 2000 + "]" * 2000  # inside the size limit, beyond the recursion limit
    header_json = json.dumps({"alg": "EdDSA", "kid": ed.kid, "typ": "at+jwt"})[:-1]
    refused(verifier, forge(ed, header_json=header_json + f', "x": {nested}}}'), Reason.MALFORMED)
    claims_json = json.dumps(access_claims())[:-1] + f', "x": {nested}}}'
    refused(verifier, forge(ed, claims_json=claims_json), Reason.MALFORMED)


def test_non_canonical_base64(verifier: TokenVerifier, ed: Key) -> None:
    header, payload, signature = forge(ed).split(".")
    # 64 bytes -> 86 characters: the last one carries 4 unused bits, which must be zero
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    same_bytes = signature[:-1] + alphabet[last | 1]
    refused(verifier, f"{header}.{payload}.{same_bytes}", Reason.MALFORMED)
    refused(verifier, f"{header}.{payload}.{signature}==", Reason.MALFORMED)
    standard = signature.replace("-", "+").replace("_", "/")
    if standard != signature:
        refused(verifier, f"{header}.{payload}.{standard}", Reason.MALFORMED)
    refused(verifier, f"{header}.{payload}.{signature[:40]} {signature[40:]}", Reason.MALFORMED)


def test_random_kids_do_not_hammer_the_jwks(ed: Key) -> None:
    loads: list[float] = []
    now = [0.0]

    def loader() -> tuple[dict[str, object], float | None]:
        loads.append(now[0])
        return {"keys": [ed.jwk]}, 300.0

    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=CLIENT_ID,
        jwks_loader=loader,
        min_refresh_interval=60.0,
        clock=lambda: NOW,
    )
    verifier.keys._clock = lambda: now[0]
    for i in range(500):
        now[0] = i * 0.1  # 500 tokens with random kids within 50 seconds
        refused(verifier, forge(ed, header={"kid": f"random-{i}"}), Reason.UNKNOWN_KEY)
    assert len(loads) == 1
    now[0] = 61.0
    refused(verifier, forge(ed, header={"kid": "random-again"}), Reason.UNKNOWN_KEY)
    assert len(loads) == 2
    assert verifier.verify_access_token(forge(ed))["iss"] == ISSUER


# -- RS256 (issue 17 defect 6: the ID tokens of apps registered for it) ---------------------


@pytest.fixture(scope="module")
def rs() -> Key:
    return Key.new("RS256")


@pytest.fixture
def rs_verifier(ed: Key, ec: Key, rs: Key) -> TokenVerifier:
    return verifier_for(ed, ec, rs)


def _rsa_jwk(bits: int, exponent: int = 65537) -> dict[str, object]:
    private = rsa.generate_private_key(public_exponent=exponent, key_size=bits)
    return Key("RS256", private).jwk


def test_a_correct_rs256_token_is_accepted_so_each_refusal_below_is_meaningful(
    rs_verifier: TokenVerifier, rs: Key
) -> None:
    assert rs.jwk["kty"] == "RSA" and rs.jwk["alg"] == "RS256"
    assert rs_verifier.verify_access_token(forge(rs))["sub"] == "pairwise-subject"
    id_token = id_token_of(issuer_for(rs))
    assert rs_verifier.verify_id_token(id_token.token)["aud"] == CLIENT_ID


def test_hs256_signed_with_the_rsa_public_key_as_secret(
    rs_verifier: TokenVerifier, rs: Key
) -> None:
    """RFC 8725 §2.1: the classic key confusion, a verifier that takes the RSA public key (as
    PEM, as its JWK, as its modulus) for an HMAC secret. No HS* is in the allow-list, and an
    RSA key verifies RS256 only."""
    assert isinstance(rs.private, rsa.RSAPrivateKey)
    pem = rs.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = rs.private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for alg in ("HS256", "HS384", "HS512"):
        header = b64(json.dumps({"alg": alg, "kid": rs.kid, "typ": "at+jwt"}).encode())
        payload = b64(json.dumps(access_claims()).encode())
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        for secret in (pem, der, json.dumps(rs.jwk).encode(), str(rs.jwk["n"]).encode()):
            mac = hmac.new(secret, f"{header}.{payload}".encode(), digest).digest()
            token = f"{header}.{payload}.{b64(mac)}"
            refused(rs_verifier, token, Reason.UNSUPPORTED_ALGORITHM)


def test_rs256_claimed_with_an_ec_or_ed25519_key_and_back(
    rs_verifier: TokenVerifier, ed: Key, ec: Key, rs: Key
) -> None:
    # RS256 signed correctly by the RSA key, but naming the P-256 or Ed25519 key's kid
    refused(rs_verifier, forge(rs, header={"kid": ec.kid}), Reason.KEY_MISMATCH)
    refused(rs_verifier, forge(rs, header={"kid": ed.kid}), Reason.KEY_MISMATCH)
    # ES256 or EdDSA signed by their keys, naming the RSA key's kid
    refused(rs_verifier, forge(ec, header={"kid": rs.kid}), Reason.KEY_MISMATCH)
    refused(rs_verifier, forge(ed, header={"kid": rs.kid}), Reason.KEY_MISMATCH)
    # an RS256 header over an ES256 signature, with the EC key's kid
    refused(rs_verifier, forge(ec, header={"alg": "RS256"}), Reason.KEY_MISMATCH)


@pytest.mark.parametrize("alg", ["PS256", "RS384", "RS512", "RS1"])
def test_other_rsa_algorithms_are_outside_the_allow_list(
    rs_verifier: TokenVerifier, rs: Key, alg: str
) -> None:
    refused(rs_verifier, forge(rs, header={"alg": alg}), Reason.UNSUPPORTED_ALGORITHM)


@pytest.mark.parametrize("bits", [1024, 1536, 2040])
def test_an_rsa_key_below_2048_bits_is_never_used(ed: Key, bits: int) -> None:
    """RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"."""
    short = Key("RS256", rsa.generate_private_key(public_exponent=65537, key_size=bits))
    with pytest.raises(UnusableKey, match="modulus"):
        verification_key(short.jwk)
    verifier = verifier_for(ed, short)  # the set is usable; the short key is left out
    refused(verifier, forge(short), Reason.UNKNOWN_KEY)


def test_an_rsa_key_of_2048_bits_is_the_floor_and_is_accepted(ed: Key) -> None:
    floor = Key("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert verifier_for(ed, floor).verify_access_token(forge(floor))["client_id"] == CLIENT_ID


def test_an_rsa_key_with_an_insane_exponent_is_never_used(rs: Key) -> None:
    e3 = _rsa_jwk(2048, exponent=3)
    with pytest.raises(UnusableKey, match="exponent"):
        verification_key(e3)
    for exponent in (1, 65536, 65535, 2**256 + 1):
        size = (exponent.bit_length() + 7) // 8
        jwk = {**rs.jwk, "e": b64(exponent.to_bytes(size, "big"))}
        with pytest.raises(UnusableKey):
            verification_key(jwk)


def test_an_rsa_jwk_in_non_canonical_octets_is_never_used(rs: Key) -> None:
    n = base64.urlsafe_b64decode(str(rs.jwk["n"]) + "==")
    with pytest.raises(UnusableKey, match="canonical"):
        verification_key({**rs.jwk, "n": b64(b"\x00" + n)})
    with pytest.raises(UnusableKey, match="canonical"):
        verification_key({**rs.jwk, "e": b64(b"\x00\x01\x00\x01")})
    with pytest.raises(UnusableKey, match="private"):
        verification_key({**rs.jwk, "d": "AQAB"})


def test_an_rs256_signature_of_the_wrong_length(rs_verifier: TokenVerifier, rs: Key) -> None:
    """RFC 8017 §8.2.2 step 1: a signature is exactly as long as the modulus."""
    header, payload, signature = forge(rs).split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    assert len(raw) == 384  # 3072 bits
    for altered in (b"\x00" + raw, raw[:-1], raw[1:], raw + b"\x00"):
        refused(rs_verifier, f"{header}.{payload}.{b64(altered)}", Reason.BAD_SIGNATURE)


def test_a_holder_key_is_never_rsa(rs: Key) -> None:
    """Key binding JWTs and credential proofs verify with compact holder keys only: an RSA
    ``cnf.jwk`` or proof ``jwk`` is no key there, and RS256 is no algorithm there."""
    with pytest.raises(UnusableKey):
        verification_key(rs.jwk, algorithms=HOLDER_ALGORITHMS)
    header = b64(json.dumps({"alg": "RS256", "typ": "kb+jwt"}).encode())
    with pytest.raises(InvalidToken) as caught:
        parse_header(header, kid_required=False, holder=True)
    assert caught.value.reason is Reason.UNSUPPORTED_ALGORITHM
