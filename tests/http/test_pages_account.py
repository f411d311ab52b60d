"""The citizen's account pages: my consents with withdrawal that stops the app at once (UU PDP
Art. 9, 40), who used my data (Art. 31-32), my requests (Art. 5-14), my second factor
(RFC 6238), in Bahasa Indonesia and English; another citizen's records answer 404."""

from __future__ import annotations

import json

import pytest

from consent.grants import GrantStatus
from consent.requests.records import RequestKind, RequestStatus
from identity.http.pages import account
from tests.oidc_helpers import BUDI, OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, post_account, secret_of, submit_login, totp_code
from tests.personal_data import SAMPLE


@pytest.fixture
def signed_in(world: OidcWorld) -> OidcWorld:
    assert submit_login(world).status_code == 303
    return world


def test_without_a_session_every_account_page_goes_to_login(world: OidcWorld) -> None:
    for path in ("/account", "/account/export?request_id=x"):
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    token = csrf_of(world.client.get("/login").text)
    response = world.client.post(
        "/account/requests", data={"csrf_token": token, "kind": "access"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_the_account_page_lists_consents_with_a_withdraw_button(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    grants = world.consent(rp, newsletter=False)
    html = world.client.get("/account").text
    assert '<html lang="id">' in html and "Persetujuan saya" in html
    active = next(g for g in grants if g.status is GrantStatus.ACTIVE)
    refused = next(g for g in grants if g.status is GrantStatus.REFUSED)
    assert f'action="/account/consents/{active.grant_id}/withdraw"' in html
    assert f'action="/account/consents/{refused.grant_id}/withdraw"' not in html
    assert "Menilai kelayakan bantuan sosial" in html and "Dinas Sosial" in html
    assert "UU PDP Pasal 20 ayat (2) huruf a" in html
    assert 'aria-label="Tarik persetujuan untuk Menilai kelayakan bantuan sosial di Dinas' in html


def test_withdrawing_on_the_account_page_stops_the_app_at_once(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    world.consent(rp)
    tokens = world.tokens(rp)
    access_token = tokens["access_token"]
    assert world.userinfo(access_token).status_code == 200
    assert world.introspect(rp, access_token)["active"] is True
    grant = next(
        g
        for g in world.ledger.grants_of(world.citizen_id)
        if g.purpose_code == "bansos-eligibility"
    )
    response = post_account(world, f"/account/consents/{grant.grant_id}/withdraw")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=withdrawn#consents"
    page = world.client.get(response.headers["location"])
    assert "Persetujuan ditarik" in page.text and "ditarik" in page.text
    assert f"/account/consents/{grant.grant_id}/withdraw" not in page.text
    decision = world.app.state.services.consent_gate.check(
        world.citizen_id, rp.client_id, "bansos-eligibility", ["name"]
    )
    assert not decision.allowed
    assert world.introspect(rp, access_token)["active"] is False
    assert world.userinfo(access_token).status_code == 401
    refreshed = world.refresh(rp, tokens["refresh_token"])
    assert refreshed.status_code == 400, refreshed.text  # a family under a withdrawn grant
    assert refreshed.json()["error"] == "invalid_grant"
    # withdrawing twice changes nothing
    assert post_account(world, f"/account/consents/{grant.grant_id}/withdraw").status_code == 303


def test_another_citizens_grant_answers_404_and_stays(signed_in: OidcWorld, rp: RelyingApp) -> None:
    world = signed_in
    budi = world.register_citizen(BUDI)
    grants = world.consent(rp, citizen_id=budi)
    response = post_account(world, f"/account/consents/{grants[0].grant_id}/withdraw")
    assert response.status_code == 404 and "Tidak ditemukan" in response.text
    assert world.ledger.grant(budi, grants[0].grant_id).status is GrantStatus.ACTIVE
    assert post_account(world, "/account/consents/no-such-grant/withdraw").status_code == 404


def test_who_used_my_data_shows_the_latest_events_and_links_the_whole_record(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    world.consent(rp)
    world.userinfo(world.tokens(rp)["access_token"])
    world.app.state.services.audit_log.sequence()
    html = world.client.get("/account").text
    section = html[html.index('id="access-log"') : html.index('id="requests"')]
    assert "Siapa yang menggunakan data saya" in section
    # plain sentences, the app by name and the purpose in its own words, never a code
    assert "Dinas Sosial menerima nama lengkap dan tanggal lahir Anda untuk" in section
    assert "Anda masuk ke Jati." in section and "bansos-eligibility</" not in section
    assert 1 <= section.count('<li class="event') <= account.LATEST_EVENTS
    assert 'href="/account/activity?lang=id"' in section
    assert SAMPLE["name"] not in html and SAMPLE["nik"] not in html
    assert world.client.get("/account?after=not-a-number").status_code == 200


def test_an_access_request_links_its_export(signed_in: OidcWorld) -> None:
    world = signed_in
    response = post_account(world, "/account/requests", kind="access")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=request#requests"
    (recorded,) = world.app.state.services.subject_requests.requests_of(world.citizen_id)
    assert recorded.kind is RequestKind.ACCESS and recorded.status is RequestStatus.COMPLETED
    html = world.client.get("/account").text
    link = f"/account/export?request_id={recorded.id}"
    assert link in html and "Permintaan Anda dicatat dan diproses." not in html
    export = world.client.get(link)
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    document = json.loads(export.content)
    assert document["personal_data"]["nik"] == SAMPLE["nik"]
    assert world.client.get("/account/export?request_id=unknown").status_code == 404
    assert world.client.get("/account/export").status_code == 400


def test_a_correction_changes_the_data_and_keeps_only_field_names(signed_in: OidcWorld) -> None:
    world = signed_in
    response = post_account(
        world, "/account/requests", kind="correction", **{"field-email": "siti.baru@contoh.go.id"}
    )
    assert response.status_code == 303
    (recorded,) = world.app.state.services.subject_requests.requests_of(world.citizen_id)
    assert recorded.fields == ("email",)
    assert "Data yang dikoreksi: Alamat email" in world.client.get("/account").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Pilih jenis permintaan."),
        ({"kind": "everything"}, "Pilih jenis permintaan."),
        ({"kind": "correction"}, "Isi setidaknya satu data baru untuk koreksi."),
        ({"kind": "correction", "field-email": "bukan email"}, "email"),
        ({"kind": "erasure"}, "Penghapusan dilakukan di halaman Hapus akun dan data saya."),
    ],
    ids=["no-kind", "bad-kind", "empty-correction", "bad-email", "unconfirmed-erasure"],
)
def test_a_bad_request_is_a_clear_400_and_records_nothing(
    signed_in: OidcWorld, fields: dict[str, str], message: str
) -> None:
    world = signed_in
    response = post_account(world, "/account/requests", **fields)
    assert response.status_code == 400
    assert message in response.text
    assert "bukan email" not in response.text.replace('value="bukan email"', "")
    assert world.app.state.services.subject_requests.requests_of(world.citizen_id) == []


def test_enrol_confirm_and_disable_a_second_factor(signed_in: OidcWorld) -> None:
    world = signed_in
    assert "Belum aktif." in world.client.get("/account").text
    enrol = post_account(world, "/account/totp/enrol")
    assert enrol.status_code == 200 and enrol.headers["cache-control"] == "no-store"
    secret = secret_of(enrol.text)
    assert "otpauth://totp/" in enrol.text and "issuer=Jati" in enrol.text
    assert SAMPLE["nik"] not in enrol.text and SAMPLE["name"] not in enrol.text
    now = world.app.state.services.sessions.clock().timestamp()
    bad = "000000" if totp_code(secret, now) != "000000" else "111111"
    wrong = world.client.post(
        "/account/totp/confirm", data={"csrf_token": csrf_of(enrol.text), "code": bad}
    )
    assert wrong.status_code == 400 and "Kode salah" in wrong.text
    assert not world.app.state.services.second_factor.is_enabled(world.citizen_id)
    confirm = world.client.post(
        "/account/totp/confirm",
        data={"csrf_token": csrf_of(enrol.text), "code": totp_code(secret, now - 30)},
        follow_redirects=False,
    )
    assert confirm.status_code == 200  # the recovery codes, shown once
    assert "Faktor kedua aktif." in confirm.text
    assert world.app.state.services.second_factor.is_enabled(world.citizen_id)
    page = world.client.get("/account")
    assert "Kode yang belum dipakai: 10 dari 10." in page.text
    assert 'action="/account/totp/disable"' in page.text
    assert post_account(world, "/account/totp/enrol").status_code == 409  # one at a time
    refused = post_account(world, "/account/totp/disable", code=bad)
    assert refused.status_code == 400
    assert world.app.state.services.second_factor.is_enabled(world.citizen_id)
    off = post_account(world, "/account/totp/disable", code=totp_code(secret, now))
    assert off.status_code == 303
    assert not world.app.state.services.second_factor.is_enabled(world.citizen_id)


def test_the_account_page_in_english(signed_in: OidcWorld, rp: RelyingApp) -> None:
    world = signed_in
    world.consent(rp)
    html = world.client.get("/account?lang=en").text
    assert '<html lang="en">' in html
    for text in ("My consents", "Who used my data", "My requests", "Second factor", "Sign out"):
        assert text in html
    assert "Assess social aid" in html and "Withdraw consent" in html
