"""What Jati signs with is what it publishes and advertises (issue 17, defects 5 and 6).

Defect 5: with ``JATI_TOKEN_SIGNING_ALG=Ed25519`` tokens said ``alg: Ed25519`` while the JWK
Set published their key as ``EdDSA`` and discovery advertised ``EdDSA`` and ``ES256`` only,
so openid-client refused the ID token ("unexpected JWT alg") and jose's
``createRemoteJWKSet`` found no key. A generic client is modelled here as those two behave:
it selects the JWK Set entry by ``kid``, requires its ``alg`` to equal the header's, requires
the header's ``alg`` among the advertised values where metadata advertises them, and
verifies with an independent library (joserfc; PyJWT too where it knows the name).

Defect 6: an app registered with ``id_token_signed_response_alg`` ``RS256`` (OIDC Dynamic
Client Registration 1.0 §2) gets RS256 ID tokens from a 3072-bit RSA key that an RS256-only
library verifies, while every other app keeps the service's algorithm; RFC 8414 metadata is
served, the same as OIDC discovery.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from joserfc import jws
from joserfc.jwk import JWKRegistry

from identity.relying_party import TokenVerifier
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.credential_helpers import unpack, wallet
from tests.oidc_helpers import ISSUER, OidcWorld, oidc_world

MODES = ("EdDSA", "Ed25519", "ES256")
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated:UserWarning")


def _decode(segment: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def header_of(token: str) -> dict[str, Any]:
    return _decode(token.split(".", maxsplit=1)[0])


def jwks_of(world: OidcWorld) -> dict[str, Any]:
    response = world.client.get("/jwks.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def entry_for(jwks: dict[str, Any], token: str) -> dict[str, Any]:
    """The JWK Set entry a strict client selects: by ``kid``, with the header's ``alg``."""
    header = header_of(token)
    (entry,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert entry["alg"] == header["alg"], (entry["alg"], header["alg"])
    return entry


def verified_payload(token: str, jwks: dict[str, Any], advertised: list[str] | None) -> bytes:
    """The payload of ``token`` as a generic client accepts it (module docstring)."""
    alg = header_of(token)["alg"]
    if advertised is not None:
        assert alg in advertised, (alg, advertised)
    entry = entry_for(jwks, token)
    payload = jws.deserialize_compact(token, JWKRegistry.import_key(entry), algorithms=[alg])
    if alg != "Ed25519":  # PyJWT does not know RFC 9864's name
        assert jwt.PyJWS().decode(token, jwt.PyJWK(entry).key, algorithms=[alg]) == (
            payload.payload
        )
    return payload.payload


@pytest.fixture(params=MODES)
def mode_world(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], database: Database
) -> Iterator[tuple[str, OidcWorld]]:
    mode: str = request.param
    with oidc_world(make_settings(token_signing_alg=mode), database) as world:
        yield mode, world


def test_every_token_carries_the_alg_its_key_is_published_with(
    mode_world: tuple[str, OidcWorld],
) -> None:
    """ID token, access token, consent receipt, SD-JWT VC and Status List Token, in each
    service mode; the ID token's and the credential's algorithm as their metadata says."""
    mode, world = mode_world
    discovery = world.client.get("/.well-known/openid-configuration").json()
    oauth_response = world.client.get("/.well-known/oauth-authorization-server")
    oauth = oauth_response.json() if oauth_response.status_code == 200 else discovery
    w = wallet(world)  # the code flow, then a credential
    tokens = world.tokens(w.app, scope="openid identity_credential")
    jwks = jwks_of(world)

    id_token, access_token = tokens["id_token"], tokens["access_token"]
    for advertised in (
        discovery["id_token_signing_alg_values_supported"],
        oauth["id_token_signing_alg_values_supported"],
    ):
        claims = json.loads(verified_payload(id_token, jwks, advertised))
    assert claims["aud"] == w.app.client_id and header_of(id_token)["alg"] == mode
    assert json.loads(verified_payload(access_token, jwks, None))["client_id"] == w.app.client_id
    assert header_of(access_token)["alg"] == mode

    receipt = world.client.get(
        f"/me/consents/{w.grant_ids[0]}/receipt", headers=_citizen_api(world)
    )
    assert receipt.status_code == 200, receipt.text
    assert json.loads(verified_payload(receipt.text, jwks, None))["iss"] == ISSUER
    assert header_of(receipt.text)["alg"] == mode

    issuer_metadata = world.client.get("/.well-known/openid-credential-issuer").json()
    (configuration,) = issuer_metadata["credential_configurations_supported"].values()
    credential_algs = configuration["credential_signing_alg_values_supported"]
    assert credential_algs == [mode]  # what credentials are signed with, and only that
    credential = w.credential()
    issuer_jwt = credential.split("~")[0]
    assert json.loads(verified_payload(issuer_jwt, jwks, credential_algs))["iss"] == ISSUER
    status = unpack(credential).payload["status"]["status_list"]
    served = world.client.get(
        status["uri"].removeprefix(ISSUER), headers={"Accept": "application/statuslist+jwt"}
    )
    assert served.status_code == 200
    assert json.loads(verified_payload(served.text, jwks, None))["sub"] == status["uri"]
    assert header_of(served.text)["alg"] == mode


def _citizen_api(world: OidcWorld) -> dict[str, str]:
    issued = world.app.state.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=world.citizen_id, scope=["me"], auth_time=None
    )
    return {"Authorization": f"Bearer {issued.token}"}


def test_the_jwks_never_publishes_one_key_under_two_names(
    mode_world: tuple[str, OidcWorld],
) -> None:
    _mode, world = mode_world
    keys = jwks_of(world)["keys"]
    assert len({k["kid"] for k in keys}) == len(keys)
    by_alg: dict[str, set[str]] = {}
    for key in keys:
        by_alg.setdefault(key["alg"], set()).add(key["kty"])
    assert by_alg == {"EdDSA": {"OKP"}, "Ed25519": {"OKP"}, "ES256": {"EC"}, "RS256": {"RSA"}}
    ed_keys = {k["x"]: k["alg"] for k in keys if k["kty"] == "OKP"}
    assert len(ed_keys) == 4  # EdDSA and Ed25519 keys are different keys


# -- per-app ID token algorithm (defect 6) --------------------------------------------------


def _modulus_bits(jwk: dict[str, Any]) -> int:
    n = base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4))
    return int.from_bytes(n, "big").bit_length()


def test_an_app_registered_for_rs256_gets_rs256_id_tokens_and_others_keep_eddsa(
    world: OidcWorld,
) -> None:
    rs_app = world.register_app(
        name="Aplikasi Lama",
        redirect_uri="https://lama.example.go.id/callback",
        id_token_signed_response_alg="RS256",
    )
    other = world.register_app()
    world.login()
    world.consent(rs_app)
    world.consent(other)
    tokens = world.tokens(rs_app)
    jwks = jwks_of(world)
    header = header_of(tokens["id_token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    entry = entry_for(jwks, tokens["id_token"])
    assert entry["kty"] == "RSA" and entry["alg"] == "RS256" and entry["use"] == "sig"
    assert _modulus_bits(entry) == 3072
    # an RS256-only library, allowing nothing else
    claims = jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(entry).key,
        algorithms=["RS256"],
        audience=rs_app.client_id,
        issuer=ISSUER,
    )
    assert claims["name"] and claims["azp"] == rs_app.client_id
    # access tokens stay on the service's algorithm
    assert header_of(tokens["access_token"])["alg"] == "EdDSA"
    # the SDK verifies it too (RS256 bound to the RSA key)
    sdk = TokenVerifier(issuer=ISSUER, audience=rs_app.client_id, jwks=jwks)
    assert sdk.verify_id_token(tokens["id_token"])["sub"] == claims["sub"]
    # a refresh's new ID token follows the app's algorithm as well (OIDC Core §12.2)
    refreshed = world.refresh(rs_app, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert header_of(refreshed.json()["id_token"])["alg"] == "RS256"
    assert header_of(refreshed.json()["access_token"])["alg"] == "EdDSA"
    # another app is untouched
    others = world.tokens(other)
    assert header_of(others["id_token"])["alg"] == "EdDSA"
    assert entry_for(jwks, others["id_token"])["kty"] == "OKP"
    # RP-initiated logout accepts the RS256 ID token as its hint
    response = world.client.get(
        "/end_session",
        params={
            "id_token_hint": refreshed.json()["id_token"],
            "post_logout_redirect_uri": rs_app.redirect_uri,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_an_rs256_app_is_refreshed_off_the_event_loop(world: OidcWorld) -> None:
    """The refresh grant's fast path signs on the event loop; an RSA signature (a
    millisecond) goes to a thread, and the answer is the same."""
    rs_app = world.register_app(id_token_signed_response_alg="RS256")
    world.login()
    world.consent(rs_app)
    tokens = world.tokens(rs_app)
    issuer = world.app.state.services.token_issuer
    assert issuer.signs_from_memory("RS256") and not issuer.signs_on_loop("RS256")
    refreshed = world.refresh(rs_app, tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert header_of(refreshed.json()["id_token"])["alg"] == "RS256"


def test_discovery_advertises_every_id_token_algorithm_rs256_included(world: OidcWorld) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    assert body["id_token_signing_alg_values_supported"] == ["EdDSA", "Ed25519", "ES256", "RS256"]
    published = {k["alg"] for k in jwks_of(world)["keys"]}
    assert set(body["id_token_signing_alg_values_supported"]) <= published
    # userinfo and introspection answer JSON, not JWTs: nothing to advertise for them
    assert not any(k.startswith(("userinfo_signing", "introspection_signing")) for k in body)


def test_rfc8414_metadata_is_served_and_agrees_with_oidc_discovery(world: OidcWorld) -> None:
    oauth = world.client.get("/.well-known/oauth-authorization-server")
    oidc = world.client.get("/.well-known/openid-configuration")
    assert oauth.status_code == 200
    assert oauth.headers["content-type"].startswith("application/json")
    assert oauth.headers["cache-control"] == oidc.headers["cache-control"]
    assert "max-age" in oauth.headers["cache-control"]
    body = oauth.json()
    assert body["issuer"] == ISSUER  # RFC 8414 §3.3: identical to the issuer
    for member in (  # RFC 8414 §2: required, and what Jati serves
        "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
        "grant_types_supported", "token_endpoint_auth_methods_supported",
        "revocation_endpoint", "introspection_endpoint", "code_challenge_methods_supported",
        "scopes_supported",
    ):  # fmt: skip
        assert member in body
    assert body == oidc.json()
    # a client that looks here first follows the same keys
    assert world.client.get(body["jwks_uri"].removeprefix(ISSUER)).status_code == 200
