"""Aplikasi yang terhubung (UU PDP Art. 9, 20(2), 31-32): each app with what it may receive,
under which purpose, since when and its last use; withdrawing there stops the app at once."""

from __future__ import annotations

import re

from httpx2 import Response

from consent.grants import GrantStatus
from tests.oidc_helpers import OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, submit_login
from tests.personal_data import SAMPLE


def _card(html: str, app_id: str) -> str:
    """The app's card, up to its link to the activity page."""
    start = html.index(f'id="app-{app_id}"')
    return html[start : html.index('<p><a href="/account/activity?app=', start)]


def _withdraw(world: OidcWorld, grant_id: str) -> Response:
    token = csrf_of(world.client.get("/account/apps").text)
    return world.client.post(
        f"/account/consents/{grant_id}/withdraw",
        data={"csrf_token": token, "back": "apps"},
        follow_redirects=False,
    )


def test_each_app_with_what_it_may_receive_since_when_and_its_last_use(
    world: OidcWorld, rp: RelyingApp
) -> None:
    assert submit_login(world).status_code == 303
    grants = world.consent(rp)
    html = world.client.get("/account/apps").text
    assert "<title>Aplikasi yang terhubung · Jati</title>" in html
    card = _card(html, rp.client_id)
    assert "<h2>Dinas Sosial</h2>" in card and "Terhubung sejak" in card
    assert "<em>Menilai kelayakan bantuan sosial</em>: Nama lengkap, Tanggal lahir" in card
    assert "<em>Kabar program</em>: Alamat email" in card
    assert "Belum pernah memakai data Anda." in card
    # what the app may receive without asking, on its basis in plain words and the article
    assert "Boleh menerima tanpa persetujuan" in card and ": NIK" in card
    assert "untuk tugas pelayanan publik oleh pemerintah" in card
    assert "(UU PDP Pasal 20 ayat (2) huruf e)" in card
    assert len(re.findall(r'action="/account/consents/[^"]+/withdraw"', card)) == len(grants)

    world.userinfo(world.tokens(rp)["access_token"])
    card = _card(world.client.get("/account/apps").text, rp.client_id)
    assert re.search(r"Terakhir memakai data Anda: \d{1,2} \w{3} \d{4}, \d{2}\.\d{2} WIB\.", card)
    assert f'href="/account/activity?app={rp.client_id}&amp;lang=id"' in html
    assert SAMPLE["name"] not in html and SAMPLE["nik"] not in html


def test_withdrawing_on_the_apps_page_stops_the_app_and_comes_back(
    world: OidcWorld, rp: RelyingApp
) -> None:
    assert submit_login(world).status_code == 303
    grants = world.consent(rp)
    access_token = world.tokens(rp)["access_token"]
    assert world.introspect(rp, access_token)["active"] is True
    for grant in grants:
        response = _withdraw(world, grant.grant_id)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/apps?done=withdrawn"
    assert world.introspect(rp, access_token)["active"] is False
    statuses = {world.ledger.grant(world.citizen_id, g.grant_id).status for g in grants}
    assert statuses == {GrantStatus.WITHDRAWN}
    html = world.client.get("/account/apps?done=withdrawn").text
    assert 'role="status"' in html
    assert f'id="app-{rp.client_id}"' not in html  # nothing in force any more
    former = html[html.index('id="former-heading"') :]
    assert "<h3>Dinas Sosial</h3>" in former and "Anda belum memberi persetujuan" in html


def test_without_a_session_the_apps_page_goes_to_login(world: OidcWorld) -> None:
    response = world.client.get("/account/apps", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
