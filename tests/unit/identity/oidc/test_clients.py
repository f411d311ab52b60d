"""Relying apps, the core without a database: registration rules (RFC 6749 §2-3, RFC 7591,
RFC 8252, RFC 9700, OIDC Core 5.4/8.1, RFC 7523/7638, UU PDP Art. 20(2)) and client
authentication by secret."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.entry import Actor, ActorKind, LegalBasis
from identity.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidInput,
    InvalidRedirectUri,
    NotFound,
    Unauthorized,
)
from identity.keys.jwk import jwk_thumbprint
from identity.oidc.client_jwks import MAX_JWKS_BYTES, MAX_JWKS_KEYS, load_jwks, validate_jwks
from identity.oidc.client_metadata import (
    new_relying_app,
    parse_purpose,
    validate_redirect_uri,
    validate_sector_identifier,
)
from identity.oidc.client_registry import ClientRegistry, generate_client_id, generate_client_secret
from identity.oidc.clients import (
    SCOPE_CLAIMS,
    GrantType,
    Purpose,
    RelyingApp,
    TokenEndpointAuthMethod,
)
from tests.fakes import CountingPasswords, MemoryClientStore

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CB = "https://dinsos.example.go.id/callback"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ed25519_jwk(**extra: Any) -> dict[str, Any]:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), **extra}


def p256_jwk(**extra: Any) -> dict[str, Any]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
        **extra,
    }


def app(**overrides: Any) -> RelyingApp:
    values: dict[str, Any] = {
        "client_id": "c" * 32,
        "created_at": NOW,
        "name": "Dinas Sosial",
        "scope": "openid profile",
        "redirect_uris": [CB],
    }
    values.update(overrides)
    return new_relying_app(**values)


@pytest.fixture
def store() -> MemoryClientStore:
    return MemoryClientStore()


@pytest.fixture
def passwords() -> CountingPasswords:
    return CountingPasswords()


@pytest.fixture
def registry(store: MemoryClientStore, passwords: CountingPasswords) -> ClientRegistry:
    return ClientRegistry(store=store, passwords=passwords, clock=lambda: NOW)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert text and "\n" not in text
    return text


# ---------------------------------------------------------------- redirect URIs


@pytest.mark.parametrize(
    "uri",
    [
        CB,
        "https://dinsos.example.go.id:8443/cb?tenant=3",
        "https://dinsos.example.go.id",
        "http://127.0.0.1:8080/callback",
        "http://[::1]:9000/callback",
        "http://localhost:3000/callback",
        "https://10.0.0.5/cb",
    ],
)
def test_accepted_redirect_uris_are_kept_exactly(uri: str) -> None:
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "empty"),
        ("/callback", "absolute"),
        ("dinsos.example.go.id/callback", "absolute"),
        ("https:///callback", "absolute"),
        ("http://dinsos.example.go.id/callback", "http"),
        ("http://127.0.0.2/callback", "http"),
        ("http://127.0.0.1.evil.example/callback", "http"),
        ("http://localhost.evil.example/callback", "http"),
        ("ftp://dinsos.example.go.id/callback", "scheme"),
        ("javascript:alert(1)", "absolute"),
        ("com.example.app:/callback", "absolute"),
        ("https://dinsos.example.go.id/callback#top", "fragment"),
        ("https://dinsos.example.go.id/callback#", "fragment"),
        ("https://*.example.go.id/callback", "wildcard"),
        ("https://dinsos.example.go.id/*", "wildcard"),
        ("https://user:pw@dinsos.example.go.id/callback", "user information"),
        ("https://evil.example@dinsos.example.go.id/callback", "user information"),
        ("https://dinsos.example.go.id:99999/callback", "port"),
        ("https://dinsos.example.go.id:abc/callback", "port"),
        ("https://dinsos example.go.id/callback", "spaces"),
        ("https://dinsos.example.go.id/call\nback", "control"),
        ("https://dinsös.example.go.id/callback", "non-ASCII"),
        ("https://exa_mple.go.id/callback", "host"),
        ("https://-bad.example.go.id/callback", "host"),
        ("https://dinsos.example.go.id/" + "a" * 2000, "longer"),
    ],
)
def test_refused_redirect_uris_say_why_in_one_line(uri: str, reason: str) -> None:
    with pytest.raises(InvalidRedirectUri) as caught:
        validate_redirect_uri(uri)
    assert reason in one_line(caught)


def test_a_registered_redirect_uri_matches_only_exactly() -> None:
    registered = app(
        redirect_uris=[CB, "http://127.0.0.1:8080/cb"], sector_identifier="dinsos.example.go.id"
    )
    assert registered.allows_redirect_uri(CB)
    for near in (
        CB + "/",
        CB + "?x=1",
        CB.upper(),
        "https://dinsos.example.go.id:443/callback",
        "http://127.0.0.1:8081/cb",  # no RFC 8252 port relaxation: apps are confidential
    ):
        assert not registered.allows_redirect_uri(near), near


def test_duplicate_redirect_uris_are_kept_once_in_order() -> None:
    other = "https://dinsos.example.go.id/other"
    assert app(redirect_uris=[CB, other, CB]).redirect_uris == (CB, other)


def test_too_many_redirect_uris() -> None:
    with pytest.raises(InvalidRedirectUri, match="at most"):
        app(redirect_uris=[f"{CB}/{n}" for n in range(21)])


# ---------------------------------------------------------------- scopes and claims


def test_scopes_are_sorted_unique_and_give_the_oidc_claims() -> None:
    registered = app(scope="profile openid email   phone address openid")
    assert registered.scopes == ("address", "email", "openid", "phone", "profile")
    assert registered.scope == "address email openid phone profile"
    assert {"name", "birthdate", "email", "email_verified", "phone_number", "address"} <= set(
        registered.allowed_claims
    )
    assert "nik" not in registered.allowed_claims
    assert app(scope="openid").allowed_claims == ()


def test_scope_claims_follow_oidc_core_5_4() -> None:
    assert SCOPE_CLAIMS["email"] == {"email", "email_verified"}
    assert SCOPE_CLAIMS["phone"] == {"phone_number", "phone_number_verified"}
    assert SCOPE_CLAIMS["address"] == {"address"}
    assert len(SCOPE_CLAIMS["profile"]) == 14 and "birthdate" in SCOPE_CLAIMS["profile"]


def test_scope_may_be_given_as_several_strings() -> None:
    assert app(scope=["openid", "email profile"]).scopes == ("email", "openid", "profile")


def test_claims_can_be_narrowed_but_not_widened() -> None:
    narrowed = app(scope="openid profile email", claims=["name, email", "birthdate"])
    assert narrowed.allowed_claims == ("birthdate", "email", "name")
    with pytest.raises(InvalidClientMetadata, match="'phone_number' is not requested") as caught:
        app(scope="openid profile", claims="name phone_number")
    one_line(caught)
    with pytest.raises(InvalidClientMetadata, match="names no claim"):
        app(claims=" , ")


@pytest.mark.parametrize(
    ("scope", "grant", "reason"),
    [
        ("", GrantType.AUTHORIZATION_CODE, "at least one scope"),
        ("openid offline_access", GrantType.AUTHORIZATION_CODE, "unknown scope"),
        ("openid OPENID", GrantType.AUTHORIZATION_CODE, "unknown scope"),
        ("profile email", GrantType.AUTHORIZATION_CODE, "openid"),
        ("openid audit:read", GrantType.AUTHORIZATION_CODE, "only for auditor apps"),
        ("openid", GrantType.CLIENT_CREDENTIALS, "only scope is audit:read"),
        ("audit:read profile", GrantType.CLIENT_CREDENTIALS, "only scope is audit:read"),
    ],
)
def test_refused_scopes(scope: str, grant: GrantType, reason: str) -> None:
    uris = [CB] if grant is GrantType.AUTHORIZATION_CODE else []
    with pytest.raises(InvalidClientMetadata) as caught:
        app(scope=scope, grant_type=grant, redirect_uris=uris)
    assert reason in one_line(caught)


def test_unknown_grant_type_is_refused() -> None:
    with pytest.raises(InvalidClientMetadata, match="grant type 'implicit'"):
        app(grant_type="implicit")


def test_the_me_scope_is_for_code_flow_apps() -> None:
    assert app(scope="openid me").scopes == ("me", "openid")


# ---------------------------------------------------------------- purposes, legal bases, nik


@pytest.mark.parametrize("basis", list(LegalBasis))
def test_every_art_20_2_basis_is_accepted_by_letter_and_by_name(basis: LegalBasis) -> None:
    assert parse_purpose(f"social-aid:{basis.value}") == Purpose("social-aid", basis)
    assert parse_purpose(f"social-aid:{basis.name.lower()}").legal_basis is basis
    assert parse_purpose(f"social-aid:{basis.name.lower().replace('_', '-')}").legal_basis is basis


def test_a_purpose_code_may_contain_colons_the_basis_is_after_the_last() -> None:
    purpose = parse_purpose("dukcapil:verify:c")
    assert purpose == Purpose("dukcapil:verify", LegalBasis.LEGAL_OBLIGATION)
    assert str(purpose) == "dukcapil:verify:c"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("social-aid", "CODE:BASIS"),
        (":a", "CODE:BASIS"),
        ("social-aid:", "legal basis"),
        ("social-aid:g", "legal basis"),
        ("social-aid:public interest", "legal basis"),
        ("Social-Aid:a", "purpose code"),
        ("-aid:a", "purpose code"),
        ("social aid:a", "purpose code"),
        ("x" * 65 + ":a", "purpose code"),
    ],
)
def test_refused_purposes(text: str, reason: str) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        parse_purpose(text)
    assert reason in one_line(caught)


def test_the_refusal_of_a_basis_lists_the_six_bases() -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        parse_purpose("tax:z")
    message = one_line(caught)
    assert "Art. 20(2)" in message
    for basis in LegalBasis:
        assert f"{basis.value} ({basis.name.lower()})" in message


def test_purposes_are_stored_sorted_and_a_duplicate_is_refused() -> None:
    registered = app(purposes=["tax:c", Purpose("social-aid", LegalBasis.PUBLIC_TASK)])
    assert [str(p) for p in registered.purposes] == ["social-aid:e", "tax:c"]
    assert registered.purpose("tax") == Purpose("tax", LegalBasis.LEGAL_OBLIGATION)
    assert registered.purpose("other") is None
    with pytest.raises(InvalidClientMetadata, match="listed twice"):
        app(purposes=["tax:c", "tax:a"])


def test_the_nik_scope_needs_a_purpose_with_its_legal_basis() -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        app(scope="openid nik")
    assert "--purpose" in one_line(caught) and "Art. 20(2)" in str(caught.value)
    registered = app(scope="openid nik", purposes=["social-aid:e"])
    assert registered.allowed_claims == ("nik",)


# ---------------------------------------------------------------- sector identifier


def test_the_sector_defaults_to_the_one_host_of_the_redirect_uris() -> None:
    registered = app(redirect_uris=[CB, "https://DINSOS.example.go.id/other"])
    assert registered.sector_identifier == "dinsos.example.go.id"
    assert app(redirect_uris=["http://[::1]:9000/cb"]).sector_identifier == "::1"


def test_redirect_uris_on_several_hosts_need_a_sector() -> None:
    uris = [CB, "https://bansos.example.go.id/callback"]
    with pytest.raises(InvalidClientMetadata) as caught:
        app(redirect_uris=uris)
    assert "--sector" in one_line(caught) and "8.1" in str(caught.value)
    assert app(redirect_uris=uris, sector_identifier="Kemensos.go.id").sector_identifier == (
        "kemensos.go.id"
    )


def test_a_sector_may_be_given_as_an_https_url() -> None:
    assert validate_sector_identifier("https://kemensos.go.id/sector.json") == "kemensos.go.id"


@pytest.mark.parametrize("sector", ["", "http://kemensos.go.id/s.json", "kemen sos", "-x.go.id"])
def test_refused_sectors(sector: str) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        validate_sector_identifier(sector)
    one_line(caught)


# ---------------------------------------------------------------- auditor apps


def test_an_auditor_app_uses_client_credentials_with_audit_read_only() -> None:
    auditor = app(grant_type="client_credentials", scope="audit:read", redirect_uris=[])
    assert auditor.grant_types == (GrantType.CLIENT_CREDENTIALS,)
    assert auditor.response_types == ()
    assert auditor.sector_identifier is None
    assert auditor.allowed_claims == ()
    assert "subject_type" not in auditor.metadata()


def test_an_auditor_app_has_no_redirect_uri_and_no_sector() -> None:
    with pytest.raises(InvalidRedirectUri, match="no redirect URIs"):
        app(grant_type="client_credentials", scope="audit:read")
    with pytest.raises(InvalidClientMetadata, match="no sector"):
        app(
            grant_type="client_credentials",
            scope="audit:read",
            redirect_uris=[],
            sector_identifier="kemensos.go.id",
        )


def test_a_code_flow_app_needs_a_redirect_uri() -> None:
    with pytest.raises(InvalidRedirectUri, match="at least one --redirect-uri"):
        app(redirect_uris=[])


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "reason"), [("  ", "empty"), ("x" * 121, "at most"), ("a\tb", "control")]
)
def test_refused_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        app(name=name)
    assert reason in one_line(caught)


def test_names_are_trimmed() -> None:
    assert app(name="  Dinas Sosial Kota  ").name == "Dinas Sosial Kota"


# ---------------------------------------------------------------- JWKS (private_key_jwt)


def test_public_keys_get_their_rfc_7638_thumbprint_as_kid() -> None:
    okp, p256 = ed25519_jwk(), p256_jwk(kid="app-key-2", alg="ES256", use="sig")
    checked = validate_jwks({"keys": [okp, p256], "other": "ignored"})
    assert checked == {"keys": [{**okp, "kid": jwk_thumbprint(okp)}, p256]}


def test_the_rfc_7638_example_thumbprint_would_be_the_kid() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of the Ed25519 example key.
    example = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    kid = validate_jwks({"keys": [example]})["keys"][0]["kid"]
    assert kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_a_jwk_with_private_members_is_refused(member: str) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        validate_jwks({"keys": [ed25519_jwk(**{member: "AAAA"})]})
    message = one_line(caught)
    assert "private key material" in message and member in message
    assert "AAAA" not in message


def test_a_private_ed25519_jwk_is_refused() -> None:
    private = Ed25519PrivateKey.generate()
    jwk = ed25519_jwk()
    jwk["x"] = _b64(private.public_key().public_bytes_raw())
    jwk["d"] = _b64(private.private_bytes_raw())
    with pytest.raises(InvalidClientMetadata, match=r"private key material \(d\)") as caught:
        validate_jwks({"keys": [jwk]})
    assert jwk["d"] not in str(caught.value)


def test_a_symmetric_key_is_refused() -> None:
    with pytest.raises(InvalidClientMetadata, match="private key material"):
        validate_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})


def _not_on_curve() -> dict[str, Any]:
    jwk = p256_jwk()
    y = bytearray(base64.urlsafe_b64decode(jwk["y"] + "="))
    y[-1] ^= 1
    jwk["y"] = _b64(bytes(y))
    return jwk


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"kty": "OKP", "crv": "Ed25519", "x": "abc"}, "JWK Set"),
        ({"keys": "none"}, "JWK Set"),
        ([], "JWK Set"),
        ({"keys": []}, "no key"),
        ({"keys": ["key"]}, "not a JSON object"),
        ({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "kty 'RSA' is not accepted"),
        ({"keys": [{"crv": "Ed25519", "x": "AAAA"}]}, "kty 'None'"),
        ({"keys": [ed25519_jwk(crv="X25519")]}, "needs crv Ed25519"),
        ({"keys": [p256_jwk(crv="P-384")]}, "needs crv P-256"),
        ({"keys": [ed25519_jwk(x="AAAA")]}, "exactly 32 bytes"),
        ({"keys": [ed25519_jwk(x=_b64(b"\x01" * 32) + "=")]}, "base64url"),
        ({"keys": [ed25519_jwk(x=_b64(b"\x01" * 32).replace("A", "+"))]}, "base64url"),
        ({"keys": [_not_on_curve()]}, "not a valid P-256 public key"),
        ({"keys": [ed25519_jwk(alg="ES256")]}, "does not fit"),
        ({"keys": [p256_jwk(alg="RS256")]}, "does not fit"),
        ({"keys": [ed25519_jwk(use="enc")]}, "use must be 'sig'"),
        ({"keys": [ed25519_jwk(key_ops=["sign"])]}, "key_ops"),
        ({"keys": [ed25519_jwk(x5u="https://evil.example/k")]}, "unsupported members (x5u)"),
        ({"keys": [ed25519_jwk(kid="")]}, "kid"),
        ({"keys": [ed25519_jwk(kid="a b")]}, "kid"),
        ({"keys": [ed25519_jwk(kid=7)]}, "kid"),
        ({"keys": [ed25519_jwk(kid="k")] * 2}, "repeats an earlier key"),
        ({"keys": [ed25519_jwk(kid="k"), p256_jwk(kid="k")]}, "used twice"),
        ({"keys": [ed25519_jwk() for _ in range(MAX_JWKS_KEYS + 1)]}, f"at most {MAX_JWKS_KEYS}"),
    ],
)
def test_refused_jwks(document: Any, reason: str) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        validate_jwks(document)
    assert reason in one_line(caught)


def test_jwks_files_are_strict_json_within_a_size_limit() -> None:
    key = ed25519_jwk()
    assert load_jwks(json.dumps({"keys": [key]}))["keys"][0]["x"] == key["x"]
    with pytest.raises(InvalidClientMetadata, match="not valid JSON"):
        load_jwks(b"{keys: []}")
    with pytest.raises(InvalidClientMetadata, match="not valid JSON"):
        load_jwks(b"\xff\xfe")
    with pytest.raises(InvalidClientMetadata, match="repeats a member"):
        load_jwks('{"keys": [{"kty": "OKP", "kty": "EC"}]}')
    with pytest.raises(InvalidClientMetadata, match="larger than"):
        load_jwks(b" " * (MAX_JWKS_BYTES + 1))


def test_an_app_with_a_jwks_uses_private_key_jwt() -> None:
    key = p256_jwk()
    registered = app(jwks={"keys": [key]})
    assert registered.token_endpoint_auth_method is TokenEndpointAuthMethod.PRIVATE_KEY_JWT
    assert registered.jwks == {"keys": [{**key, "kid": jwk_thumbprint(key)}]}
    assert registered.metadata()["jwks"] == registered.jwks


# ---------------------------------------------------------------- identifiers and secrets


def test_client_ids_are_random_opaque_url_safe_and_valid_audit_actors() -> None:
    ids = {generate_client_id() for _ in range(1000)}
    assert len(ids) == 1000
    for client_id in list(ids)[:50]:
        assert re.fullmatch(r"[a-z2-7]{32}", client_id)  # 160 bits, base32
        Actor(kind=ActorKind.RELYING_APP, id=client_id)


def test_generated_secrets_are_256_bit_and_url_safe() -> None:
    secrets_ = {generate_client_secret() for _ in range(100)}
    assert len(secrets_) == 100
    for secret in secrets_:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
        assert len(base64.urlsafe_b64decode(secret + "=")) == 32


def test_registration_generates_a_secret_and_stores_only_its_argon2id_hash(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    registration = registry.register(name="Dinsos", scope="openid", redirect_uris=[CB])
    secret = registration.client_secret
    assert secret is not None and secret not in repr(registration)
    registered, stored_hash = store.rows[registration.app.client_id]
    assert registered == registration.app and registered.created_at == NOW
    assert stored_hash is not None and stored_hash.startswith("$argon2id$")
    assert secret not in stored_hash
    assert PasswordHasher().verify(stored_hash, secret)
    document = json.dumps(registered.metadata())
    assert secret not in document and "argon2" not in document
    assert registered.token_endpoint_auth_method is TokenEndpointAuthMethod.CLIENT_SECRET_BASIC


def test_an_operator_supplied_secret_is_hashed_and_not_returned(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    supplied = "s3cret-Supplied-by-the-operator-0123456789"
    registration = registry.register(
        name="Dinsos", scope="openid", redirect_uris=[CB], client_secret=supplied
    )
    assert registration.client_secret is None
    assert registry.authenticate_secret(registration.app.client_id, supplied) == registration.app
    assert supplied not in (store.rows[registration.app.client_id][1] or "")


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("short-secret", "shorter than 32"),
        ("a" * 40, "placeholder"),
        ("abcdefgh" * 4 + " with a space", "printable ASCII"),
        ("abcdefgh" * 4 + "é", "printable ASCII"),
        ("abcdefghij" * 103, "longer than"),
    ],
)
def test_weak_operator_secrets_are_refused_and_nothing_is_stored(
    registry: ClientRegistry, store: MemoryClientStore, secret: str, reason: str
) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        registry.register(name="Dinsos", scope="openid", redirect_uris=[CB], client_secret=secret)
    assert reason in one_line(caught)
    assert secret not in str(caught.value)
    assert store.rows == {}


def test_a_jwks_app_has_no_secret(registry: ClientRegistry, store: MemoryClientStore) -> None:
    registration = registry.register(
        name="Dinsos", scope="openid", redirect_uris=[CB], jwks={"keys": [ed25519_jwk()]}
    )
    assert registration.client_secret is None
    assert store.rows[registration.app.client_id][1] is None


def test_a_jwks_and_a_secret_together_are_refused(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    with pytest.raises(InvalidClientMetadata, match="choose one"):
        registry.register(
            name="Dinsos",
            scope="openid",
            redirect_uris=[CB],
            jwks={"keys": [ed25519_jwk()]},
            client_secret="x" * 40,
        )
    assert store.rows == {}


def test_any_validation_failure_stores_nothing(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    with pytest.raises(InvalidRedirectUri):
        registry.register(name="Dinsos", scope="openid", redirect_uris=[CB, "http://evil.example"])
    with pytest.raises(InvalidClientMetadata):
        registry.register(name="Dinsos", scope="openid nik", redirect_uris=[CB])
    assert store.rows == {}


def test_get_and_list(registry: ClientRegistry) -> None:
    first = registry.register(name="A", scope="openid", redirect_uris=[CB]).app
    second = registry.register(
        name="B", scope="audit:read", grant_type=GrantType.CLIENT_CREDENTIALS
    ).app
    assert registry.get(first.client_id) == first
    assert registry.list() == [first, second]
    for unknown in ("a" * 32, "", "x" * 500, "../etc/passwd"):
        with pytest.raises(NotFound):
            registry.get(unknown)


# ---------------------------------------------------------------- authentication by secret


def test_the_right_secret_authenticates(registry: ClientRegistry) -> None:
    registration = registry.register(name="Dinsos", scope="openid", redirect_uris=[CB])
    assert registration.client_secret is not None
    found = registry.authenticate_secret(registration.app.client_id, registration.client_secret)
    assert found == registration.app


def test_every_failure_is_the_same_opaque_error_after_the_same_work(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    secret_app = registry.register(name="A", scope="openid", redirect_uris=[CB])
    jwt_app = registry.register(
        name="B", scope="openid", redirect_uris=[CB], jwks={"keys": [ed25519_jwk()]}
    ).app
    assert secret_app.client_secret is not None
    attempts = [
        (secret_app.app.client_id, secret_app.client_secret + "x"),  # wrong secret
        (secret_app.app.client_id, ""),
        (generate_client_id(), secret_app.client_secret),  # unknown client
        (jwt_app.client_id, "anything-at-all"),  # registered for private_key_jwt
        ("x" * 10_000, secret_app.client_secret),  # malformed client id
        ("", ""),
    ]
    messages = set()
    for client_id, secret in attempts:
        before = passwords.verifications
        with pytest.raises(InvalidClient) as caught:
            registry.authenticate_secret(client_id, secret)
        assert passwords.verifications == before + 1, client_id[:40]
        messages.add((str(caught.value), caught.value.code))
    assert messages == {("invalid client credentials", "invalid_client")}


def test_failures_are_logged_without_the_secret(
    registry: ClientRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    registration = registry.register(name="A", scope="openid", redirect_uris=[CB])
    wrong = "wrong-secret-0123456789-wrong-secret-0123456789"
    with (
        caplog.at_level("INFO", logger="identity.oidc.client_registry"),
        pytest.raises(InvalidClient),
    ):
        registry.authenticate_secret(registration.app.client_id, wrong)
    assert "wrong secret" in caplog.text and wrong not in caplog.text


def test_a_hash_with_old_parameters_is_replaced_on_success(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    registration = registry.register(name="A", scope="openid", redirect_uris=[CB])
    client_id, secret = registration.app.client_id, registration.client_secret
    assert secret is not None
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(secret)
    store.replace_secret_hash(client_id, old)
    registry.authenticate_secret(client_id, secret)
    new = store.rows[client_id][1]
    assert new is not None and new != old
    registry.authenticate_secret(client_id, secret)
    assert store.rows[client_id][1] == new


def test_authentication_runs_off_the_event_loop(registry: ClientRegistry) -> None:
    registration = registry.register(name="A", scope="openid", redirect_uris=[CB])
    assert registration.client_secret is not None
    found = asyncio.run(
        registry.authenticate_secret_async(
            registration.app.client_id, registration.client_secret, address="203.0.113.7"
        )
    )
    assert found == registration.app


# ---------------------------------------------------------------- errors and metadata


def test_errors_carry_rfc_codes_and_sit_in_the_identity_tree() -> None:
    assert issubclass(InvalidRedirectUri, InvalidClientMetadata)
    assert issubclass(InvalidClientMetadata, InvalidInput)
    assert issubclass(InvalidClient, Unauthorized)
    assert InvalidRedirectUri.code == "invalid_redirect_uri"  # RFC 7591 §3.2.2
    assert InvalidClientMetadata.code == "invalid_client_metadata"
    assert InvalidClient.code == "invalid_client"  # RFC 6749 §5.2


def test_metadata_uses_rfc_7591_names() -> None:
    registered = app(scope="openid email nik", purposes=["bansos:e"])
    assert registered.metadata() == {
        "client_id": "c" * 32,
        "client_name": "Dinas Sosial",
        "client_id_issued_at": int(NOW.timestamp()),
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "redirect_uris": [CB],
        "scope": "email nik openid",
        "token_endpoint_auth_method": "client_secret_basic",
        "allowed_claims": ["email", "email_verified", "nik"],
        "purposes": [{"code": "bansos", "legal_basis": "e"}],
        "subject_type": "pairwise",
        "sector_identifier": "dinsos.example.go.id",
    }


def test_relying_apps_are_hashable_values() -> None:
    key = ed25519_jwk()
    first, again = app(jwks={"keys": [key]}), app(jwks={"keys": [key]})
    assert first == again and len({first, again}) == 1
    with pytest.raises(AttributeError):
        first.name = "other"  # type: ignore[misc]


# ------------------------------------------- id_token_signed_response_alg (issue 17)


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519", "ES256", "RS256"])
def test_an_app_may_register_its_id_token_algorithm(alg: str) -> None:
    registered = app(id_token_signed_response_alg=alg)
    assert registered.id_token_signed_response_alg == alg
    assert registered.metadata()["id_token_signed_response_alg"] == alg  # OIDC Registration §2


def test_without_one_the_app_follows_the_service_and_its_metadata_says_nothing() -> None:
    registered = app()
    assert registered.id_token_signed_response_alg is None
    assert "id_token_signed_response_alg" not in registered.metadata()


@pytest.mark.parametrize("alg", ["none", "HS256", "PS256", "RS384", "rs256", "", "EdDSA "])
def test_an_id_token_algorithm_outside_the_allow_list_is_refused(alg: str) -> None:
    with pytest.raises(InvalidClientMetadata, match="id_token_signed_response_alg"):
        app(id_token_signed_response_alg=alg)


def test_an_auditor_app_registers_no_id_token_algorithm() -> None:
    with pytest.raises(InvalidClientMetadata, match="no ID token"):
        app(
            scope="audit:read",
            redirect_uris=[],
            grant_type=GrantType.CLIENT_CREDENTIALS,
            id_token_signed_response_alg="RS256",
        )


# --------------------------------------- token_endpoint_auth_method (issue 17, defect 6)


def test_the_methods_discovery_lists_in_order() -> None:
    assert [m.value for m in TokenEndpointAuthMethod] == [
        "client_secret_basic", "client_secret_post", "private_key_jwt"
    ]  # fmt: skip
    assert [m.uses_secret for m in TokenEndpointAuthMethod] == [True, True, False]


@pytest.mark.parametrize(
    ("requested", "jwks", "expected"),
    [
        (None, False, "client_secret_basic"),  # RFC 7591 §2's default
        (None, True, "private_key_jwt"),  # implied by a JWKS, as before
        ("client_secret_basic", False, "client_secret_basic"),
        ("client_secret_post", False, "client_secret_post"),
        ("private_key_jwt", True, "private_key_jwt"),
    ],
)
def test_an_app_registers_its_token_endpoint_auth_method(
    requested: str | None, jwks: bool, expected: str
) -> None:
    registered = app(
        token_endpoint_auth_method=requested, jwks={"keys": [ed25519_jwk()]} if jwks else None
    )
    assert registered.token_endpoint_auth_method.value == expected
    assert registered.metadata()["token_endpoint_auth_method"] == expected  # RFC 7591 §2


@pytest.mark.parametrize(
    ("requested", "jwks", "reason"),
    [
        ("client_secret_post", True, "contradicts token_endpoint_auth_method client_secret_post"),
        ("client_secret_basic", True, "contradicts token_endpoint_auth_method client_secret_basic"),
        ("private_key_jwt", False, "private_key_jwt needs the app's public keys"),
        ("client_secret_jwt", False, "is not one of client_secret_basic, client_secret_post"),
        ("none", False, "is not one of"),
    ],
)
def test_contradictory_or_unknown_methods_are_refused_in_one_line(
    requested: str, jwks: bool, reason: str
) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        app(token_endpoint_auth_method=requested, jwks={"keys": [ed25519_jwk()]} if jwks else None)
    assert reason in one_line(caught)


def test_a_post_app_gets_a_secret_stored_only_as_a_hash(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    post = TokenEndpointAuthMethod.CLIENT_SECRET_POST
    registration = registry.register(
        name="Dinsos", scope="openid", redirect_uris=[CB], token_endpoint_auth_method=post
    )
    secret = registration.client_secret
    assert secret is not None
    stored_hash = store.rows[registration.app.client_id][1]
    assert stored_hash is not None and PasswordHasher().verify(stored_hash, secret)
    supplied = "s3cret-Supplied-by-the-operator-0123456789"
    auditor = registry.register(
        name="BPK", scope="audit:read", grant_type="client_credentials",
        client_secret=supplied, token_endpoint_auth_method="client_secret_post",
    )  # fmt: skip
    assert auditor.client_secret is None
    found = registry.authenticate_secret(auditor.app.client_id, supplied, method=post)
    assert found == auditor.app


def test_a_secret_with_private_key_jwt_is_refused(
    registry: ClientRegistry, store: MemoryClientStore
) -> None:
    with pytest.raises(InvalidClientMetadata, match="choose one"):
        registry.register(
            name="Dinsos", scope="openid", redirect_uris=[CB],
            client_secret="s3cret-Supplied-by-the-operator-0123456789",
            token_endpoint_auth_method="private_key_jwt",
        )  # fmt: skip
    assert store.rows == {}


def test_a_secret_sent_the_way_the_app_did_not_register_fails_after_the_same_work(
    registry: ClientRegistry, passwords: CountingPasswords, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 6749 §2.3: an app uses the method it registered. The right secret by the other
    method is the same opaque failure as a wrong one, after the same read and hash."""
    basic, post = (
        TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
        TokenEndpointAuthMethod.CLIENT_SECRET_POST,
    )
    basic_app = registry.register(name="A", scope="openid", redirect_uris=[CB])
    post_app = registry.register(
        name="B", scope="openid", redirect_uris=[CB], token_endpoint_auth_method=post
    )
    assert basic_app.client_secret is not None and post_app.client_secret is not None
    for registration, wrong_method in ((basic_app, post), (post_app, basic)):
        before = passwords.verifications
        with (
            caplog.at_level("INFO", logger="identity.oidc.client_registry"),
            pytest.raises(InvalidClient, match=r"^invalid client credentials$"),
        ):
            registry.authenticate_secret(
                registration.app.client_id, registration.client_secret, method=wrong_method
            )
        assert passwords.verifications == before + 1
    assert "authenticates with client_secret_post, not client_secret_basic" in caplog.text
    assert post_app.client_secret not in caplog.text
    found = registry.authenticate_secret(
        post_app.app.client_id, post_app.client_secret, method=post
    )
    assert found == post_app.app


def test_the_secret_cache_answers_only_the_registered_method(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    """A post app's verified secret is answered from memory for the next post request (the
    refresh grant's fast path), never for a Basic one."""
    basic, post = (
        TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
        TokenEndpointAuthMethod.CLIENT_SECRET_POST,
    )
    registration = registry.register(
        name="B", scope="openid", redirect_uris=[CB], token_endpoint_auth_method=post
    )
    client_id, secret = registration.app.client_id, registration.client_secret
    assert secret is not None
    registry.authenticate_secret(client_id, secret, method=post)
    before = passwords.verifications
    assert registry.authenticate_secret(client_id, secret, method=post) == registration.app
    found = asyncio.run(
        registry.authenticate_secret_async(client_id, secret, address="203.0.113.7", method=post)
    )
    assert found == registration.app
    assert passwords.verifications == before  # from memory
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, secret, method=basic)
    assert passwords.verifications == before + 1  # the full path, and a failure
    assert registry.authenticate_secret(client_id, secret, method=post) == registration.app
    assert passwords.verifications == before + 1  # the entry survived the failure
