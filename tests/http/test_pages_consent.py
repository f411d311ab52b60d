"""The consent screen (UU PDP Art. 4, 20-22, 24-25, 53): a fixed layout naming the app,
each purpose with its basis, items (specific ones marked) and retention, one choice per
consent purpose with nothing pre-selected, other bases shown but not asked, DPO and notice;
a missing choice or a changed notice records nothing; the decision goes through the ledger
and only consented claims are released."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from audit.entry import LegalBasis
from consent.grants import GrantStatus
from consent.notices import NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity
from consent.receipts import receipt_claims
from tests.consent_helpers import notice_content
from tests.oidc_helpers import OidcWorld, RelyingApp, query_of
from tests.pages_helpers import (
    begin,
    consent_page,
    csrf_of,
    follow,
    notice_hash_of,
    submit_consent,
    submit_login,
)
from tests.personal_data import seeded


@pytest.fixture
def req(world: OidcWorld, rp: RelyingApp) -> str:
    """A pending request whose citizen has just signed in on the login page."""
    request_id = begin(world, rp)
    follow(world, submit_login(world, request_id))
    return request_id


def _radios(html: str) -> list[str]:
    return re.findall(r'<input type="radio"[^>]*>', html)


def test_without_a_session_the_screen_sends_to_the_login_page(
    world: OidcWorld, rp: RelyingApp
) -> None:
    request_id = begin(world, rp)
    page = world.client.get(f"/consent?req={request_id}", follow_redirects=False)
    assert page.status_code == 303
    assert urlsplit(page.headers["location"]).path == "/login"
    assert query_of(page.headers["location"])["req"] == request_id


def test_the_screen_shows_everything_the_law_asks_and_preselects_nothing(
    world: OidcWorld, rp: RelyingApp, req: str
) -> None:
    html = consent_page(world, req).text
    assert '<html lang="id">' in html
    assert "Dinas Sosial" in html and "pengendali data" in html
    # one fieldset per consent purpose, with its legend, basis, items and retention
    assert html.count('<fieldset class="purpose"') == 2
    assert "<legend>Menilai kelayakan bantuan sosial</legend>" in html
    assert "<legend>Kabar program</legend>" in html
    assert "UU PDP Pasal 20 ayat (2) huruf a: persetujuan yang sah secara eksplisit" in html
    assert "Nama lengkap" in html and "Tanggal lahir" in html and "Alamat email" in html
    # how long, and by whom, in plain words (issue 19)
    shown_notice = world.ledger.current_notice(rp.client_id)
    assert shown_notice is not None
    controller = shown_notice.content.controller
    assert f"{controller} menyimpannya selama 365 hari." in html
    assert f"{controller} menyimpannya selama 30 hari." in html
    # consent lasts until withdrawn, and what happens to the data the app already has; the
    # articles on the line after the plain words
    lasts = html[html.index('<p class="lasts">') :]
    lasts = lasts[: lasts.index("</p>")]
    assert "berlaku sampai Anda menariknya" in lasts and "3×24 jam" in lasts
    assert "permintaan penghapusan" in lasts
    assert lasts.endswith('<br><span class="cite">UU PDP Pasal 9, 40 dan 8</span>')
    # one yes/no pair per purpose, every radio labelled, none checked (Art. 22)
    radios = _radios(html)
    assert len(radios) == 4 and not any("checked" in r for r in radios)
    for radio_id in re.findall(r'<input type="radio" id="([^"]+)"', html):
        assert f'<label for="{radio_id}">' in html
    assert html.count(">Setuju</label>") == 2 and html.count(">Tidak setuju</label>") == 2
    # the purpose on another basis: shown, not asked
    assert "Diproses tanpa persetujuan" in html
    assert "diproses tanpa persetujuan, dengan dasar: UU PDP Pasal 20 ayat (2) huruf e" in html
    assert 'name="choice-population-admin"' not in html
    # DPO (Art. 53) and the full notice (Art. 21)
    assert "Pejabat Pelindungan Data" in html and "ppd@dinsos.example.go.id" in html
    notice = world.ledger.current_notice(rp.client_id)
    assert notice is not None
    link = f"/notices/{rp.client_id}/{notice.version}"
    assert link in html
    shown = world.client.get(link)
    assert shown.status_code == 200
    assert "Legalitas pemrosesan" in shown.text and "Teks legality (v1)" in shown.text
    assert notice.content_hash in shown.text


def test_specific_data_is_marked(world: OidcWorld) -> None:
    rp = world.register_app(purposes=False, notice=False)
    world.ledger.register_purpose(
        Purpose(
            app_id=rp.client_id,
            code="health-aid",
            description=LocalizedText("Bantuan kesehatan", "Health aid"),
            legal_basis=LegalBasis.CONSENT,
            data_items=(
                DataItem("name", Sensitivity.GENERAL),
                DataItem("health-record", Sensitivity.SPECIFIC),
            ),
            retention_days=90,
        )
    )
    world.ledger.publish_notice(rp.client_id, notice_content())
    request_id = begin(world, rp, scope="openid profile")
    follow(world, submit_login(world, request_id))
    html = consent_page(world, request_id).text
    assert 'health-record <strong class="specific">(data pribadi yang bersifat spesifik' in html
    assert html.count('class="specific"') == 1


def test_a_missing_choice_reshows_the_form_and_records_nothing(world: OidcWorld, req: str) -> None:
    response = submit_consent(world, req, {"bansos-eligibility": "yes"})
    assert response.status_code == 400
    assert "Belum semua tujuan memiliki pilihan. Tidak ada yang dicatat." in response.text
    assert 'id="error-newsletter"' in response.text
    assert 'id="error-bansos-eligibility"' not in response.text
    # the choice made is kept (it was the citizen's own), the missing one is not invented
    assert (
        'id="choice-bansos-eligibility-yes" name="choice-bansos-eligibility" value="yes" '
        "required checked" in response.text
    )
    assert not any("checked" in r for r in _radios(response.text) if "newsletter" in r)
    assert world.ledger.grants_of(world.citizen_id) == []
    nothing = submit_consent(world, req, {})
    assert nothing.status_code == 400
    assert world.ledger.grants_of(world.citizen_id) == []


@pytest.mark.parametrize(
    "choices",
    [
        {"bansos-eligibility": "maybe", "newsletter": "no"},
        {"bansos-eligibility": "yes", "newsletter": "no", "population-admin": "yes"},
        {"bansos-eligibility": "yes", "newsletter": "no", "unknown": "yes"},
    ],
    ids=["bad-value", "not-asked", "unknown-purpose"],
)
def test_a_tampered_form_is_a_clear_400_and_records_nothing(
    world: OidcWorld, req: str, choices: dict[str, str]
) -> None:
    response = submit_consent(world, req, choices)
    assert response.status_code == 400
    assert world.ledger.grants_of(world.citizen_id) == []


def test_a_changed_notice_reshows_the_screen_and_records_nothing(
    world: OidcWorld, rp: RelyingApp, req: str
) -> None:
    page = consent_page(world, req)
    world.ledger.publish_notice(
        rp.client_id, notice_content(controller="Dinas Sosial", rights="v2")
    )
    response = world.client.post(
        f"/consent?req={req}",
        data={
            "csrf_token": csrf_of(page.text),
            "notice_hash": notice_hash_of(page.text),
            "choice-bansos-eligibility": "yes",
            "choice-newsletter": "no",
        },
    )
    assert response.status_code == 409
    assert "baru saja berubah" in response.text
    assert world.ledger.grants_of(world.citizen_id) == []
    new = world.ledger.current_notice(rp.client_id)
    assert new is not None and notice_hash_of(response.text) == new.content_hash
    assert not any("checked" in r for r in _radios(response.text))


def test_grant_one_refuse_the_other_releases_only_the_granted_claims(
    world: OidcWorld, rp: RelyingApp, req: str
) -> None:
    response = submit_consent(world, req, {"bansos-eligibility": "yes", "newsletter": "no"})
    assert response.status_code == 303
    assert response.headers["location"] == f"http://testserver/authorize/resume?req={req}"
    grants = {g.purpose_code: g for g in world.ledger.grants_of(world.citizen_id)}
    assert grants["bansos-eligibility"].status is GrantStatus.ACTIVE
    assert grants["newsletter"].status is GrantStatus.REFUSED
    assert {e.act for g in grants.values() for e in g.events} == {"consent-screen:submit"}
    back = follow(world, response)
    assert back.headers["location"].startswith(rp.redirect_uri + "?")
    answer = query_of(back.headers["location"])
    tokens = world.exchange(rp, answer["code"], world.last_verifier)
    assert tokens.status_code == 200, tokens.text
    info = world.userinfo(tokens.json()["access_token"])
    assert info.status_code == 200, info.text
    claims = info.json()
    assert "name" in claims and "birthdate" in claims
    assert "email" not in claims


def test_refusing_everything_tells_the_app_access_denied(
    world: OidcWorld, rp: RelyingApp, req: str
) -> None:
    response = submit_consent(world, req, {"bansos-eligibility": "no", "newsletter": "no"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"req={req}&denied=1")
    back = follow(world, response)
    assert query_of(back.headers["location"])["error"] == "access_denied"
    assert {g.status for g in world.ledger.grants_of(world.citizen_id)} == {GrantStatus.REFUSED}


def test_cancel_records_nothing_and_tells_the_app(
    world: OidcWorld, rp: RelyingApp, req: str
) -> None:
    response = submit_consent(world, req, {}, action="cancel")
    assert response.status_code == 303 and response.headers["location"].endswith("&denied=1")
    assert world.ledger.grants_of(world.citizen_id) == []
    assert query_of(follow(world, response).headers["location"])["error"] == "access_denied"


def test_the_decision_reads_the_birth_date_through_the_audited_path(
    world: OidcWorld, req: str
) -> None:
    submit_consent(world, req, {"bansos-eligibility": "yes", "newsletter": "yes"})
    world.app.state.services.audit_log.sequence()
    html = world.client.get("/account/activity").text  # "who used my data" shows the read
    # Jati's own age check, credited to Jati (not to the citizen), on its legal basis
    assert (
        "Jati membaca tanggal lahir Anda untuk "
        "<em>memeriksa usia Anda sebelum meminta persetujuan</em>." in html
    ), html
    assert "karena diwajibkan oleh peraturan" in html
    assert "(UU PDP Pasal 20 ayat (2) huruf c)" in html


def test_a_child_cannot_consent_alone(world: OidcWorld, rp: RelyingApp) -> None:
    nik, name = seeded("3171015008150001", "Putri Anak Contoh")
    child = world.register_citizen({"nik": nik, "name": name, "birthdate": "2015-08-10"})
    request_id = begin(world, rp)
    follow(world, submit_login(world, request_id, nik=nik))
    response = submit_consent(world, request_id, {"bansos-eligibility": "yes", "newsletter": "no"})
    assert response.status_code == 403
    assert "orang tua atau wali" in response.text
    assert world.ledger.grants_of(child) == []
    assert date(2015, 8, 10).isoformat() not in response.text


def test_english_switch_keeps_the_layout(world: OidcWorld, req: str) -> None:
    html = consent_page(world, req, lang="en").text
    assert '<html lang="en">' in html
    assert "<legend>Assess social aid</legend>" in html
    assert ">I agree</label>" in html and ">I do not agree</label>" in html
    assert "UU PDP Art. 20(2)(a): explicit consent" in html
    assert "processed without consent, on basis: UU PDP Art. 20(2)(e): public task" in html
    assert not any("checked" in r for r in _radios(html))
    assert world.client.get(f"/consent?req={req}&lang=id").text.count(">Setuju</label>") == 2


def test_unknown_request_and_unknown_notice_are_clear_errors(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    assert world.client.get("/consent?req=" + "B" * 43).status_code == 400
    assert world.client.get(f"/notices/{rp.client_id}/99").status_code == 404
    assert world.client.get("/notices/no-such-app/1").status_code == 404


def test_an_older_notice_stays_readable_and_says_it_was_superseded(
    world: OidcWorld, rp: RelyingApp
) -> None:
    first = world.ledger.current_notice(rp.client_id)
    assert first is not None
    world.ledger.publish_notice(rp.client_id, notice_content(controller="Dinsos", rights="v2"))
    old = world.client.get(f"/notices/{rp.client_id}/{first.version}?lang=en")
    assert old.status_code == 200
    assert "Text rights (v1)" in old.text  # the text the citizen consented under
    assert f"superseded by version {first.version + 1}" in old.text
    # a legal text and its warning, not confirmations: no success style, no status role
    assert '<p class="caution">' in old.text and 'class="notice"' not in old.text
    assert 'role="status"' not in old.text
    # the content hash behind "technical details", in a wrapping code element
    details = old.text[old.text.index('<details class="technical">') :]
    assert f'<code class="hash">{first.content_hash}</code>' in details
    assert old.text.count(first.content_hash) == 1
    new = world.client.get(f"/notices/{rp.client_id}/{first.version + 1}?lang=en")
    assert "Text rights (v2)" in new.text and "superseded" not in new.text
    for bad in ("0", "-1", "1e3", "９", "9" * 12):
        assert world.client.get(f"/notices/{rp.client_id}/{bad}").status_code == 404


def test_a_controller_given_as_an_object_is_shown_by_its_name(world: OidcWorld) -> None:
    """Issue 15: ``{"name", "contact"}`` once reached the screen as a Python dict's repr."""
    rp = world.register_app(notice=False)
    document = notice_content().to_json()
    document["controller"] = {"name": "Pemprov DKI Jakarta", "contact": "ppid@jakarta.go.id"}
    world.ledger.publish_notice(rp.client_id, NoticeContent.from_json(document))
    request_id = begin(world, rp)
    follow(world, submit_login(world, request_id))
    html = consent_page(world, request_id).text
    assert "Dinas Sosial (pengendali data: Pemprov DKI Jakarta) meminta" in html
    assert "&#39;name&#39;" not in html and "'name'" not in html and "{&#39;" not in html
    notice = world.ledger.current_notice(rp.client_id)
    assert notice is not None
    shown = world.client.get(f"/notices/{rp.client_id}/{notice.version}").text
    assert "<dd>Pemprov DKI Jakarta<br>ppid@jakarta.go.id</dd>" in shown

    response = submit_consent(world, request_id, {"bansos-eligibility": "yes", "newsletter": "no"})
    assert response.status_code == 303
    grant = next(g for g in world.ledger.grants_of(world.citizen_id) if g.app_id == rp.client_id)
    purpose = next(p for p in world.ledger.purposes(rp.client_id) if p.code == grant.purpose_code)
    claims = receipt_claims(
        issuer="https://jati.example.go.id",
        subject="s",
        grant=grant,
        purpose=purpose,
        notice=notice,
        withdraw_url="https://jati.example.go.id/withdraw",
        now=world.ledger.clock(),
    )
    assert claims["controller"]["name"] == "Pemprov DKI Jakarta"
    assert claims["controller"]["contact"] == "ppid@jakarta.go.id"
