"""The whole OpenID Connect code flow in process, on SQLite and PostgreSQL: session and
consent -> authorize -> code -> token -> ID token verified offline -> userinfo -> refresh ->
revoke -> introspection inactive; only consented claims leave, each release and each
issuance is in the audit log, and withdrawal stops refresh, userinfo and introspection."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from audit.entry import Action, ActorKind, LegalBasis, decode_entry
from audit.storage.tables import AuditQueue
from consent.grants import GrantStatus
from identity.oidc.tokens import ACR_PASSWORD
from identity.relying_party import TokenVerifier
from tests.oidc_helpers import BUDI, ISSUER, OidcWorld, RelyingApp
from tests.personal_data import SAMPLE
from tests.token_helpers import Key

NO_STORE = ("no-store", "no-cache")


def _verifier(world: OidcWorld, rp: RelyingApp) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, audience=rp.client_id, jwks=world.client.get("/jwks.json").json()
    )


def _no_store(response: Any) -> None:
    assert (response.headers["cache-control"], response.headers["pragma"]) == NO_STORE


def _entries(world: OidcWorld) -> list[Any]:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry)).all()
    return [decode_entry(row) for row in rows]


def test_the_whole_code_flow(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    grants = world.consent(rp, newsletter=False)  # name + birthdate yes, email no
    granted = next(g.grant_id for g in grants if g.status is GrantStatus.ACTIVE)
    code, verifier = world.code_for(rp, nonce="n-0S6_WzA2Mj")

    response = world.exchange(rp, code, verifier)
    assert response.status_code == 200, response.text
    _no_store(response)
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert set(body) == {
        "access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"
    }  # fmt: skip

    # The ID token, verified offline like a relying app would (OIDC Core §3.1.3.7).
    id_claims = _verifier(world, rp).verify_id_token(body["id_token"], nonce="n-0S6_WzA2Mj")
    assert id_claims["aud"] == rp.client_id and id_claims["azp"] == rp.client_id
    assert id_claims["acr"] == ACR_PASSWORD and id_claims["amr"] == ["pwd"]
    assert isinstance(id_claims["auth_time"], int)
    assert id_claims["name"] == SAMPLE["name"] and id_claims["birthdate"] == SAMPLE["birthdate"]
    assert "email" not in id_claims  # refused purpose: never released
    assert "nik" not in id_claims

    access = _verifier(world, rp).verify_access_token(body["access_token"])
    assert access["sub"] == id_claims["sub"]
    assert access["consent_grants"] == [granted]

    info = world.userinfo(body["access_token"])
    assert info.status_code == 200, info.text
    _no_store(info)
    assert info.json() == {
        "sub": id_claims["sub"], "name": SAMPLE["name"], "birthdate": SAMPLE["birthdate"]
    }  # fmt: skip

    refreshed = world.refresh(rp, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    _no_store(refreshed)
    new = refreshed.json()
    assert new["refresh_token"] != body["refresh_token"]
    assert _verifier(world, rp).verify_id_token(new["id_token"])["sub"] == id_claims["sub"]
    assert world.userinfo(new["access_token"]).status_code == 200

    assert world.introspect(rp, new["refresh_token"])["active"] is True
    assert world.introspect(rp, body["refresh_token"]) == {"active": False}  # rotated
    assert world.introspect(rp, new["access_token"])["active"] is True

    revoked = world.revoke(rp, new["refresh_token"], hint="refresh_token")
    assert revoked.status_code == 200
    _no_store(revoked)
    assert world.introspect(rp, new["refresh_token"]) == {"active": False}
    # revoking the refresh token revokes the family's access tokens too (RFC 7009 §2.1)
    assert world.introspect(rp, new["access_token"]) == {"active": False}
    assert world.userinfo(new["access_token"]).status_code == 401
    assert world.refresh(rp, new["refresh_token"]).json()["error"] == "invalid_grant"


def test_each_issuance_and_release_is_audited(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    grants = world.consent(rp, newsletter=False)
    granted = next(g.grant_id for g in grants if g.status is GrantStatus.ACTIVE)
    before = len(_entries(world))
    body = world.tokens(rp)
    world.userinfo(body["access_token"])
    entries = _entries(world)[before:]
    pseudonym = world.app.state.services.pseudonymizer.pseudonym(world.citizen_id)
    issued = [e for e in entries if e.action is Action.TOKEN_ISSUED]
    reads = [e for e in entries if e.action is Action.READ]
    assert [sorted(e.data_items) for e in issued] == [
        ["birthdate", "name", "token:authorization-code"],
        ["birthdate", "name", "token:access", "token:id", "token:refresh"],
    ]
    for entry in issued + reads:
        assert entry.actor.kind is ActorKind.RELYING_APP and entry.actor.id == rp.client_id
        assert entry.subject == pseudonym
        assert entry.purpose == "bansos-eligibility" and entry.consent_id == granted
        assert entry.legal_basis is LegalBasis.CONSENT
    assert len(reads) == 2  # the ID token's claims, then userinfo's
    assert all(set(e.data_items) == {"name", "birthdate"} for e in reads)


def test_a_login_without_claims_is_audited_as_authentication(world: OidcWorld) -> None:
    rp = world.register_app(purposes=False, notice=False, scope="openid profile")
    world.login()
    body = world.tokens(rp, scope="openid")
    assert "name" not in _verifier(world, rp).verify_id_token(body["id_token"])
    issued = [e for e in _entries(world) if e.action is Action.TOKEN_ISSUED]
    assert {e.purpose for e in issued} == {"authentication"}
    assert all(e.consent_id is None for e in issued)


def test_withdrawal_stops_refresh_userinfo_and_introspection(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    grants = world.consent(rp, newsletter=False)
    granted = next(g.grant_id for g in grants if g.status is GrantStatus.ACTIVE)
    body = world.tokens(rp)
    assert world.userinfo(body["access_token"]).status_code == 200
    world.ledger.withdraw(world.citizen_id, granted)
    assert world.introspect(rp, body["access_token"]) == {"active": False}
    assert world.introspect(rp, body["refresh_token"]) == {"active": False}
    info = world.userinfo(body["access_token"])
    assert info.status_code == 401
    assert 'error="invalid_token"' in info.headers["www-authenticate"]
    refused = world.refresh(rp, body["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_withdrawal_between_code_and_token_refuses_the_exchange(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    grants = world.consent(rp, newsletter=False)
    code, verifier = world.code_for(rp)
    world.ledger.withdraw(world.citizen_id, next(g.grant_id for g in grants if g.grant_id))
    response = world.exchange(rp, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_two_sectors_see_two_subjects_and_one_sector_one(world: OidcWorld) -> None:
    a = world.register_app(name="Dinsos", redirect_uri="https://dinsos.example.go.id/cb")
    b = world.register_app(name="Dishub", redirect_uri="https://dishub.example.go.id/cb")
    c = world.register_app(
        name="Dinsos 2", redirect_uri="https://app2.example.go.id/cb", sector="dinsos.example.go.id"
    )
    world.login()
    subs = {}
    for rp in (a, b, c):
        world.consent(rp)
        body = world.tokens(rp)
        subs[rp.client_id] = _verifier(world, rp).verify_id_token(body["id_token"])["sub"]
    assert subs[a.client_id] != subs[b.client_id]
    assert subs[a.client_id] == subs[c.client_id]  # same sector, same sub (OIDC Core §8.1)


def test_two_citizens_get_two_subjects(world: OidcWorld, rp: RelyingApp) -> None:
    budi = world.register_citizen(BUDI)
    subs = set()
    for citizen in (world.citizen_id, budi):
        world.login(citizen)
        world.consent(rp, citizen_id=citizen)
        body = world.tokens(rp)
        subs.add(_verifier(world, rp).verify_id_token(body["id_token"])["sub"])
        assert world.userinfo(body["access_token"]).json()["sub"] in subs
    assert len(subs) == 2


def test_the_nik_is_released_only_under_its_purpose(world: OidcWorld) -> None:
    rp = world.register_app(
        name="Dukcapil", scope="openid profile nik", client_purposes=("population-admin:e",)
    )
    world.login()
    world.consent(rp, bansos_eligibility=False, newsletter=False)
    body = world.tokens(rp, scope="openid nik")
    claims = _verifier(world, rp).verify_id_token(body["id_token"])
    assert claims["nik"] == SAMPLE["nik"] and "name" not in claims
    assert world.userinfo(body["access_token"]).json()["nik"] == SAMPLE["nik"]


def test_private_key_jwt_app_completes_the_flow(world: OidcWorld) -> None:
    rp = world.register_app(name="Dukcapil", key=Key.new("ES256"))
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert _verifier(world, rp).verify_id_token(body["id_token"])["email"] == SAMPLE["email"]
    refreshed = world.refresh(rp, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert world.introspect(rp, refreshed.json()["access_token"])["active"] is True
    assert world.revoke(rp, refreshed.json()["access_token"]).status_code == 200
    assert world.introspect(rp, refreshed.json()["access_token"]) == {"active": False}


def test_a_revoked_access_token_is_inactive_and_refused_by_userinfo(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert world.revoke(rp, body["access_token"], hint="access_token").status_code == 200
    assert world.introspect(rp, body["access_token"]) == {"active": False}
    assert world.userinfo(body["access_token"]).status_code == 401
    # the refresh token of the same family still works (only the access token was revoked)
    assert world.refresh(rp, body["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", ["unknown", "a.b.c", "x" * 200])
def test_revoking_an_unknown_token_answers_200(
    world: OidcWorld, rp: RelyingApp, token: str
) -> None:
    assert world.revoke(rp, token).status_code == 200


def test_another_clients_tokens_are_neither_revoked_nor_described(
    world: OidcWorld, rp: RelyingApp
) -> None:
    other = world.register_app(name="Lain", redirect_uri="https://lain.example.go.id/cb")
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert world.revoke(other, body["refresh_token"]).status_code == 200
    assert world.revoke(other, body["access_token"]).status_code == 200
    assert world.introspect(other, body["refresh_token"]) == {"active": False}
    assert world.introspect(rp, body["refresh_token"])["active"] is True
    assert world.userinfo(body["access_token"]).status_code == 200


def test_auditor_client_credentials_token_works_on_the_audit_api(world: OidcWorld) -> None:
    auditor = world.register_auditor()
    response = world.token(auditor, {"grant_type": "client_credentials", "scope": "audit:read"})
    assert response.status_code == 200, response.text
    _no_store(response)
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    assert body["scope"] == "audit:read"
    events = world.client.get(
        "/audit/events", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert events.status_code == 200, events.text
    issued = [e for e in _entries(world) if e.action is Action.TOKEN_ISSUED]
    assert issued[-1].actor.id == auditor.client_id and issued[-1].subject is None


def test_a_code_flow_app_cannot_use_client_credentials_nor_an_auditor_the_code(
    world: OidcWorld, rp: RelyingApp
) -> None:
    response = world.token(rp, {"grant_type": "client_credentials"})
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    auditor = world.register_auditor()
    response = world.token(auditor, {"grant_type": "authorization_code", "code": "x"})
    assert response.json()["error"] == "unauthorized_client"
    response = world.token(auditor, {"grant_type": "client_credentials", "scope": "openid"})
    assert response.json()["error"] == "invalid_scope"


def test_refresh_may_narrow_the_scope_never_widen_it(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp, scope="openid profile")
    wider = world.token(
        rp,
        {
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "scope": "openid email",
        },
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = world.token(
        rp,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "scope": "openid"},
    )
    assert narrower.status_code == 200 and narrower.json()["scope"] == "openid"
    assert world.userinfo(narrower.json()["access_token"]).json().keys() == {"sub"}


def test_end_session_ends_the_session_and_returns_to_the_app(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    cookie = world.client.cookies.get("jati_session")
    response = world.client.get(
        "/end_session",
        params={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": rp.redirect_uri,
            "state": "bye",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == rp.redirect_uri + "?state=bye"
    assert 'jati_session=""' in response.headers["set-cookie"]
    assert world.app.state.services.sessions.get(cookie) is None


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example.com/"},
        {"post_logout_redirect_uri": "https://dinsos.example.go.id/callback", "client_id": None},
        {"id_token_hint": "not-a-token"},
    ],
    ids=["foreign-uri", "no-client", "bad-hint"],
)
def test_end_session_never_redirects_to_an_unregistered_uri(
    world: OidcWorld, rp: RelyingApp, params: dict[str, Any]
) -> None:
    world.login()
    values = {"client_id": rp.client_id, **params}
    values = {k: v for k, v in values.items() if v is not None}
    response = world.client.get("/end_session", params=values, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers
    assert (
        world.app.state.services.sessions.get(world.client.cookies.get("jati_session")) is not None
    )


def test_end_session_without_hint_asks_the_citizen_first(world: OidcWorld) -> None:
    """RP-Initiated Logout 1.0 §2 (issue 17): no hint, no sign-out until the citizen confirms
    (tests/security/test_logout_confirmation.py has the rest)."""
    world.login()
    cookie = world.client.cookies.get("jati_session")
    response = world.client.get("/end_session", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == ISSUER + "/end_session/confirm"
    assert world.app.state.services.sessions.get(cookie) is not None


def test_end_session_without_a_session_signs_out_at_once(world: OidcWorld) -> None:
    response = world.client.get("/end_session", follow_redirects=False)
    assert response.status_code == 200 and "signed out" in response.text


def test_end_session_refuses_a_body_that_is_not_a_form(world: OidcWorld) -> None:
    """Schemathesis (issue 17, defect 10): a text/plain body was read as no parameters and
    the citizen signed out; an empty POST still has no parameters."""
    world.login()
    cookie = world.client.cookies.get("jati_session")
    response = world.client.post(
        "/end_session", content=b"x", headers={"Content-Type": "text/plain"}, follow_redirects=False
    )
    assert response.status_code == 400 and "location" not in response.headers
    assert world.app.state.services.sessions.get(cookie) is not None
    response = world.client.post("/end_session", follow_redirects=False)
    assert response.status_code == 303  # the confirmation page, as for GET


def test_end_session_state_is_printable_ascii(world: OidcWorld, rp: RelyingApp) -> None:
    """RFC 6749 Appendix A.5: state is VSCHAR, as the document says."""
    params = {"client_id": rp.client_id, "state": "k\u00e9"}
    response = world.client.get("/end_session", params=params, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers


def test_discovery_names_every_endpoint_and_capability(world: OidcWorld) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    for name, path in {
        "authorization_endpoint": "/authorize",
        "token_endpoint": "/token",
        "userinfo_endpoint": "/userinfo",
        "introspection_endpoint": "/introspect",
        "revocation_endpoint": "/revoke",
        "end_session_endpoint": "/end_session",
        "jwks_uri": "/jwks.json",
    }.items():
        assert body[name] == ISSUER + path
    assert body["response_types_supported"] == ["code"]
    assert body["response_modes_supported"] == ["query"]
    assert body["subject_types_supported"] == ["pairwise"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    for endpoint in ("token", "introspection", "revocation"):  # issue 17: client_secret_post
        assert body[f"{endpoint}_endpoint_auth_methods_supported"] == [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ]
    assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {
        "EdDSA", "Ed25519", "ES256"
    }  # fmt: skip
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["prompt_values_supported"] == ["none", "login", "consent"]
    assert {"openid", "profile", "email", "nik"} <= set(body["scopes_supported"])
    assert {"sub", "name", "nik", "email", "auth_time", "acr"} <= set(body["claims_supported"])
    assert set(body["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "client_credentials"
    }  # fmt: skip


def test_a_first_party_app_gets_a_citizen_api_token(world: OidcWorld) -> None:
    city = world.register_app(name="Jakarta Kita", scope="openid profile me")
    world.login()
    world.consent(city)
    body = world.tokens(city, scope="openid profile me")
    me = world.client.get(
        "/me/consents", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert {c["app_id"] for c in me.json()["consents"]} == {city.client_id}
    info = world.userinfo(body["access_token"])
    assert info.status_code == 200 and info.json()["name"] == SAMPLE["name"]
    sub = _verifier(world, city).verify_id_token(body["id_token"])["sub"]
    assert info.json()["sub"] == sub  # the pairwise sub, never the sealed id
