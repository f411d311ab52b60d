"""The console's people (issue 20): staff activate with a password and an authenticator app,
sign in with both, in a session of their own; each page answers 401 without a console session
(a citizen's included) and 403 to another role; every sign-in, refusal and activation is an
audit entry under the staff member's actor."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from httpx2 import Response

from audit.entry import decode_entry
from audit.records import EventFilter
from identity.errors import InvalidClient, InvalidCredentials
from identity.staff.records import StaffMember
from tests.console_helpers import OPERATOR, PASSWORD, steady
from tests.console_helpers import activate as _activate
from tests.console_helpers import add_staff as _add
from tests.console_helpers import post_form as _post
from tests.console_helpers import sign_in as _sign_in
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, secret_of, submit_login, totp_code
from tests.personal_data import SAMPLE


@pytest.fixture
def operator(world: OidcWorld) -> tuple[StaffMember, bytes]:
    member, code = _add(world, "operator", "ops@kominfo.example.go.id")
    return member, _activate(world, member.email, code)


def test_activation_needs_the_code_a_long_password_and_the_apps_code(world: OidcWorld) -> None:
    member, code = _add(world, "auditor", "Auditor@BPK.example.go.id")
    wrong = _post(world, "/console/activate", email=member.email, code="AAAA-BBBB-CCCC-DDDD")
    assert wrong.status_code == 400 and "tidak cocok" in wrong.text
    other = _post(world, "/console/activate", email="someone@else.go.id", code=code)
    assert other.status_code == 400
    setup = _post(world, "/console/activate", email=member.email, code=code)
    assert setup.status_code == 200 and 'id="totp-secret"' in setup.text and "<svg" in setup.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', setup.text)
    assert ticket is not None
    secret = secret_of(setup.text)

    def finish(**fields: Any) -> Response:
        data = {"csrf_token": csrf_of(setup.text), "ticket": ticket.group(1), **fields}
        return world.client.post("/console/activate/setup", data=data, follow_redirects=False)

    good = totp_code(secret)
    assert finish(password="pendek", password2="pendek", code=good).status_code == 400
    assert finish(password=PASSWORD, password2=PASSWORD + "x", code=good).status_code == 400
    assert finish(password=PASSWORD, password2=PASSWORD, code="000000").status_code in (400,)
    assert finish(password=PASSWORD, password2=PASSWORD, code="x" * 7).status_code == 400
    long = "é" * 600  # 1,200 bytes: over what argon2 is given
    assert finish(password=long, password2=long, code=good).status_code == 400
    assert not world.app.state.services.staff.get(member.id).active  # nothing changed
    assert finish(password=PASSWORD, password2=PASSWORD, code=good).status_code == 303
    assert world.app.state.services.staff.get(member.id).active
    again = _post(world, "/console/activate", email=member.email, code=code)
    assert again.status_code == 400  # the code is used up


def test_a_disabled_account_cannot_finish_its_activation(world: OidcWorld) -> None:
    member, code = _add(world, "auditor", "pergi@bpk.example.go.id")
    setup = _post(world, "/console/activate", email=member.email, code=code)
    ticket = re.search(r'name="ticket" value="([^"]+)"', setup.text)
    assert ticket is not None
    world.app.state.services.staff.disable(member.id, actor=OPERATOR)
    steady()
    done = world.client.post(
        "/console/activate/setup",
        data={"csrf_token": csrf_of(setup.text), "ticket": ticket.group(1), "password": PASSWORD,
              "password2": PASSWORD, "code": totp_code(secret_of(setup.text))},
    )  # fmt: skip
    assert done.status_code == 400 and not world.app.state.services.staff.get(member.id).active


def test_sign_in_needs_password_and_code_and_a_code_works_once(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    wrong_password = _post(world, "/console/login", email=member.email, password="salah",
                           code=totp_code(secret))  # fmt: skip
    wrong_code = _post(world, "/console/login", email=member.email, password=PASSWORD,
                       code="000000" if totp_code(secret) != "000000" else "111111")  # fmt: skip
    unknown = _post(world, "/console/login", email="nobody@x.go.id", password=PASSWORD,
                    code=totp_code(secret))  # fmt: skip
    for refused in (wrong_password, wrong_code, unknown):
        assert refused.status_code == 400
        assert "Email, kata sandi atau kode salah." in refused.text
    steady()
    code = totp_code(secret, time.time() + 30)  # the next step: activation used an earlier one
    signed = _post(world, "/console/login", email=member.email, password=PASSWORD, code=code)
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = signed.headers["set-cookie"]
    assert "jati_console=" in cookie and "Path=/console" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    home = world.client.get("/console")
    assert home.status_code == 200 and "Anda masuk sebagai Staf operator." in home.text
    # the same code again is refused (RFC 6238 §5.2)
    again = _post(world, "/console/login", email=member.email, password=PASSWORD, code=code)
    assert again.status_code == 400
    queued = world.app.state.services.audit_log.store.queued(EventFilter(), limit=100)
    entries = [decode_entry(entry) for entry in queued]
    mine = [e for e in entries if e.actor.id == f"staff:{member.id}:operator"]
    assert {(e.action.value, e.outcome.value) for e in mine} >= {
        ("login", "success"),
        ("login", "denied"),
        ("update", "success"),
    }
    assert all(e.subject is None and not e.citizen_visible for e in mine)


def test_repeated_refusals_lock_the_account(world: OidcWorld, operator: Any) -> None:
    member, secret = operator
    for _ in range(5):
        assert _post(world, "/console/login", email=member.email, password="salah",
                     code="123456").status_code == 400  # fmt: skip
    locked = _sign_in(world, member.email, secret)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    # attempts already past the first check (in flight) neither lift the lock nor pass
    staff = world.app.state.services.staff
    with pytest.raises(InvalidCredentials):
        staff._finish(member.id, staff.clock(), None)
    with pytest.raises(InvalidCredentials):
        staff._finish(member.id, staff.clock(), 10**12)  # even a right code
    assert staff.get(member.id).locked_until is not None


def test_each_page_refuses_no_session_a_citizen_and_another_role(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    for path in ("/console", "/console/status", "/console/log-integrity"):
        assert world.client.get(path).status_code == 401
    assert submit_login(world).status_code == 303  # a citizen's session is not a console one
    for path in ("/console", "/console/status", "/console/log-integrity"):
        assert world.client.get(path).status_code == 401
    member, secret = operator
    assert _sign_in(world, member.email, secret).status_code == 303
    status = world.client.get("/console/status")
    assert status.status_code == 200 and "Sekuenser log audit" in status.text
    assert world.client.get("/console/log-integrity").status_code == 403
    auditor, code = _add(world, "auditor", "audit@bpk.example.go.id")
    auditor_secret = _activate(world, auditor.email, code)
    assert _sign_in(world, auditor.email, auditor_secret).status_code == 303  # replaces it
    world.app.state.services.audit_log.sequence(checkpoint=True)
    integrity = world.client.get("/console/log-integrity")
    assert integrity.status_code == 200 and "Checkpoint bertanda tangan" in integrity.text
    assert "Ukuran pohon" in integrity.text
    assert world.client.get("/console/status").status_code == 403


def test_sign_out_and_disabling_end_the_session(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    assert _sign_in(world, member.email, secret).status_code == 303
    token = csrf_of(world.client.get("/console").text)
    out = world.client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and world.client.get("/console").status_code == 401
    queued = world.app.state.services.audit_log.store.queued(EventFilter(), limit=200)
    assert any(
        e.actor.id == f"staff:{member.id}:operator"
        and e.data_items == ("console_session",)
        and e.action.value == "erase"
        for e in map(decode_entry, queued)
    )
    assert _sign_in(world, member.email, secret, time.time() + 30).status_code == 303
    world.app.state.services.staff.disable(member.id, actor=OPERATOR)
    assert world.client.get("/console").status_code == 401
    assert _sign_in(world, member.email, secret, time.time() + 60).status_code == 400


def test_forms_without_the_csrf_token_change_nothing(world: OidcWorld) -> None:
    response = world.client.post(
        "/console/login", data={"email": "a@b.go.id", "password": "x", "code": "123456"}
    )
    assert response.status_code == 403


@pytest.fixture
def auditor(world: OidcWorld) -> tuple[StaffMember, bytes]:
    member, code = _add(world, "auditor", "pemeriksa@bpk.example.go.id")
    secret = _activate(world, member.email, code)
    assert _sign_in(world, member.email, secret).status_code == 303
    return member, secret


def test_an_auditor_finds_a_citizens_accesses_by_nik_and_sees_the_proof_verified(
    world: OidcWorld, rp: Any, auditor: tuple[StaffMember, bytes]
) -> None:
    member, _secret = auditor
    assert submit_login(world).status_code == 303  # the citizen, in the same browser
    world.consent(rp)
    world.userinfo(world.tokens(rp)["access_token"])
    world.app.state.services.audit_log.sequence(checkpoint=True)
    token = csrf_of(world.client.get("/console/search").text)
    found = world.client.post("/console/search", data={"csrf_token": token, "nik": SAMPLE["nik"]})
    assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
    assert SAMPLE["nik"] not in found.text and SAMPLE["name"] not in found.text
    leaves = [int(i) for i in re.findall(r'href="/console/entry/(\d+)\?', found.text)]
    assert len(leaves) >= 4 and rp.client_id in found.text
    entry = world.client.get(f"/console/entry/{leaves[-1]}")
    assert entry.status_code == 200
    assert "Terverifikasi: entri ini ada di pohon checkpoint bertanda tangan" in entry.text
    assert 'src="/static/proof.js"' in entry.text and "data-proof" in entry.text  # again here
    assert world.client.get("/console/entry/999999").status_code == 404
    # each search and each opened entry is recorded under the auditor
    world.app.state.services.audit_log.sequence(checkpoint=True)
    mine = [
        decode_entry(leaf.entry)
        for leaf in world.app.state.services.audit_log.store.query(
            EventFilter(actor_id=f"staff:{member.id}:auditor"), limit=100
        )
    ]
    assert [e.purpose for e in mine if e.action.value == "read"] == ["audit-query"] * 2


@pytest.mark.parametrize("nik", ["1234", "31710141019000039", "317101410190000X"])
def test_a_malformed_nik_is_refused_without_being_repeated(
    world: OidcWorld, auditor: Any, nik: str
) -> None:
    token = csrf_of(world.client.get("/console/search").text)
    refused = world.client.post("/console/search", data={"csrf_token": token, "nik": nik})
    assert refused.status_code == 400 and "Itu bukan NIK yang sah" in refused.text
    assert nik not in refused.text


def test_the_search_is_the_auditors_alone(world: OidcWorld, operator: Any) -> None:
    member, secret = operator
    assert world.client.get("/console/search").status_code == 401
    assert _sign_in(world, member.email, secret).status_code == 303
    assert world.client.get("/console/search").status_code == 403
    assert world.client.get("/console/entry/0").status_code == 403


def test_an_operator_rotates_the_keys_only_with_a_fresh_code(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    assert world.client.get("/console/keys").status_code == 401
    assert _sign_in(world, member.email, secret).status_code == 303
    page = world.client.get("/console/keys")
    assert page.status_code == 200 and "aktif" in page.text and "PRIVATE" not in page.text.upper()
    store = world.app.state.services.key_store

    def active() -> set[str]:
        return {k.kid for k in store.list_keys() if k.state.value == "active"}

    before = active()
    token = csrf_of(page.text)
    wrong = world.client.post("/console/keys/rotate", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and "Tidak ada yang diubah." in wrong.text
    assert active() == before
    fresh = totp_code(secret, time.time() + 30)
    done = world.client.post(
        "/console/keys/rotate", data={"csrf_token": token, "code": fresh}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/keys?done=rotated"
    assert active() and active().isdisjoint(before)
    queued = world.app.state.services.audit_log.store.queued(EventFilter(), limit=200)
    acts = [
        (e.action.value, e.outcome.value)
        for e in map(decode_entry, queued)
        if e.actor.id == f"staff:{member.id}:operator" and e.data_items == ("signing_keys",)
    ]
    # the re-authentications (a wrong code, then a fresh one), then the rotation itself
    assert acts[::-1] == [("login", "denied"), ("login", "success"), ("update", "success")]


def test_the_keys_are_the_operators_alone(world: OidcWorld, auditor: Any) -> None:
    assert world.client.get("/console/keys").status_code == 403
    token = csrf_of(world.client.get("/console").text)
    refused = world.client.post("/console/keys/rotate", data={"csrf_token": token, "code": "1"})
    assert refused.status_code == 403


def test_an_operator_registers_an_app_and_replaces_its_secret(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    assert _sign_in(world, member.email, secret).status_code == 303
    registry = world.app.state.services.clients
    before = len(registry.list())
    token = csrf_of(world.client.get("/console/apps").text)
    bad = world.client.post(
        "/console/apps",
        data={"csrf_token": token, "name": "Layanan Kota", "scope": "openid",
              "redirect_uris": "http://layanan.example.go.id/cb"},
    )  # fmt: skip
    assert bad.status_code == 400 and "Aplikasi tidak didaftarkan." in bad.text
    assert len(registry.list()) == before
    made = world.client.post(
        "/console/apps",
        data={"csrf_token": token, "name": "Layanan Kota", "scope": "openid profile",
              "redirect_uris": "https://layanan.example.go.id/cb\n",
              "grant_type": "authorization_code"},
    )  # fmt: skip
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    shown = re.findall(r'<code class="break">([^<]+)</code></dd>', made.text)
    client_id, first_secret = shown[0], shown[1]
    assert registry.get(client_id).name == "Layanan Kota"
    assert registry.authenticate_secret(client_id, first_secret).client_id == client_id
    assert first_secret not in world.client.get("/console/apps").text  # shown once
    steady()
    rotated = world.client.post(
        f"/console/apps/{client_id}/rotate-secret",
        data={"csrf_token": token, "code": totp_code(secret, time.time() + 30)},
    )
    assert rotated.status_code == 200
    new_secret = re.findall(r'<code class="break">([^<]+)</code></dd>', rotated.text)[1]
    assert new_secret != first_secret
    assert registry.authenticate_secret(client_id, new_secret).client_id == client_id
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, "x" * 43)
    queued = world.app.state.services.audit_log.store.queued(EventFilter(), limit=200)
    acts = [
        (e.action.value, e.outcome.value, e.request_id)
        for e in map(decode_entry, queued)
        if e.actor.id == f"staff:{member.id}:operator" and e.data_items == ("relying_app",)
    ]
    assert ("create", "success", client_id) in acts and ("update", "success", client_id) in acts
    assert ("create", "denied", None) in acts


def test_the_apps_are_the_operators_alone(world: OidcWorld, auditor: Any) -> None:
    assert world.client.get("/console/apps").status_code == 403


def test_a_dpo_reports_a_breach_of_their_own_app_only(world: OidcWorld, rp: Any) -> None:
    other = world.register_app(name="JAKI", redirect_uri="https://jaki.example.go.id/cb")
    member, code = world.app.state.services.staff.add(
        name="Pejabat PD", email="ppd@dinsos.example.go.id", role="dpo", apps=(rp.client_id,),
        actor=OPERATOR,
    )  # fmt: skip
    secret = _activate(world, member.email, code)
    assert submit_login(world).status_code == 303  # the citizen uses the app
    world.consent(rp)
    world.userinfo(world.tokens(rp)["access_token"])
    world.app.state.services.audit_log.sequence(checkpoint=True)
    assert _sign_in(world, member.email, secret).status_code == 303
    page = world.client.get("/console/breach")
    assert page.status_code == 200 and f'value="{other.client_id}"' not in page.text
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    window = {"csrf_token": csrf_of(page.text), "since": today, "until": today}
    shown = world.client.post("/console/breach", data={**window, "app": rp.client_id})
    assert shown.status_code == 200 and "1 warga terdampak" in shown.text
    assert world.citizen_id in shown.text and SAMPLE["nik"] not in shown.text
    assert SAMPLE["email"] not in shown.text  # contacts only when asked
    with_contact = world.client.post(
        "/console/breach", data={**window, "app": rp.client_id, "with_contact": "yes"}
    )
    assert SAMPLE["email"] in with_contact.text
    csv = world.client.post("/console/breach", data={**window, "app": rp.client_id,
                                                     "format": "csv"})  # fmt: skip
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("citizen_id,") and world.citizen_id in csv.text
    refused = world.client.post("/console/breach", data={**window, "app": other.client_id})
    assert refused.status_code == 404
    bad = world.client.post("/console/breach", data={**window, "app": rp.client_id,
                                                     "since": "2026-13-01"})  # fmt: skip
    assert bad.status_code == 400
    world.app.state.services.audit_log.sequence(checkpoint=True)
    recorded = [
        decode_entry(leaf.entry)
        for leaf in world.app.state.services.audit_log.store.query(EventFilter(), limit=500)
    ]
    mine = [e for e in recorded if e.actor.id == f"staff:{member.id}:dpo"]
    assert sum(e.purpose == "audit-query" for e in mine) == 3  # each report, recorded
    assert any(e.purpose == "breach-notification" for e in mine)  # the contact read


def test_the_breach_report_is_not_the_operators(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    assert _sign_in(world, member.email, secret).status_code == 303
    assert world.client.get("/console/breach").status_code == 403


def test_an_operator_adds_a_purpose_by_form_with_the_clis_rules(
    world: OidcWorld, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    app = world.register_app(name="Layanan Kota", purposes=False, notice=False)
    assert _sign_in(world, member.email, secret).status_code == 303
    page = world.client.get(f"/console/apps/{app.client_id}/purposes")
    assert page.status_code == 200 and "Belum ada tujuan." in page.text
    token = csrf_of(page.text)
    fields = {"csrf_token": token, "code": "izin-usaha", "description_id": "Mengurus izin usaha",
              "description_en": "Handling business permits", "basis": "a",
              "items": "name, income:specific", "retention_days": "90"}  # fmt: skip
    for bad in ({"code": "Izin Usaha"}, {"basis": "z"}, {"items": ""},
                {"retention_days": "abc"}, {"description_id": ""}):  # fmt: skip
        refused = world.client.post(
            f"/console/apps/{app.client_id}/purposes", data={**fields, **bad}
        )
        assert refused.status_code == 400 and "Tujuan tidak ditambahkan." in refused.text
    assert world.ledger.purposes(app.client_id) == []
    added = world.client.post(
        f"/console/apps/{app.client_id}/purposes", data=fields, follow_redirects=False
    )
    assert added.status_code == 303
    (purpose,) = world.ledger.purposes(app.client_id)
    assert purpose.code == "izin-usaha" and purpose.retention_days == 90
    assert purpose.description.en == "Handling business permits"
    assert [(i.name, i.sensitivity.value) for i in purpose.data_items] == [
        ("name", "general"),
        ("income", "specific"),
    ]
    listed = world.client.get(f"/console/apps/{app.client_id}/purposes").text
    assert "Mengurus izin usaha" in listed and "Tujuan ditambahkan." not in listed
    again = world.client.post(f"/console/apps/{app.client_id}/purposes", data=fields)
    assert again.status_code == 400  # the same code twice
    assert world.client.get("/console/apps/no-such-app/purposes").status_code == 404
