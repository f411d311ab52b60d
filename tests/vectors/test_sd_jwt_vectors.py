"""SD-JWT vectors: the public disclosure digests (data/credentials.json, RFC 9901
§4.2) and RFC 9901's own examples (data/rfc9901_examples.json: §5.1 issuance,
§5.2 presentation with Key Binding, Appendix A.3 SD-JWT VC with Key Binding), verified with
the Appendix A.5 keys, with mutated negatives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from identity.credentials.sd_jwt import disclosure_digest, encode_disclosure, new_salt
from identity.keys.base64url import b64url_encode
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.keys import verification_key
from identity.relying_party.sd_jwt import SD_JWT_VC_TYPES, Profile, decode_disclosure, digest
from tests.sd_jwt_helpers import decode
from tests.vectors import DATA_DIR, load_vectors

SHARED = load_vectors("credentials.json")["sd_jwt_disclosure_digests_sha256"]
RFC = json.loads((DATA_DIR / "rfc9901_examples.json").read_text(encoding="utf-8"))
ISSUER_KEY = verification_key(RFC["issuer_public_jwk"])


# -- data/credentials.json: digests over the encoded Disclosure ------------------------------


@pytest.mark.parametrize("case", SHARED, ids=lambda c: c["digest"][:8])
def test_the_digest_of_each_shared_disclosure(case: dict[str, Any]) -> None:
    assert disclosure_digest(case["disclosure"]) == case["digest"]  # the issuer
    assert digest(case["disclosure"]) == case["digest"]  # the SDK


@pytest.mark.parametrize("case", SHARED, ids=lambda c: c["digest"][:8])
def test_each_shared_disclosure_decodes_to_its_contents(case: dict[str, Any]) -> None:
    assert decode_disclosure(case["disclosure"]) == case["decoded"]


@pytest.mark.parametrize("case", SHARED, ids=lambda c: c["digest"][:8])
def test_our_encoding_of_the_shared_contents_is_the_vector(case: dict[str, Any]) -> None:
    salt, *rest = case["decoded"]
    name, value = (None, rest[0]) if len(rest) == 1 else rest
    assert encode_disclosure(salt, name, value) == case["disclosure"]


@pytest.mark.parametrize("case", SHARED, ids=lambda c: c["digest"][:8])
def test_a_fresh_disclosure_of_the_same_claim_decodes_back(case: dict[str, Any]) -> None:
    _, *rest = case["decoded"]
    name, value = (None, rest[0]) if len(rest) == 1 else rest
    salt = new_salt()
    encoded = encode_disclosure(salt, name, value)
    assert decode_disclosure(encoded) == [salt, *rest]
    assert disclosure_digest(encoded) != case["digest"]  # another salt, another digest


def test_the_digest_is_over_the_encoded_string_not_the_json() -> None:
    """A re-encoding of the same JSON (here without the spaces) is another Disclosure, with
    another digest: verifiers hash what they received, never re-encoded JSON."""
    case = SHARED[0]
    reencoded = json.dumps(case["decoded"], separators=(",", ":"), ensure_ascii=False)
    other = b64url_encode(reencoded.encode())
    assert decode_disclosure(other) == case["decoded"]
    assert other != case["disclosure"]
    assert disclosure_digest(other) != case["digest"]


# -- RFC 9901 §5.1: the Issuer's Disclosures ---------------------------------------------

SECTION_5_1 = RFC["section_5_1"]


@pytest.mark.parametrize("case", SECTION_5_1["disclosures"], ids=lambda c: c["sha256"][:8])
def test_rfc9901_section_5_1_disclosures(case: dict[str, Any]) -> None:
    assert disclosure_digest(case["disclosure"]) == case["sha256"]
    assert decode_disclosure(case["disclosure"]) == case["contents"]
    salt, *rest = case["contents"]
    name, value = (None, rest[0]) if len(rest) == 1 else rest
    assert encode_disclosure(salt, name, value) == case["disclosure"]


def _verifier(example: dict[str, Any], now: float) -> TokenVerifier:
    return TokenVerifier(
        issuer=example["issuer"], audience="unused", jwks={"keys": []}, clock=lambda: now
    )


def _verify(example: dict[str, Any], presentation: str, now: float, **options: Any) -> Any:
    """Our verifier, with the example's ``typ`` and its kid-less key (see ``Profile``)."""
    profile = Profile(
        frozenset({example["typ"]}), require_vct="vct" in example, issuer_key=ISSUER_KEY
    )
    arguments: dict[str, Any] = {
        "audience": example.get("audience", "https://verifier.example.org"),
        "nonce": example.get("nonce"),
        "require_key_binding": True,
        "max_kb_age": 300.0,
        "check_status": True,
        "vct": example.get("vct"),
        **options,
    }
    return _verifier(example, now)._verify_presentation(presentation, profile=profile, **arguments)


def test_rfc9901_section_5_1_sd_jwt_with_every_disclosure() -> None:
    claims = _verify(SECTION_5_1, SECTION_5_1["sd_jwt"], 1_700_000_000, require_key_binding=False)
    assert claims == {
        "iss": "https://issuer.example.com",
        "iat": 1683000000,
        "exp": 1883000000,
        "sub": "user_42",
        "given_name": "John",
        "family_name": "Doe",
        "email": "johndoe@example.com",
        "phone_number": "+1-202-555-0101",
        "phone_number_verified": True,
        "address": {
            "street_address": "123 Main St",
            "locality": "Anytown",
            "region": "Anystate",
            "country": "US",
        },
        "birthdate": "1940-01-01",
        "updated_at": 1570000000,
        "nationalities": ["US", "DE"],
        "cnf": {"jwk": RFC["holder_public_jwk"]},
    }


# -- RFC 9901 §5.2 and Appendix A.3: presentations with Key Binding ----------------------

SECTION_5_2 = RFC["section_5_2"]
APPENDIX_A_3 = RFC["appendix_a_3"]
KB_IAT_5_2 = SECTION_5_2["kb_jwt_payload"]["iat"]


def test_rfc9901_section_5_2_presentation_is_accepted() -> None:
    claims = _verify(SECTION_5_2, SECTION_5_2["presentation"], KB_IAT_5_2 + 60)
    assert claims == SECTION_5_2["processed_payload"]


def test_rfc9901_section_5_2_key_binding_jwt_is_the_one_printed() -> None:
    kb_jwt = SECTION_5_2["presentation"].rsplit("~", 1)[1]
    payload = kb_jwt.split(".")[1]
    assert decode(payload) == SECTION_5_2["kb_jwt_payload"]  # same base64url decoding
    signed_part = SECTION_5_2["presentation"].rsplit("~", 1)[0] + "~"
    assert digest(signed_part) == SECTION_5_2["kb_jwt_payload"]["sd_hash"]


def test_rfc9901_appendix_a_3_sd_jwt_vc_presentation_is_accepted() -> None:
    claims = _verify(APPENDIX_A_3, APPENDIX_A_3["presentation"], APPENDIX_A_3["kb_iat"] + 5)
    assert claims == APPENDIX_A_3["processed_payload"]


def _refused(reason: Reason, example: dict[str, Any], presentation: str, **kw: Any) -> None:
    now = kw.pop("now", KB_IAT_5_2 + 60)
    with pytest.raises(InvalidToken) as caught:
        _verify(example, presentation, now, **kw)
    assert caught.value.reason is reason, caught.value


def test_rfc9901_presentation_for_another_nonce_or_verifier_is_refused() -> None:
    presentation = SECTION_5_2["presentation"]
    _refused(Reason.BAD_KEY_BINDING, SECTION_5_2, presentation, nonce="0987654321")
    _refused(Reason.BAD_KEY_BINDING, SECTION_5_2, presentation, audience="https://evil.example")


def test_rfc9901_presentation_replayed_a_day_later_is_refused() -> None:
    _refused(
        Reason.BAD_KEY_BINDING, SECTION_5_2, SECTION_5_2["presentation"], now=KB_IAT_5_2 + 86_400
    )


def test_rfc9901_presentation_with_a_disclosure_removed_or_repeated_is_refused() -> None:
    jwt, *disclosures, kb_jwt = SECTION_5_2["presentation"].split("~")
    fewer = "~".join([jwt, *disclosures[1:], kb_jwt])
    _refused(Reason.BAD_KEY_BINDING, SECTION_5_2, fewer)  # sd_hash no longer matches
    repeated = "~".join([jwt, *disclosures, disclosures[0], kb_jwt])
    _refused(Reason.INVALID_DISCLOSURE, SECTION_5_2, repeated)


def test_rfc9901_presentation_with_a_changed_signature_is_refused() -> None:
    jwt, rest = SECTION_5_2["presentation"].split("~", 1)
    header, payload, signature = jwt.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    _refused(Reason.BAD_SIGNATURE, SECTION_5_2, f"{header}.{payload}.{flipped}~{rest}")


def test_rfc9901_example_typ_is_not_an_sd_jwt_vc() -> None:
    """With the example key but the SD-JWT VC ``typ`` allow-list, §5.2's
    ``example+sd-jwt`` is refused (RFC 9901 §9.11, explicit typing)."""
    profile = Profile(SD_JWT_VC_TYPES, require_vct=False, issuer_key=ISSUER_KEY)
    with pytest.raises(InvalidToken) as caught:
        _verifier(SECTION_5_2, KB_IAT_5_2 + 60)._verify_presentation(
            SECTION_5_2["presentation"],
            audience=SECTION_5_2["audience"],
            nonce="1234567890",
            require_key_binding=True,
            max_kb_age=300.0,
            check_status=True,
            vct=None,
            profile=profile,
        )
    assert caught.value.reason is Reason.WRONG_TYPE


def test_rfc9901_appendix_a_3_without_kid_is_refused_by_the_public_path() -> None:
    """Jati's verifier takes keys only from the issuer's JWKS, by ``kid`` (RFC 8725 §3.10);
    the RFC examples name none, which is why their tests pass the example key in."""
    verifier = TokenVerifier(
        issuer=APPENDIX_A_3["issuer"],
        audience="unused",
        jwks={"keys": [{**RFC["issuer_public_jwk"], "kid": "a5"}]},
        clock=lambda: APPENDIX_A_3["kb_iat"] + 5,
    )
    with pytest.raises(InvalidToken) as caught:
        verifier.verify_presentation(
            APPENDIX_A_3["presentation"], audience=APPENDIX_A_3["audience"], nonce="1234567890"
        )
    assert caught.value.reason is Reason.MALFORMED
