"""One test per attack on SD-JWT VC presentations (RFC 9901 §7.1, §7.3, §9; RFC 8725): each
is refused by ``TokenVerifier.verify_presentation`` with the reason a relying app would log.

Issuer-signed JWTs are forged by hand (``forge``) with a real issuer key, so that each test
puts exactly one flaw into an otherwise valid presentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identity.credentials.sd_jwt import disclosure_digest, encode_disclosure
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from tests.sd_jwt_helpers import (
    AUDIENCE,
    NONCE,
    SHOWN,
    FakeStatusLists,
    holder_jwk,
    issue_credential,
    kb_jwt,
    present,
    presentation_verifier,
    refused,
    sd_hash,
    sd_jwt,
    sd_jwt_kb,
    signed_claims,
    split,
)
from tests.token_helpers import NOW, Key, access_claims, b64, forge, key_fixture

issuer = key_fixture("EdDSA")
holder = key_fixture("ES256")


@pytest.fixture
def verifier(issuer: Key) -> TokenVerifier:
    return presentation_verifier(issuer)


def raw(array: Any) -> str:
    """A Disclosure of any JSON, as an attacker (or a broken issuer) would write it."""
    return b64(json.dumps(array).encode())


def _unused_bits_set(encoded: str) -> str:
    """The same bytes in a second, non-canonical base64url form (RFC 4648 §3.5)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(encoded) % 4 in (2, 3)  # the last character carries 4 or 2 unused bits
    last = alphabet.index(encoded[-1])
    assert last & 0x03 == 0
    return encoded[:-1] + alphabet[last | 1]


def payload(holder: Key, **claims: Any) -> dict[str, Any]:
    """An issuer-signed payload to forge: valid for an hour, ``_sd_alg`` named, ``claims``
    added (``None`` drops one)."""
    return signed_claims(holder, **{"exp": int(NOW) + 3600, "_sd_alg": "sha-256", **claims})


def signed_by_issuer(issuer: Key, claims: dict[str, Any], **header: Any) -> str:
    return forge(issuer, header={"typ": "dc+sd-jwt", **header}, claims=claims)


def presentation(
    issuer: Key, holder: Key, claims: dict[str, Any], disclosures: list[str], **kb: Any
) -> str:
    return sd_jwt_kb(holder, signed_by_issuer(issuer, claims), disclosures, **kb)


def refused_disclosure(verifier: TokenVerifier, issuer: Key, holder: Key, disclosure: str) -> None:
    """``disclosure``, referenced from the payload's ``_sd``, is ``invalid_disclosure``."""
    claims = payload(holder, _sd=[disclosure_digest(disclosure)])
    refused(verifier, presentation(issuer, holder, claims, [disclosure]), Reason.INVALID_DISCLOSURE)


def test_a_forged_but_correct_presentation_is_accepted_so_each_refusal_is_meaningful(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    name = encode_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Siti")
    element = encode_disclosure("b3RoZXJzYWx0b3RoZXJzYQ", None, "ID")
    claims = payload(
        holder, _sd=[disclosure_digest(name)], nationalities=[{"...": disclosure_digest(element)}]
    )
    shown = verifier.verify_presentation(
        presentation(issuer, holder, claims, [name, element]), audience=AUDIENCE, nonce=NONCE
    )
    assert shown["given_name"] == "Siti" and shown["nationalities"] == ["ID"]


# -- RFC 9901 §7.1: Disclosures ----------------------------------------------------------


@pytest.mark.parametrize(
    "disclosure",
    [
        raw(["salt", "given_name", "Siti"]) + "=",  # padding
        _unused_bits_set(raw(["salt", "given_name", "Sit"])),
        raw(["salt", "given_name", "Siti"]).replace("-", "+").replace("_", "/") + "+/",
        "not base64!",
    ],
    ids=["padding", "unused-bits", "standard-alphabet", "garbage"],
)
def test_a_disclosure_that_is_not_canonical_base64url(
    verifier: TokenVerifier, issuer: Key, holder: Key, disclosure: str
) -> None:
    claims = payload(holder, _sd=[disclosure_digest(disclosure)] if disclosure.isascii() else [])
    refused(verifier, presentation(issuer, holder, claims, [disclosure]), Reason.INVALID_DISCLOSURE)


@pytest.mark.parametrize(
    "contents",
    [
        {"salt": "s", "name": "given_name", "value": "Siti"},
        "a string",
        ["salt"],
        ["salt", "given_name", "Siti", "extra"],
        [],
    ],
    ids=["object", "string", "one", "four", "empty"],
)
def test_a_disclosure_that_is_not_an_array_of_two_or_three(
    verifier: TokenVerifier, issuer: Key, holder: Key, contents: Any
) -> None:
    refused_disclosure(verifier, issuer, holder, raw(contents))


@pytest.mark.parametrize("salt", [None, 42, ["s"], {"s": 1}])
def test_a_disclosure_whose_salt_is_not_a_string(
    verifier: TokenVerifier, issuer: Key, holder: Key, salt: Any
) -> None:
    refused_disclosure(verifier, issuer, holder, raw([salt, "given_name", "Siti"]))


def test_a_disclosure_whose_claim_name_is_not_a_string(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    refused_disclosure(verifier, issuer, holder, raw(["salt", 18, True]))


def test_a_disclosure_with_duplicate_member_names(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    disclosure = b64(b'["salt", "address", {"locality": "Bogor", "locality": "Jakarta"}]')
    refused_disclosure(verifier, issuer, holder, disclosure)


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_a_disclosure_of_a_reserved_claim_name(
    verifier: TokenVerifier, issuer: Key, holder: Key, name: str
) -> None:
    """Disclosing ``_sd`` would let a holder smuggle digests in; ``...`` would turn an
    object into an array placeholder (RFC 9901 §7.1 step 3.2.2.2)."""
    disclosure = raw(["salt", name, ["bogus-digest"] if name == "_sd" else "x"])
    refused_disclosure(verifier, issuer, holder, disclosure)


def test_a_digest_that_appears_twice_in_the_payload(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    disclosure = raw(["salt", "given_name", "Siti"])
    digest = disclosure_digest(disclosure)
    decoy = disclosure_digest(raw(["never", "shown"]))
    for claims in (
        payload(holder, _sd=[digest, digest]),
        payload(holder, _sd=[digest], address={"_sd": [digest]}),
        payload(holder, _sd=[digest, decoy], nationalities=[{"...": decoy}]),
    ):
        refused(
            verifier, presentation(issuer, holder, claims, [disclosure]), Reason.INVALID_DISCLOSURE
        )


def test_a_decoy_digest_that_appears_twice(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    decoy = disclosure_digest(raw(["never", "shown", 0]))
    claims = payload(holder, _sd=[decoy], age_equal_or_over={"_sd": [decoy]})
    refused(verifier, presentation(issuer, holder, claims, []), Reason.INVALID_DISCLOSURE)


def test_a_digest_that_reappears_inside_a_disclosed_value(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    locality = raw(["s1", "locality", "Jakarta"])
    address = raw(["s2", "address", {"_sd": [disclosure_digest(locality)]}])
    claims = payload(holder, _sd=[disclosure_digest(address), disclosure_digest(locality)])
    refused(
        verifier,
        presentation(issuer, holder, claims, [address, locality]),
        Reason.INVALID_DISCLOSURE,
    )


def test_a_disclosure_referenced_by_no_digest(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    """A holder adding a claim the issuer never signed (e.g. ``over 18: true``)."""
    compact = issue_credential(issuer, holder).compact
    jwt, _ = split(compact)
    invented = raw(["salt", "is_over_18", True])
    refused(verifier, sd_jwt_kb(holder, jwt, [invented]), Reason.INVALID_DISCLOSURE)


def test_a_changed_disclosure_value(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    """The holder rewrites "65": false to true: its digest no longer matches any in the JWT."""
    issued = issue_credential(issuer, holder)
    jwt, _ = split(issued.compact)
    (over_65,) = (d for d in issued.disclosures if d.name == "65")
    forged = encode_disclosure(over_65.salt, "65", True)
    refused(verifier, sd_jwt_kb(holder, jwt, [forged]), Reason.INVALID_DISCLOSURE)


def test_an_object_property_disclosure_referenced_from_an_array(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    disclosure = raw(["salt", "nationality", "ID"])
    claims = payload(holder, nationalities=[{"...": disclosure_digest(disclosure)}])
    refused(verifier, presentation(issuer, holder, claims, [disclosure]), Reason.INVALID_DISCLOSURE)


def test_an_array_element_disclosure_referenced_from_an_sd_array(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    refused_disclosure(verifier, issuer, holder, raw(["salt", "ID"]))


def test_a_disclosed_name_that_is_already_in_the_object(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    """A disclosure may not override a claim in the clear (here ``vct``)."""
    disclosure = raw(["salt", "vct", "https://evil.example/vct/admin"])
    refused_disclosure(verifier, issuer, holder, disclosure)


def test_a_claim_disclosed_twice(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    first, second = raw(["s1", "birthdate", "1990-08-17"]), raw(["s2", "birthdate", "2010-01-01"])
    claims = payload(holder, _sd=[disclosure_digest(first), disclosure_digest(second)])
    refused(
        verifier, presentation(issuer, holder, claims, [first, second]), Reason.INVALID_DISCLOSURE
    )


def test_the_same_disclosure_given_twice(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    issued = issue_credential(issuer, holder)
    jwt, _ = split(issued.compact)
    (given,) = (d.encoded for d in issued.disclosures if d.name == "given_name")
    refused(verifier, sd_jwt_kb(holder, jwt, [given, given]), Reason.INVALID_DISCLOSURE)


def test_an_empty_disclosure(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    jwt, _ = split(issue_credential(issuer, holder).compact)
    refused(verifier, sd_jwt_kb(holder, jwt, [""]), Reason.INVALID_DISCLOSURE)


@pytest.mark.parametrize(
    "claims",
    [
        {"_sd": "not-an-array"},
        {"_sd": [42]},
        {"nationalities": [{"...": 42}]},
        {"nationalities": [{"...": "digest", "also": "this"}]},
        {"...": "digest"},
    ],
    ids=["sd-string", "sd-number", "element-number", "element-companions", "dots-property"],
)
def test_a_malformed_digest_structure(
    verifier: TokenVerifier, issuer: Key, holder: Key, claims: dict[str, Any]
) -> None:
    refused(
        verifier,
        presentation(issuer, holder, payload(holder, **claims), []),
        Reason.INVALID_DISCLOSURE,
    )


@pytest.mark.parametrize("alg", ["sha-512", "SHA-256", "md5", None, 256])
def test_an_sd_alg_other_than_sha_256(
    verifier: TokenVerifier, issuer: Key, holder: Key, alg: Any
) -> None:
    claims = payload(holder)
    claims["_sd_alg"] = alg
    refused(verifier, presentation(issuer, holder, claims, []), Reason.UNSUPPORTED_ALGORITHM)


# -- the issuer-signed JWT (RFC 8725) -----------------------------------------------------


def test_alg_none_on_the_issuer_jwt(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    header = b64(json.dumps({"alg": "none", "kid": issuer.kid, "typ": "dc+sd-jwt"}).encode())
    jwt = f"{header}.{b64(json.dumps(payload(holder)).encode())}."
    refused(verifier, sd_jwt_kb(holder, jwt, []), Reason.UNSUPPORTED_ALGORITHM)


def test_hs256_on_the_issuer_jwt_with_its_public_key_as_secret(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    header = b64(json.dumps({"alg": "HS256", "kid": issuer.kid, "typ": "dc+sd-jwt"}).encode())
    signing_input = f"{header}.{b64(json.dumps(payload(holder)).encode())}"
    mac = hmac.new(issuer.jwk["x"].encode(), signing_input.encode(), hashlib.sha256).digest()
    jwt = f"{signing_input}.{b64(mac)}"
    refused(verifier, sd_jwt_kb(holder, jwt, []), Reason.UNSUPPORTED_ALGORITHM)


def test_an_issuer_jwt_signed_by_another_key(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    jwt = forge(issuer, header={"typ": "dc+sd-jwt"}, claims=payload(holder), sign_with=holder)
    refused(verifier, sd_jwt_kb(holder, jwt, []), Reason.BAD_SIGNATURE)


def test_an_altered_issuer_payload(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    jwt, disclosures = split(issue_credential(issuer, holder).compact)
    header, body, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["exp"] += 10 * 365 * 86_400
    altered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    refused(verifier, sd_jwt_kb(holder, altered, disclosures), Reason.BAD_SIGNATURE)


@pytest.mark.parametrize("header", [{"jwk": {"kty": "OKP"}}, {"x5c": ["MII"]}, {"crit": ["b"]}])
def test_forbidden_headers_on_the_issuer_jwt(
    verifier: TokenVerifier, issuer: Key, holder: Key, header: dict[str, Any]
) -> None:
    jwt = signed_by_issuer(issuer, payload(holder), **header)
    refused(verifier, sd_jwt_kb(holder, jwt, []), Reason.FORBIDDEN_HEADER)


def test_a_credential_from_another_issuer(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    claims = payload(holder, iss="https://id.evil.example")
    refused(verifier, presentation(issuer, holder, claims, []), Reason.WRONG_ISSUER)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(NOW) - 31}, Reason.EXPIRED),
        ({"nbf": int(NOW) + 31}, Reason.NOT_YET_VALID),
        ({"iat": int(NOW) + 31}, Reason.ISSUED_IN_FUTURE),
        ({"exp": None}, Reason.MISSING_CLAIM),
        ({"iat": None}, Reason.MISSING_CLAIM),
        ({"exp": "2099-01-01"}, Reason.INVALID_CLAIM),
    ],
    ids=["expired", "not-yet-valid", "issued-in-future", "no-exp", "no-iat", "exp-string"],
)
def test_a_credential_outside_its_validity(
    verifier: TokenVerifier, issuer: Key, holder: Key, claims: dict[str, Any], reason: Reason
) -> None:
    refused(verifier, presentation(issuer, holder, payload(holder, **claims), []), reason)


def test_a_validity_claim_hidden_in_a_disclosure_and_withheld(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    """RFC 9901 §9.7: if a (badly configured) issuer made ``exp`` disclosable, a holder
    could withhold it; the verifier requires it in the processed payload."""
    exp = raw(["salt", "exp", int(NOW) - 3600])
    claims = payload(holder, exp=None, _sd=[disclosure_digest(exp)])
    refused(verifier, presentation(issuer, holder, claims, []), Reason.MISSING_CLAIM)
    refused(verifier, presentation(issuer, holder, claims, [exp]), Reason.EXPIRED)


# -- typ confusion (RFC 8725 §3.11, RFC 9901 §9.11) ---------------------------------------


def test_an_access_token_presented_as_an_sd_jwt(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    token = forge(issuer, claims={**access_claims(), "cnf": {"jwk": holder_jwk(holder)}})
    refused(verifier, sd_jwt_kb(holder, token, []), Reason.WRONG_TYPE)


@pytest.mark.parametrize("typ", ["JWT", None, "vc+sd-jwt", "example+sd-jwt", "kb+jwt"])
def test_an_issuer_jwt_with_another_typ(
    verifier: TokenVerifier, issuer: Key, holder: Key, typ: str | None
) -> None:
    jwt = signed_by_issuer(issuer, payload(holder), typ=typ)
    refused(verifier, sd_jwt_kb(holder, jwt, []), Reason.WRONG_TYPE)


def test_an_sd_jwt_presented_as_an_access_token(issuer: Key, holder: Key) -> None:
    verifier = presentation_verifier(issuer)
    compact = issue_credential(issuer, holder, aud=verifier.audience, sub="s", jti="j").compact
    jwt, _ = split(compact)
    cases = [
        (jwt, Reason.WRONG_TYPE),
        (compact, Reason.WRONG_TYPE),  # the Disclosures ride in the signature segment
        (present(compact, holder, SHOWN), Reason.MALFORMED),  # the KB-JWT adds segments
    ]
    for token, reason in cases:
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_access_token(token)
        assert caught.value.reason is reason
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_id_token(token)
        assert caught.value.reason is reason


def test_a_plain_jwt_is_not_a_presentation(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    jwt, _ = split(issue_credential(issuer, holder).compact)
    refused(verifier, jwt, Reason.MALFORMED)


# -- key binding (RFC 9901 §4.3, §7.3) ----------------------------------------------------


def _credential(issuer: Key, holder: Key) -> str:
    """The SD-JWT as the holder presents it, before the KB-JWT: what ``sd_hash`` covers."""
    return present(issue_credential(issuer, holder).compact, holder, SHOWN, key_binding=False)


def test_a_missing_kb_jwt_when_key_binding_is_required(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    signed = _credential(issuer, holder)
    refused(verifier, signed, Reason.KEY_BINDING_REQUIRED)


def test_alg_none_on_the_kb_jwt(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    signed = part = _credential(issuer, holder)
    token = kb_jwt(holder, part, header={"alg": "none"})
    refused(verifier, signed + token.rsplit(".", 1)[0] + ".", Reason.BAD_KEY_BINDING)


def test_hs256_on_the_kb_jwt_with_the_holder_key_as_secret(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    signed = part = _credential(issuer, holder)
    signing_input = kb_jwt(holder, part, header={"alg": "HS256"}).rsplit(".", 1)[0]
    for secret in (holder.jwk["x"].encode(), json.dumps(holder_jwk(holder)).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        refused(verifier, f"{signed}{signing_input}.{b64(mac)}", Reason.BAD_KEY_BINDING)


def test_a_kb_jwt_signed_by_another_key(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    """A stolen credential presented by someone without the holder's key."""
    signed = part = _credential(issuer, holder)
    thief = Key.new("ES256")
    refused(verifier, signed + kb_jwt(holder, part, sign_with=thief), Reason.BAD_KEY_BINDING)


def test_a_kb_jwt_carrying_its_own_key(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    """The thief signs with a key of their own and names it in the header: keys come only
    from the credential's ``cnf``."""
    signed = part = _credential(issuer, holder)
    thief = Key.new("ES256")
    token = kb_jwt(thief, part, header={"jwk": holder_jwk(thief)})
    refused(verifier, signed + token, Reason.BAD_KEY_BINDING)


def test_a_kb_jwt_whose_alg_does_not_match_the_holder_key(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    signed = part = _credential(issuer, holder)
    token = kb_jwt(holder, part, header={"alg": "EdDSA"})
    refused(verifier, signed + token, Reason.BAD_KEY_BINDING)


@pytest.mark.parametrize("typ", ["JWT", None, "dc+sd-jwt", "at+jwt"])
def test_a_kb_jwt_with_another_typ(
    verifier: TokenVerifier, issuer: Key, holder: Key, typ: str | None
) -> None:
    signed = part = _credential(issuer, holder)
    refused(verifier, signed + kb_jwt(holder, part, header={"typ": typ}), Reason.BAD_KEY_BINDING)


def test_the_issuer_jwt_in_place_of_the_kb_jwt(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    signed = _credential(issuer, holder)
    refused(verifier, signed + signed.split("~", 1)[0], Reason.BAD_KEY_BINDING)


@pytest.mark.parametrize(
    ("iat", "name"),
    [(int(NOW) - 331, "stale"), (int(NOW) + 31, "future"), ("now", "string"), (None, "absent")],
)
def test_a_kb_jwt_outside_its_freshness_window(
    verifier: TokenVerifier, issuer: Key, holder: Key, iat: Any, name: str
) -> None:
    signed = part = _credential(issuer, holder)
    token = _without(holder, part, "iat") if iat is None else kb_jwt(holder, part, iat=iat)
    refused(verifier, signed + token, Reason.BAD_KEY_BINDING)


def _without(holder: Key, part: str, claim: str) -> str:
    """A KB-JWT lacking one claim."""
    header = b64(json.dumps({"alg": holder.alg, "typ": "kb+jwt"}).encode())
    claims = {"iat": int(NOW), "aud": AUDIENCE, "nonce": NONCE, "sd_hash": sd_hash(part)}
    claims.pop(claim)
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(holder.sign(signing_input.encode()))}"


@pytest.mark.parametrize("claim", ["aud", "nonce", "sd_hash"])
def test_a_kb_jwt_lacking_a_required_claim(
    verifier: TokenVerifier, issuer: Key, holder: Key, claim: str
) -> None:
    signed = part = _credential(issuer, holder)
    refused(verifier, signed + _without(holder, part, claim), Reason.BAD_KEY_BINDING)


@pytest.mark.parametrize(
    "aud", ["https://other-verifier.example", [AUDIENCE], [AUDIENCE, "x"], AUDIENCE + "/"]
)
def test_a_kb_jwt_for_another_audience(
    verifier: TokenVerifier, issuer: Key, holder: Key, aud: Any
) -> None:
    """A presentation made for one verifier replayed to another."""
    signed = part = _credential(issuer, holder)
    refused(verifier, signed + kb_jwt(holder, part, aud=aud), Reason.BAD_KEY_BINDING)


@pytest.mark.parametrize("nonce", ["an-old-nonce", NONCE + "x", NONCE[:-1], 12345])
def test_a_kb_jwt_with_another_nonce(
    verifier: TokenVerifier, issuer: Key, holder: Key, nonce: Any
) -> None:
    signed = part = _credential(issuer, holder)
    refused(verifier, signed + kb_jwt(holder, part, nonce=nonce), Reason.BAD_KEY_BINDING)


def test_a_kb_jwt_with_a_wrong_sd_hash(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    """The KB-JWT was made for one set of Disclosures; the presentation carries another
    (a Disclosure added or removed on the way), or sd_hash is simply wrong."""
    compact = issue_credential(issuer, holder).compact
    jwt, disclosures = split(compact)
    fewer, more = sd_jwt(jwt, disclosures[:2]), sd_jwt(jwt, disclosures[:3])
    refused(verifier, more + kb_jwt(holder, fewer), Reason.BAD_KEY_BINDING)
    refused(verifier, fewer + kb_jwt(holder, more), Reason.BAD_KEY_BINDING)
    wrong = b64(hashlib.sha256(b"something else").digest())
    refused(verifier, fewer + kb_jwt(holder, fewer, hash_=wrong), Reason.BAD_KEY_BINDING)
    refused(verifier, fewer + kb_jwt(holder, fewer, hash_=42), Reason.BAD_KEY_BINDING)


def test_an_expired_kb_jwt(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    signed = part = _credential(issuer, holder)
    token = kb_jwt(holder, part, extra={"exp": int(NOW) - 31})
    refused(verifier, signed + token, Reason.BAD_KEY_BINDING)


@pytest.mark.parametrize(
    "cnf",
    [None, {}, {"kid": "some-key"}, {"jwk": "not-an-object"}],
    ids=["absent", "empty", "kid-only", "jwk-string"],
)
def test_a_credential_without_a_usable_cnf(
    verifier: TokenVerifier, issuer: Key, holder: Key, cnf: Any
) -> None:
    claims = payload(holder, cnf=cnf)
    refused(verifier, presentation(issuer, holder, claims, []), Reason.BAD_KEY_BINDING)


def test_a_cnf_holding_a_private_key(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    assert isinstance(holder.private, ec.EllipticCurvePrivateKey)
    d = holder.private.private_numbers().private_value.to_bytes(32, "big")
    claims = payload(holder, cnf={"jwk": {**holder_jwk(holder), "d": b64(d)}})
    refused(verifier, presentation(issuer, holder, claims, []), Reason.BAD_KEY_BINDING)


def test_a_cnf_holding_a_symmetric_key(verifier: TokenVerifier, issuer: Key, holder: Key) -> None:
    secret = b"a shared secret of 32 bytes!!!!!"
    claims = payload(holder, cnf={"jwk": {"kty": "oct", "k": b64(secret)}})
    signed = sd_jwt(signed_by_issuer(issuer, claims), [])
    header = b64(json.dumps({"alg": "HS256", "typ": "kb+jwt"}).encode())
    body = b64(
        json.dumps(
            {"iat": int(NOW), "aud": AUDIENCE, "nonce": NONCE, "sd_hash": sd_hash(signed)}
        ).encode()
    )
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    refused(verifier, f"{signed}{header}.{body}.{b64(mac)}", Reason.BAD_KEY_BINDING)
    claims = payload(holder, cnf={"jwk": {"kty": "oct"}})
    refused(verifier, presentation(issuer, holder, claims, []), Reason.BAD_KEY_BINDING)


# -- size, form, nesting -----------------------------------------------------------------


def test_an_oversize_presentation_is_refused_before_parsing(verifier: TokenVerifier) -> None:
    refused(verifier, "~" * (verifier.max_presentation_bytes + 1), Reason.TOO_LARGE)
    refused(verifier, "x" * (64 * 1024), Reason.TOO_LARGE)


def test_a_presentation_that_is_not_ascii(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    signed = part = _credential(issuer, holder)
    refused(verifier, signed + kb_jwt(holder, part) + "é", Reason.MALFORMED)


def test_deeply_nested_json_in_headers_is_refused_not_crashing(
    verifier: TokenVerifier, issuer: Key, holder: Key
) -> None:
    deep = b64(b'{"alg": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    refused(verifier, f"{deep}.e30.AA~", Reason.MALFORMED)
    signed = _credential(issuer, holder)
    refused(verifier, f"{signed}{deep}.e30.AA", Reason.BAD_KEY_BINDING)


# -- status (draft-ietf-oauth-status-list §7) ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"), [(1, Reason.REVOKED), (2, Reason.SUSPENDED), (3, Reason.REVOKED)]
)
def test_a_revoked_or_suspended_credential(
    issuer: Key, holder: Key, value: int, reason: Reason
) -> None:
    statuses = FakeStatusLists.credential_at(value)
    verifier = presentation_verifier(issuer, statuses=statuses)
    refused(verifier, present(issue_credential(issuer, holder).compact, holder, SHOWN), reason)
