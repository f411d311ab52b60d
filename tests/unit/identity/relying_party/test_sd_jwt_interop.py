"""Interoperability with the reference implementation, the PyPI ``sd-jwt`` package (0.10.4,
OpenWallet Foundation; jwcrypto underneath): its ``SDJWTVerifier`` accepts what Jati issues
and a wallet presents with Key Binding, and refuses tampered presentations; our verifier
accepts what its ``SDJWTHolder`` presents from a Jati credential. Its verifier defaults the
KB-JWT to ES256, so the holder keys here are P-256.

The reference is asked only whether it refuses a tampered presentation, not which exception it
raises: that is its own business. Jati's refusals are asserted precisely (the ``Reason``). The
last tests cover checks RFC 9901 asks of a verifier that Jati makes itself (``exp``, the
KB-JWT's ``iat``, a Disclosure no digest references), whatever the reference does."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from identity.credentials.sd_jwt import encode_disclosure
from identity.relying_party import InvalidToken, Reason
from tests.sd_jwt_helpers import (
    AUDIENCE,
    NONCE,
    SHOWN,
    VCT,
    issue_credential,
    kb_jwt,
    present,
    presentation_verifier,
    sd_jwt,
    select,
    split,
)
from tests.token_helpers import ISSUER, NOW, Key, b64


@pytest.fixture(scope="module", params=["EdDSA", "ES256"])
def issuer(request: pytest.FixtureRequest) -> Key:
    return Key.new(request.param)


@pytest.fixture(scope="module")
def holder() -> Key:
    return Key.new("ES256")


def reference_verify(issuer: Key, presentation: str, *, nonce: str = NONCE) -> dict[str, Any]:
    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == ISSUER and header["kid"] == issuer.kid
        return JWK(**issuer.jwk)

    verifier = SDJWTVerifier(presentation, issuer_key, expected_aud=AUDIENCE, expected_nonce=nonce)
    payload: dict[str, Any] = verifier.get_verified_payload()
    return payload


EXPECTED = {"given_name": "Siti", "address": {"locality": "Jakarta Pusat"}}


def test_the_reference_verifier_accepts_our_presentation(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    theirs = reference_verify(issuer, present(compact, holder, SHOWN))
    ours = presentation_verifier(issuer).verify_presentation(
        present(compact, holder, SHOWN), audience=AUDIENCE, nonce=NONCE
    )
    assert theirs == ours
    for name, value in EXPECTED.items():
        assert theirs[name] == value
    assert theirs["age_equal_or_over"] == {"18": True}
    assert theirs["vct"] == VCT and theirs["iss"] == ISSUER
    assert "birthdate" not in theirs and "family_name" not in theirs


def test_the_reference_verifier_reads_every_claim_when_all_are_disclosed(
    issuer: Key, holder: Key
) -> None:
    issued = issue_credential(issuer, holder)
    jwt, disclosures = split(issued.compact)
    signed = sd_jwt(jwt, disclosures)
    theirs = reference_verify(issuer, signed + kb_jwt(holder, signed))
    assert theirs["birthdate"] == "1990-08-17"
    assert theirs["address"] == {"locality": "Jakarta Pusat", "country": "ID"}
    assert theirs["age_equal_or_over"] == {"18": True, "21": True, "65": False}
    assert theirs["nationalities"] == ["ID"]


def test_the_reference_verifier_refuses_an_altered_disclosure(issuer: Key, holder: Key) -> None:
    """A disclosure swapped on the way (the KB-JWT's sd_hash no longer matches)."""
    issued = issue_credential(issuer, holder)
    honest = present(issued.compact, holder, SHOWN)
    (given,) = (d for d in issued.disclosures if d.name == "given_name")
    forged = encode_disclosure(given.salt, "given_name", "Mallory")
    tampered = honest.replace(given.encoded, forged)
    assert tampered != honest
    with pytest.raises(Exception):  # the reference refuses it too
        reference_verify(issuer, tampered)
    with pytest.raises(InvalidToken):
        presentation_verifier(issuer).verify_presentation(tampered, audience=AUDIENCE, nonce=NONCE)


def test_the_reference_verifier_refuses_an_altered_payload(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    jwt, _ = split(compact)
    header, _, signature = jwt.split(".")
    other = issue_credential(issuer, holder, vct=ISSUER + "/vct/admin/v1").compact
    forged_body = split(other)[0].split(".")[1]
    signed = sd_jwt(f"{header}.{forged_body}.{signature}", select(compact, SHOWN))
    tampered = signed + kb_jwt(holder, signed)
    with pytest.raises(Exception):  # the reference refuses it too
        reference_verify(issuer, tampered)
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(tampered, audience=AUDIENCE, nonce=NONCE)
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_the_reference_verifier_refuses_a_wrong_nonce(issuer: Key, holder: Key) -> None:
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    with pytest.raises(Exception):  # the reference refuses it too
        reference_verify(issuer, presentation, nonce="another-nonce")
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(
            presentation, audience=AUDIENCE, nonce="another-nonce"
        )
    assert caught.value.reason is Reason.BAD_KEY_BINDING


def test_the_reference_verifier_refuses_a_wrong_sd_hash(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    jwt, disclosures = split(compact)
    signed = sd_jwt(jwt, disclosures[:3])
    for tampered in (
        signed + kb_jwt(holder, sd_jwt(jwt, disclosures[:2])),
        signed + kb_jwt(holder, signed, hash_=b64(b"\0" * 32)),
    ):
        with pytest.raises(Exception):  # the reference refuses it too
            reference_verify(issuer, tampered)
        with pytest.raises(InvalidToken) as caught:
            presentation_verifier(issuer).verify_presentation(
                tampered, audience=AUDIENCE, nonce=NONCE
            )
        assert caught.value.reason is Reason.BAD_KEY_BINDING


def _reference_holder_key(holder: Key) -> JWK:
    pem = holder.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return JWK.from_pem(pem)


def test_our_verifier_accepts_the_reference_holders_presentation(issuer: Key, holder: Key) -> None:
    now = int(time.time())  # the reference holder signs its KB-JWT at the current time
    compact = issue_credential(issuer, holder, iat=now, exp=now + 3600).compact
    wallet = SDJWTHolder(compact)
    wallet.create_presentation(
        {"given_name": True, "address": {"locality": True}, "age_equal_or_over": {"18": True}},
        nonce=NONCE,
        aud=AUDIENCE,
        holder_key=_reference_holder_key(holder),
        sign_alg="ES256",
    )
    claims = presentation_verifier(issuer, clock=time.time()).verify_presentation(
        wallet.sd_jwt_presentation, audience=AUDIENCE, nonce=NONCE, vct=VCT
    )
    assert claims["given_name"] == "Siti"
    assert claims["address"] == {"locality": "Jakarta Pusat"}
    assert claims["age_equal_or_over"] == {"18": True}
    assert "birthdate" not in claims and "family_name" not in claims


# -- checks Jati makes itself ------------------------------------------------------------


def test_our_verifier_refuses_an_expired_credential(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder, exp=int(NOW) - 3600).compact
    presentation = present(compact, holder, SHOWN)
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(
            presentation, audience=AUDIENCE, nonce=NONCE
        )
    assert caught.value.reason is Reason.EXPIRED


def test_our_verifier_refuses_a_stale_key_binding_jwt(issuer: Key, holder: Key) -> None:
    presentation = present(
        issue_credential(issuer, holder).compact, holder, SHOWN, iat=int(NOW) - 86_400
    )
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(
            presentation, audience=AUDIENCE, nonce=NONCE
        )
    assert caught.value.reason is Reason.BAD_KEY_BINDING


def test_our_verifier_refuses_an_unreferenced_disclosure(issuer: Key, holder: Key) -> None:
    """RFC 9901 §7.1 step 5: a Disclosure no digest names makes the presentation invalid."""
    compact = issue_credential(issuer, holder).compact
    jwt, _ = split(compact)
    signed = sd_jwt(jwt, [*select(compact, SHOWN), encode_disclosure("c2FsdA", "nik", "0")])
    presentation = signed + kb_jwt(holder, signed)
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(
            presentation, audience=AUDIENCE, nonce=NONCE
        )
    assert caught.value.reason is Reason.INVALID_DISCLOSURE
