"""Token issuance: RFC 9068 access tokens, OIDC ID tokens, pairwise subjects, claim limits.

Tokens are checked with PyJWT as an independent verifier as well as with our SDK."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.keys.signing_keys import PrivateKey, SigningKeyInfo
from identity.oidc.pairwise import PairwiseSubjects
from identity.oidc.tokens import (
    ACR_PASSWORD,
    ActiveSigner,
    JwsSigner,
    NoSigningKey,
    TokenIssuer,
    WrongKey,
    _ed25519_signer,
)
from identity.relying_party import InvalidToken, Reason
from tests.token_helpers import (
    CLIENT_ID,
    ISSUER,
    NOW,
    SECTOR,
    Key,
    id_token_of,
    issuer_for,
    verifier_for,
)


def _header(token: str) -> dict[str, object]:
    return jwt.get_unverified_header(token)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_access_token_has_every_rfc9068_claim_and_verifies_with_pyjwt(alg: str) -> None:
    key = Key.new(alg)
    issued = issuer_for(key).access_token(
        client_id=CLIENT_ID,
        scope=["openid", "profile"],
        subject_id="citizen-1",
        sector_identifier=SECTOR,
        auth_time=int(NOW) - 5,
        acr=ACR_PASSWORD,
    )
    assert _header(issued.token) == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    claims = jwt.decode(
        issued.token,
        key=jwt.PyJWK(key.jwk).key,
        algorithms=[alg],
        audience=CLIENT_ID,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": ISSUER,
        "sub": claims["sub"],
        "aud": CLIENT_ID,
        "exp": int(NOW) + 600,
        "iat": int(NOW),
        "jti": issued.jti,
        "client_id": CLIENT_ID,
        "scope": "openid profile",
        "auth_time": int(NOW) - 5,
        "acr": ACR_PASSWORD,
    }
    assert verifier_for(key).verify_access_token(issued.token) == claims
    assert issued.expires_at == claims["exp"]


def test_jti_is_unique() -> None:
    issuer = issuer_for(Key.new("EdDSA"))
    jtis = {issuer.access_token(client_id=CLIENT_ID, scope=["audit:read"]).jti for _ in range(200)}
    assert len(jtis) == 200


def test_client_credentials_token_has_the_client_as_subject() -> None:
    key = Key.new("EdDSA")
    token = issuer_for(key).access_token(client_id=CLIENT_ID, scope=["audit:read"]).token
    claims = verifier_for(key).verify_access_token(token)
    assert claims["sub"] == CLIENT_ID and claims["scope"] == "audit:read"


def test_pairwise_subjects_differ_between_sectors_and_never_show_the_internal_id() -> None:
    pairwise = PairwiseSubjects(bytes(range(32)))
    a = pairwise.subject("dukcapil.jakarta.go.id", "citizen-1")
    b = pairwise.subject("bpjs.example.go.id", "citizen-1")
    assert a != b
    assert a == pairwise.subject("dukcapil.jakarta.go.id", "citizen-1")  # stable per sector
    assert pairwise.subject("dukcapil.jakarta.go.id", "citizen-2") != a
    assert "citizen" not in a and len(a) == 43
    other_deployment = PairwiseSubjects(bytes(range(1, 33)))
    assert other_deployment.subject("dukcapil.jakarta.go.id", "citizen-1") != a
    assert "<key hidden>" in repr(pairwise)


def test_two_apps_in_different_sectors_get_different_subs_for_one_citizen() -> None:
    key = Key.new("EdDSA")
    issuer = issuer_for(key)
    first = issuer.access_token(
        client_id="app-a", scope=["openid"], subject_id="c-1", sector_identifier="a.go.id"
    )
    second = issuer.access_token(
        client_id="app-b", scope=["openid"], subject_id="c-1", sector_identifier="b.go.id"
    )
    subs = {
        jwt.decode(t.token, options={"verify_signature": False})["sub"] for t in (first, second)
    }
    assert len(subs) == 2


def test_citizen_token_without_a_sector_is_refused() -> None:
    with pytest.raises(ValueError, match="sector"):
        issuer_for(Key.new("EdDSA")).access_token(
            client_id=CLIENT_ID, scope=["openid"], subject_id="c-1"
        )


def test_id_token_carries_oidc_claims_and_only_allowed_citizen_claims() -> None:
    key = Key.new("ES256")
    issued = id_token_of(
        issuer_for(key),
        auth_time=int(NOW) - 30,
        nonce="n-0S6_WzA2Mj",
        claims={"name": "Siti Rahayu", "email": "siti@example.go.id", "birthdate": "1990-01-01"},
        allowed_claims={"name"},
    )
    assert _header(issued.token)["typ"] == "JWT"
    claims = verifier_for(key).verify_id_token(issued.token, nonce="n-0S6_WzA2Mj", max_age=60)
    assert claims["auth_time"] == int(NOW) - 30
    assert claims["acr"] == ACR_PASSWORD and claims["amr"] == ["pwd"]
    assert claims["azp"] == CLIENT_ID and claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["name"] == "Siti Rahayu"
    assert "email" not in claims and "birthdate" not in claims


def test_issuer_claims_cannot_be_overridden_by_citizen_claims() -> None:
    issuer = issuer_for(Key.new("EdDSA"))
    with pytest.raises(ValueError, match="set by the issuer"):
        id_token_of(issuer, claims={"sub": "chosen"}, allowed_claims={"sub"})
    with pytest.raises(ValueError, match="set by the issuer"):
        issuer.access_token(client_id=CLIENT_ID, scope=[], extra={"aud": "elsewhere"})


def test_lifetimes_are_configurable() -> None:
    key = Key.new("EdDSA")
    issuer = TokenIssuer(
        issuer=ISSUER,
        signer=ActiveSigner(lambda _alg: (key.info(), key.private), "EdDSA"),
        pairwise=PairwiseSubjects(bytes(32)),
        access_token_lifetime=120,
        id_token_lifetime=300,
        clock=lambda: NOW,
    )
    access = issuer.access_token(client_id=CLIENT_ID, scope=["audit:read"])
    assert access.expires_at - access.issued_at == 120
    id_token = id_token_of(issuer, subject_id="c")
    assert id_token.expires_at - id_token.issued_at == 300


def test_ed25519_algorithm_name_of_rfc9864_is_a_setting_and_verifies() -> None:
    key = Key.new("Ed25519")
    issuer = TokenIssuer(
        issuer=ISSUER,
        signer=ActiveSigner(lambda _alg: (key.info(), key.private), "Ed25519"),
        pairwise=PairwiseSubjects(bytes(32)),
        clock=lambda: NOW,
    )
    token = issuer.access_token(client_id=CLIENT_ID, scope=["audit:read"]).token
    assert _header(token)["alg"] == "Ed25519" == key.jwk["alg"]
    assert verifier_for(key).verify_access_token(token)["sub"] == CLIENT_ID


@pytest.mark.parametrize(("published", "signing"), [("EdDSA", "Ed25519"), ("Ed25519", "EdDSA")])
def test_a_key_never_signs_under_a_name_other_than_the_one_it_is_published_with(
    published: str, signing: str
) -> None:
    """Issue 17 defect 5: an EdDSA key signed ``alg: Ed25519`` tokens while the JWK Set said
    ``EdDSA``, and strict clients (openid-client, jose) found no key for them."""
    key = Key.new(published)
    signer = ActiveSigner(lambda _alg: (key.info(), key.private), signing)
    with pytest.raises(WrongKey, match=f"published for {published}, not {signing}"):
        signer.current()


def _issuer_with(*keys: Key) -> TokenIssuer:
    """An issuer with one active key per algorithm; the service's algorithm is the first
    key's."""
    by_alg = {key.alg: key for key in keys}

    def active(alg: str) -> tuple[SigningKeyInfo, PrivateKey] | None:
        key = by_alg.get(alg)
        return (key.info(), key.private) if key is not None else None

    return TokenIssuer(
        issuer=ISSUER,
        signer=ActiveSigner(active, keys[0].alg),
        pairwise=PairwiseSubjects(bytes(32)),
        clock=lambda: NOW,
    )


def test_an_id_token_follows_the_apps_algorithm_and_the_access_token_the_services() -> None:
    ed, rs = Key.new("EdDSA"), Key.new("RS256")
    issuer = _issuer_with(ed, rs)
    id_token = id_token_of(issuer, alg="RS256").token
    assert _header(id_token) == {"alg": "RS256", "kid": rs.kid, "typ": "JWT"}
    claims = jwt.decode(
        id_token,
        key=jwt.PyJWK(rs.jwk).key,
        algorithms=["RS256"],  # what an RS256-only library allows
        audience=CLIENT_ID,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["aud"] == CLIENT_ID
    assert verifier_for(ed, rs).verify_id_token(id_token)["sub"] == claims["sub"]
    access = issuer.access_token(client_id=CLIENT_ID, scope=["openid"]).token
    assert _header(access)["alg"] == "EdDSA"  # access tokens stay on the service's algorithm
    default = id_token_of(issuer).token
    assert _header(default)["kid"] == ed.kid
    with pytest.raises(ValueError, match="unsupported"):
        id_token_of(issuer, alg="HS256")


def test_rs256_is_signed_off_the_event_loop() -> None:
    ed, rs = Key.new("EdDSA"), Key.new("RS256")
    issuer = _issuer_with(ed, rs)
    assert not issuer.signs_on_loop()  # nothing read yet
    issuer.access_token(client_id=CLIENT_ID, scope=["openid"])
    assert issuer.signs_on_loop() and issuer.signs_on_loop("EdDSA")
    assert not issuer.signs_from_memory("RS256")  # its key is not read yet
    id_token_of(issuer, alg="RS256")
    assert issuer.signs_from_memory("RS256") and not issuer.signs_on_loop("RS256")


def test_an_rsa_key_below_3072_bits_does_not_sign() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    short = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="cannot sign RS256"):
        JwsSigner("kid", "RS256", short)


def test_signer_follows_rotation_after_its_refresh_interval() -> None:
    old, new = Key.new("EdDSA"), Key.new("EdDSA")
    active = [old]
    now = [0.0]
    signer = ActiveSigner(
        lambda _alg: (active[0].info(), active[0].private),
        "EdDSA",
        refresh=10,
        clock=lambda: now[0],
    )
    assert signer.current().kid == old.kid
    active[0] = new
    now[0] = 5.0
    assert signer.current().kid == old.kid  # cached: a retired key still verifies meanwhile
    now[0] = 10.5
    assert signer.current().kid == new.kid


def test_no_active_key_is_a_clear_error() -> None:
    signer = ActiveSigner(lambda _alg: None, "ES256")
    with pytest.raises(NoSigningKey, match="no active ES256"):
        signer.current()


def test_claims_are_utf8_json_and_verify() -> None:
    key = Key.new("EdDSA")
    token = id_token_of(
        issuer_for(key),
        subject_id="c",
        claims={"name": "Ni Luh Putu Ayu Dewi Pratiwi — ĀĒĪ"},
        allowed_claims={"name"},
    ).token
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["name"].endswith("ĀĒĪ")
    body = token.split(".")[1]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert json.loads(raw)["name"] == payload["name"]
    verifier_for(key).verify_id_token(token)


def test_a_token_signed_by_one_deployment_fails_at_another() -> None:
    ours, theirs = Key.new("EdDSA"), Key.new("EdDSA")
    token = issuer_for(theirs).access_token(client_id=CLIENT_ID, scope=["openid"]).token
    with pytest.raises(InvalidToken) as caught:
        verifier_for(ours).verify_access_token(token)
    assert caught.value.reason is Reason.UNKNOWN_KEY


def test_self_subjects_open_only_their_own_values() -> None:
    from identity.oidc.pairwise import SelfSubjects

    subjects = SelfSubjects(bytes(range(32)))
    sub = subjects.subject("citizen-1")
    assert subjects.subject("citizen-1") == sub  # stable
    assert subjects.citizen_id(sub) == "citizen-1"
    assert "citizen" not in sub
    tampered = sub[:-2] + ("AA" if sub[-2:] != "AA" else "BB")
    for forged in (tampered, "", "not base64!", PairwiseSubjects(bytes(32)).subject("s", "c")):
        assert subjects.citizen_id(forged) is None
    assert SelfSubjects(bytes(range(1, 33))).citizen_id(sub) is None  # another deployment


# RFC 8032 §7.1, TEST 1 and TEST 2: (secret key, message, signature)
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
        "39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f"
        "3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(("secret", "message", "signature"), RFC8032_VECTORS)
def test_ed25519_signing_reproduces_rfc8032(secret: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert _ed25519_signer(key)(bytes.fromhex(message)).hex() == signature


def test_an_eddsa_token_is_byte_for_byte_what_cryptography_signs() -> None:
    """The issuer signs Ed25519 through libsodium; Ed25519 being deterministic, each
    signature must equal the one ``cryptography`` makes with the same key and input."""
    key = Ed25519PrivateKey.generate()
    signer = JwsSigner("kid-1", "EdDSA", key)
    for index in range(20):
        token = signer.sign({"sub": "s" * index, "n": index, "nama": "Budi Ñ"}, typ="at+jwt")
        signing_input, _, signature = token.rpartition(".")
        expected = base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b"=")
        assert signature == expected.decode()
        key.public_key().verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
            signing_input.encode(),
        )
