"""Credential issuance end to end, on SQLite and PostgreSQL: issuer metadata, the nonce
endpoint, the credential endpoint with a holder proof (OID4VCI 1.0), what the SD-JWT VC
holds (only consented data; the NIK only with a legal basis), the audit entries, and every
refusal a wallet can meet (a 4xx that changes nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from audit.entry import Action, decode_entry
from audit.storage.tables import AuditQueue
from identity.credentials.issuer import AGE_THRESHOLDS, age_on, split_address, split_name
from identity.storage.credentials import IdentityCredential
from tests.credential_helpers import CONFIGURATION, Wallet, unpack, wallet
from tests.oidc_helpers import ISSUER, OidcWorld
from tests.personal_data import SAMPLE
from tests.token_helpers import Key


def _entries(world: OidcWorld) -> list[Any]:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry)).all()
    return [decode_entry(row) for row in rows]


def _credential_rows(world: OidcWorld) -> int:
    with world.app.state.services.database.read() as session:
        return int(session.scalar(select(func.count()).select_from(IdentityCredential)) or 0)


# -- metadata ------------------------------------------------------------------------------


def test_jwt_vc_issuer_metadata_names_the_issuer_and_its_keys(world: OidcWorld) -> None:
    response = world.client.get("/.well-known/jwt-vc-issuer")
    assert response.status_code == 200
    body = response.json()
    assert body == {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks.json"}  # never both
    assert "max-age" in response.headers["cache-control"]


def test_credential_issuer_metadata_describes_the_one_configuration(world: OidcWorld) -> None:
    body = world.client.get("/.well-known/openid-credential-issuer").json()
    assert body["credential_issuer"] == ISSUER
    assert body["credential_endpoint"] == ISSUER + "/credential"
    assert body["nonce_endpoint"] == ISSUER + "/credential/nonce"
    configuration = body["credential_configurations_supported"][CONFIGURATION]
    assert configuration["format"] == "dc+sd-jwt"
    assert configuration["scope"] == "identity_credential"
    assert configuration["vct"] == ISSUER + "/vct/identity/v1"
    assert configuration["cryptographic_binding_methods_supported"] == ["jwk"]
    assert (
        "ES256"
        in configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    )
    paths = [c["path"] for c in configuration["credential_metadata"]["claims"]]
    assert ["age_equal_or_over", "18"] in paths
    assert ["nik"] in paths
    # the scope is one the authorization server offers
    discovery = world.client.get("/.well-known/openid-configuration").json()
    assert "identity_credential" in discovery["scopes_supported"]


def test_type_metadata_marks_what_is_never_selectively_disclosable(world: OidcWorld) -> None:
    body = world.client.get("/vct/identity/v1").json()
    assert body["vct"] == ISSUER + "/vct/identity/v1"
    never = {c["path"][0] for c in body["claims"] if c["sd"] == "never"}
    assert never == {"iss", "iat", "exp", "vct", "cnf", "status"}


def test_the_nonce_endpoint_answers_fresh_unstored_nonces(world: OidcWorld) -> None:
    first = world.client.post("/credential/nonce")
    second = world.client.post("/credential/nonce")
    assert first.status_code == 200
    assert first.headers["cache-control"].startswith("no-store")
    assert first.json()["c_nonce"] != second.json()["c_nonce"]


# -- issuance --------------------------------------------------------------------------------


def test_a_wallet_gets_an_sd_jwt_vc_with_only_the_consented_data(world: OidcWorld) -> None:
    w = wallet(world)
    response = w.request()
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("no-store")
    compact = response.json()["credentials"][0]["credential"]
    vc = unpack(compact)
    assert vc.header["typ"] == "dc+sd-jwt"
    payload = vc.payload
    assert payload["iss"] == ISSUER
    assert payload["vct"] == ISSUER + "/vct/identity/v1"
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": w.public_jwk()}
    status = payload["status"]["status_list"]
    assert status["uri"].startswith(ISSUER + "/statuslists/")
    assert isinstance(status["idx"], int)
    assert payload["exp"] > payload["iat"]
    # nothing personal is visible without a disclosure
    for value in (SAMPLE["name"], SAMPLE["birthdate"], SAMPLE["nik"], SAMPLE["address"]):
        assert value not in str(payload)
    named = vc.named()
    given, family = split_name(SAMPLE["name"])
    assert named["name"] == SAMPLE["name"]
    assert named["given_name"] == given
    assert named.get("family_name") == family
    assert named["birthdate"] == SAMPLE["birthdate"]
    age = age_on(date.fromisoformat(SAMPLE["birthdate"]), datetime.now(UTC).date())
    for threshold in AGE_THRESHOLDS:
        assert named[str(threshold)] is (age >= threshold)
    assert named["formatted"] == SAMPLE["address"]
    assert named["locality"] == split_address(SAMPLE["address"])["locality"]
    assert named["nationalities"] == ["ID"]
    assert "nik" not in named  # no purpose of this app has a legal basis for the NIK
    assert "email" not in named  # not a data item of the credential


def test_the_nik_is_in_the_credential_only_under_a_purpose_with_a_legal_basis(
    world: OidcWorld,
) -> None:
    named = unpack(wallet(world, nik=True).credential()).named()
    assert named["nik"] == SAMPLE["nik"]


def test_issuance_is_audited_per_purpose_with_its_consent(world: OidcWorld) -> None:
    w = wallet(world)
    w.credential()
    issued = [e for e in _entries(world) if e.action is Action.CREDENTIAL_ISSUED]
    assert len(issued) == 1
    (entry,) = issued
    assert entry.actor.id == w.app.client_id
    assert entry.purpose == "identity-wallet"
    assert entry.consent_id in w.grant_ids
    assert "credential:sd-jwt-vc" in entry.data_items
    assert {"name", "birthdate", "address"} <= set(entry.data_items)
    reads = [
        e
        for e in _entries(world)
        if e.action is Action.READ
        and e.actor.id == w.app.client_id
        and e.purpose == "identity-wallet"
    ]
    assert reads, "the personal data was read through the audited path"


def test_the_citizen_can_list_the_credential(world: OidcWorld) -> None:
    w = wallet(world)
    w.credential()
    (credential,) = world.app.state.services.credentials.of_citizen(world.citizen_id)
    assert credential.client_id == w.app.client_id
    assert credential.state.value == "valid"
    assert "given_name" in credential.claims


def test_two_credentials_get_unrelated_random_indices(world: OidcWorld) -> None:
    w = wallet(world)
    first, second = unpack(w.credential()), unpack(w.credential())
    a = first.payload["status"]["status_list"]["idx"]
    b = second.payload["status"]["status_list"]["idx"]
    assert a != b
    assert abs(a - b) > 1  # not sequential (probability of a false failure: ~2 in 2**20)


# -- refusals: each a clear 4xx, nothing issued ---------------------------------------------


def _refused(w: Wallet, response: Any, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"] == error
    assert _credential_rows(w.world) == 0


def test_no_token_is_401(world: OidcWorld) -> None:
    w = wallet(world)
    response = world.client.post("/credential", json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _credential_rows(w.world) == 0


def test_a_token_without_the_credential_scope_is_403(world: OidcWorld) -> None:
    w = wallet(world)
    rp = world.register_app()
    world.consent(rp)
    other = world.tokens(rp)["access_token"]
    _refused(w, w.request(token=other), "", status=403)


def test_a_revoked_token_is_401(world: OidcWorld) -> None:
    w = wallet(world)
    assert world.revoke(w.app, w.access_token).status_code == 200
    _refused(w, w.request(), "", status=401)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"credential_configuration_id": "other"}, "unknown_credential_configuration"),
        ({"credential_identifier": "x"}, "invalid_credential_request"),
        ({"proofs": {"jwt": []}}, "invalid_proof"),
        ({"proofs": {"jwt": ["a", "b"]}}, "invalid_proof"),
        ({"proofs": {"ldp_vp": ["a"]}}, "invalid_proof"),
        ({"proof": {"proof_type": "jwt", "jwt": "a"}}, "invalid_credential_request"),
    ],
)
def test_malformed_requests_are_refused(world: OidcWorld, body: dict[str, Any], error: str) -> None:
    w = wallet(world)
    _refused(w, w.request(**body), error)


def test_a_body_that_is_not_json_is_refused(world: OidcWorld) -> None:
    w = wallet(world)
    response = world.client.post(
        "/credential",
        content=b"credential_configuration_id=x",
        headers={
            "Authorization": f"Bearer {w.access_token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    _refused(w, response, "invalid_credential_request")


def test_a_replayed_proof_is_refused(world: OidcWorld) -> None:
    w = wallet(world)
    proof = w.proof()
    assert w.request(proof).status_code == 200
    response = w.request(proof)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_nonce"
    assert _credential_rows(world) == 1


def test_a_nonce_not_issued_here_is_refused(world: OidcWorld) -> None:
    w = wallet(world)
    _refused(w, w.request(w.proof(nonce="bm90LWEtbm9uY2Utb2YtdGhpcy1pc3N1ZXI")), "invalid_nonce")


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://attacker.example"},
        {"aud": None},
        {"iat": None},
        {"iat": 1_000_000_000},  # stale
        {"iat": 4_000_000_000},  # in the future
        {"iss": "another-client"},
        {"header": {"typ": "JWT"}},
        {"header": {"alg": "none"}},
        {"header": {"alg": "HS256"}},
        {"header": {"alg": "EdDSA"}},  # not the key's algorithm
        {"header": {"jwk": None}},
        {"header": {"kid": "did:example:123#key-1"}},
        {"header": {"x5c": ["MIIB"]}},
        {"header": {"crit": ["exp"]}},
        {"sign_with": Key.new("ES256")},
    ],
    ids=lambda o: next(iter(o)) + "=" + str(next(iter(o.values())))[:20],
)
def test_a_bad_proof_is_refused(world: OidcWorld, overrides: dict[str, Any]) -> None:
    w = wallet(world)
    _refused(w, w.request(w.proof(**overrides)), "invalid_proof")


def test_a_proof_key_with_private_members_is_refused(world: OidcWorld) -> None:
    w = wallet(world)
    leaky = {**w.public_jwk(), "d": "c2VjcmV0"}
    _refused(w, w.request(w.proof(header={"jwk": leaky})), "invalid_proof")


@pytest.mark.parametrize("member", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "EdDSA"}])
def test_a_proof_key_not_for_this_signature_is_refused(
    world: OidcWorld, member: dict[str, Any]
) -> None:
    w = wallet(world)
    _refused(w, w.request(w.proof(header={"jwk": {**w.public_jwk(), **member}})), "invalid_proof")


def test_a_symmetric_proof_key_is_refused(world: OidcWorld) -> None:
    w = wallet(world)
    _refused(
        w, w.request(w.proof(header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}})), "invalid_proof"
    )


def test_without_consent_nothing_is_issued(world: OidcWorld) -> None:
    w = wallet(world)
    for grant_id in w.grant_ids:
        world.ledger.withdraw(world.citizen_id, grant_id)
    response = w.request()
    assert response.status_code == 401  # the token's consent is gone
    assert _credential_rows(world) == 0


def test_an_ed25519_holder_key_works_too(world: OidcWorld) -> None:
    w = wallet(world)
    w.holder = Key.new("EdDSA")
    vc = unpack(w.credential())
    assert vc.payload["cnf"]["jwk"]["crv"] == "Ed25519"
