"""The passkey pages (issue 18, part 2), driven as a browser with the software authenticator
of tests/webauthn_authenticator.py: registration, listing, renaming and removal on the
account page; a discoverable sign-in to a relying app (the ID token's ``amr``/``acr``);
passkey-first activation; a step-up to ``urn:jati:acr:mfa`` with a passkey; CSRF on every
form; a replayed assertion, a wrong origin and a counter going backwards refused with one
plain page (the last audited); the one script allowed by its hash and nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.entry import Action, Outcome
from identity.citizens.access_log import citizen_timeline
from identity.http.pages.activate import ACTIVATION_COOKIE
from identity.http.pages.passkeys import CEREMONY_COOKIE
from identity.login.sessions import SESSION_COOKIE
from identity.oidc.tokens import ACR_MULTI_FACTOR
from identity.service.web.security_headers import PAGE_CSP
from tests.http.test_acr import _id_token
from tests.http.test_pages_security import _assert_page_headers
from tests.oidc_helpers import OFFICIAL, OidcWorld, RelyingApp, query_of
from tests.pages_helpers import (
    begin,
    csrf_of,
    enrol_totp,
    follow,
    now_of,
    path_of,
    submit_login,
    totp_code,
)
from tests.personal_data import seeded
from tests.webauthn_authenticator import SoftAuthenticator

ORIGIN = "http://testserver"
MFA = ACR_MULTI_FACTOR
REFUSED = {"id": "Passkey ini tidak dapat dipakai kali ini.", "en": "could not be used this time"}
CLONED = "hapus passkey ini di halaman akun Anda"


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def _passkeys(world: OidcWorld, citizen_id: str | None = None) -> list[Any]:
    return list(world.app.state.services.passkeys.list(citizen_id or world.citizen_id))


def _options(world: OidcWorld, path: str, token: str, **extra: str) -> Any:
    """What the script does first: POST the form to the options path."""
    return world.client.post(path, data={"csrf_token": token, **extra})


def _finish(world: OidcWorld, path: str, token: str, credential: Any, **extra: str) -> Any:
    """What the script does last: submit the form with the response as JSON."""
    form = {"csrf_token": token, "credential": json.dumps(credential), **extra}
    return world.client.post(path, data=form, follow_redirects=False)


def add_passkey(
    world: OidcWorld, authenticator: SoftAuthenticator, name: str = "Ponsel saya"
) -> Any:
    """On the account page (signed in): options, create, finish."""
    token = csrf_of(world.client.get("/account").text)
    options = _options(world, "/account/passkeys/options", token)
    assert options.status_code == 200, options.text
    assert options.headers["cache-control"] == "no-store"
    credential = authenticator.create(options.json())
    return _finish(world, "/account/passkeys", token, credential, name=name)


def sign_in(world: OidcWorld, authenticator: SoftAuthenticator, page: str, **tamper: Any) -> Any:
    """On a page with the passkey sign-in form: options, get, finish (its form's action)."""
    html = world.client.get(page).text
    action = re.search(r'<form method="post" action="([^"]+)"[^>]*data-passkey="get"', html)
    assert action is not None, "the page offers no passkey sign-in"
    token = csrf_of(html)
    options = _options(world, "/login/passkey/options", token)
    assert options.status_code == 200, options.text
    credential = authenticator.get(options.json(), **tamper)
    return _finish(world, action.group(1).replace("&amp;", "&"), token, credential)


def _code_at_app(world: OidcWorld, rp: RelyingApp, response: Any) -> str:
    """Follow a sign-in's 303 through /authorize/resume to the app's redirect URI."""
    assert response.status_code == 303, response.text
    assert "/authorize/resume?req=" in response.headers["location"]
    answer = follow(world, response)
    location = answer.headers["location"]
    assert location.startswith(rp.redirect_uri + "?"), location
    return query_of(location)["code"]


def _denied_passkey_logins(world: OidcWorld) -> int:
    services = world.app.state.services
    services.audit_log.sequence()  # the queued entries into the log
    timeline, _ = citizen_timeline(
        services.audit_log, services.pseudonymizer, world.citizen_id, limit=500
    )
    return sum(
        1
        for e in timeline
        if e.action == Action.LOGIN.value
        and e.outcome == Outcome.DENIED.value
        and e.data_items == ("passkey",)
    )


# ---------------------------------------------------------------- the account page


def test_a_passkey_is_added_listed_renamed_and_removed_on_the_account_page(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    page = world.client.get("/account")
    _assert_page_headers(page)
    html = page.text
    assert html.index('id="passkeys"') < html.index('id="second-factor"')
    assert "Anda belum punya passkey." in html
    assert re.search(r'<form method="post" action="/account/passkeys"[^>]* hidden', html)

    added = add_passkey(world, authenticator, name="Ponsel saya")
    assert added.status_code == 200, added.text  # the first recovery codes, shown once
    assert "Passkey ditambahkan." in added.text
    assert world.app.state.services.recovery_codes.remaining(world.citizen_id) == 10
    ceremony = [c for c in added.headers.get_list("set-cookie") if c.startswith(CEREMONY_COOKIE)]
    assert ceremony and "max-age=0" in ceremony[0].lower()  # cleared after the attempt
    assert "path=/account/passkeys" in ceremony[0].lower()
    [passkey] = _passkeys(world)
    assert passkey.name == "Ponsel saya" and passkey.last_used_at is None

    html = world.client.get("/account").text
    assert "Ponsel saya" in html and "belum pernah dipakai" in html
    assert f'action="/account/passkeys/{passkey.id}/rename"' in html
    token = csrf_of(html)
    renamed = world.client.post(
        f"/account/passkeys/{passkey.id}/rename",
        data={"csrf_token": token, "name": "Laptop kantor"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    assert renamed.headers["location"] == "/account?done=passkey-renamed#passkeys"
    assert "Nama passkey diganti." in world.client.get(renamed.headers["location"]).text
    assert _passkeys(world)[0].name == "Laptop kantor"

    bad = world.client.post(
        f"/account/passkeys/{passkey.id}/rename", data={"csrf_token": token, "name": "x" * 65}
    )
    assert bad.status_code == 400 and "paling banyak 64 karakter" in bad.text
    unknown = world.client.post("/account/passkeys/nope/remove", data={"csrf_token": token})
    assert unknown.status_code == 404

    removed = world.client.post(
        f"/account/passkeys/{passkey.id}/remove",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303 and _passkeys(world) == []
    assert "Passkey dihapus." in world.client.get(removed.headers["location"]).text


def test_the_account_section_speaks_english_too(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator, name="")
    second = add_passkey(world, SoftAuthenticator(origin=ORIGIN), name="Laptop")
    assert second.status_code == 303  # unused recovery codes are kept, not shown again
    assert second.headers["location"] == "/account?done=passkey-added#passkeys"
    html = world.client.get("/account?lang=en").text
    assert "The passkey was added." in world.client.get(second.headers["location"]).text
    assert "Passkeys" in html and "never used" in html and "Add a passkey" in html
    assert "Remove the passkey Passkey" in html  # the default name, in the button's label


def test_the_options_need_a_session_and_the_finish_the_same_citizen(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    token = csrf_of(world.client.get("/login").text)
    anonymous = _options(world, "/account/passkeys/options", token)
    assert anonymous.status_code == 401 and "message" in anonymous.json()
    world.login()
    token = csrf_of(world.client.get("/account").text)
    options = _options(world, "/account/passkeys/options", token).json()
    other = world.register_citizen(seeded_citizen())
    world.login(other)  # another citizen signs in on this browser, the ceremony cookie stays
    response = _finish(world, "/account/passkeys", token, authenticator.create(options))
    assert response.status_code == 400 and REFUSED["id"] in response.text
    assert _passkeys(world) == [] and _passkeys(world, other) == []


def seeded_citizen() -> dict[str, str]:
    nik, name = seeded("3171010101900021", "Rina Marlina Hasibuan")
    return {"nik": nik, "name": name, "birthdate": "1990-01-01"}


# ---------------------------------------------------------------- sign-in


def test_a_passkey_signs_in_to_a_relying_app_without_a_nik(
    world: OidcWorld, rp: RelyingApp, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator)
    world.consent(rp)
    world.logout()
    req = begin(world, rp, state="st-pk")
    login = world.client.get(f"/login?req={req}")
    _assert_page_headers(login)
    section = re.search(r"<section class=\"passkey\"[^>]*>", login.text)
    assert section is not None and " hidden" in section.group(0)  # shown by the script only
    assert login.text.index('data-passkey="get"') < login.text.index('id="nik"')

    response = sign_in(world, authenticator, f"/login?req={req}")
    code = _code_at_app(world, rp, response)
    claims = _id_token(world, rp, code)
    assert claims["acr"] == MFA and claims["amr"] == ["hwk", "user", "mfa"]
    session = world.app.state.services.sessions.get(world.client.cookies.get(SESSION_COOKIE))
    assert session is not None and session.citizen_id == world.citizen_id
    assert _passkeys(world)[0].last_used_at is not None


def test_a_synced_passkey_is_a_software_key(world: OidcWorld, rp: RelyingApp) -> None:
    synced = SoftAuthenticator(origin=ORIGIN, backup_eligible=True, backed_up=True, counter_step=0)
    world.login()
    add_passkey(world, synced)
    world.consent(rp)
    world.logout()
    req = begin(world, rp)
    code = _code_at_app(world, rp, sign_in(world, synced, f"/login?req={req}"))
    assert _id_token(world, rp, code)["amr"] == ["swk", "user", "mfa"]


def test_a_replayed_assertion_is_refused(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator)
    world.logout()
    html = world.client.get("/login").text
    token = csrf_of(html)
    options = _options(world, "/login/passkey/options", token)
    state = options.cookies[CEREMONY_COOKIE]
    credential = authenticator.get(options.json())
    first = _finish(world, "/login/passkey", token, credential)
    assert first.status_code == 303 and first.headers["location"] == "/account"
    world.logout()
    # an attacker who kept the response and the ceremony cookie sends both again
    world.client.cookies.set(CEREMONY_COOKIE, state, path="/login/passkey")
    again = _finish(world, "/login/passkey", csrf_of(world.client.get("/login").text), credential)
    assert again.status_code == 400 and REFUSED["id"] in again.text
    assert "replay" not in again.text.lower() and world.client.cookies.get(SESSION_COOKIE) is None
    assert 'href="/help/sign-in"' in again.text and "Tidak bisa masuk?" in again.text


def test_a_wrong_origin_or_rp_id_is_refused(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator)
    world.logout()
    for tamper in ({"origin": "https://jati.example.evil"}, {"rp_id": "example.evil"}):
        refused = sign_in(world, authenticator, "/login?lang=en", **tamper)
        assert refused.status_code == 400 and REFUSED["en"] in refused.text
        assert "origin" not in refused.text.lower() and "rp" not in refused.text.lower()
        assert world.client.cookies.get(SESSION_COOKIE) is None
    assert _passkeys(world)[0].last_used_at is None


def test_a_counter_going_backwards_is_refused_and_audited(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator)
    world.logout()
    assert sign_in(world, authenticator, "/login").status_code == 303  # counter 1
    world.logout()
    assert _denied_passkey_logins(world) == 0
    cloned = sign_in(world, authenticator, "/login", counter=1)  # not greater: a clone?
    assert cloned.status_code == 400 and CLONED in cloned.text
    assert 'href="/help/sign-in"' in cloned.text
    assert world.client.cookies.get(SESSION_COOKIE) is None
    assert _denied_passkey_logins(world) == 1


def test_an_unknown_request_or_a_missing_ceremony_is_refused(
    world: OidcWorld, authenticator: SoftAuthenticator
) -> None:
    world.login()
    add_passkey(world, authenticator)
    world.logout()
    token = csrf_of(world.client.get("/login").text)
    assert world.client.get("/login/passkey?req=not-a-request").status_code == 400
    options = _options(world, "/login/passkey/options", token).json()
    world.client.cookies.delete(CEREMONY_COOKIE)
    response = _finish(world, "/login/passkey", token, authenticator.get(options))
    assert response.status_code == 400 and REFUSED["id"] in response.text
    malformed = _finish(world, "/login/passkey", token, "not json at all")
    assert malformed.status_code == 400 and REFUSED["id"] in malformed.text


# ---------------------------------------------------------------- step-up


def test_a_passkey_steps_up_a_password_session_for_the_multi_factor_acr(
    world: OidcWorld, rp: RelyingApp, authenticator: SoftAuthenticator
) -> None:
    world.login()  # the password alone
    add_passkey(world, authenticator)
    world.consent(rp)
    old_cookie = world.client.cookies.get(SESSION_COOKIE)
    location = world.authorize(rp, acr_values=MFA, state="st-up").headers["location"]
    assert urlsplit(location).path == "/login/otp" and "code=" not in location
    to_passkey = world.client.get(path_of(location), follow_redirects=False)
    assert to_passkey.status_code == 303  # no TOTP: the passkey is the way up
    page_path = to_passkey.headers["location"]
    assert urlsplit(page_path).path == "/login/passkey"
    page = world.client.get(page_path)
    _assert_page_headers(page)
    assert "Dinas Sosial meminta verifikasi tambahan" in page.text
    assert (
        "form-action 'self' https://dinsos.example.go.id" in page.headers["content-security-policy"]
    )
    code = _code_at_app(world, rp, sign_in(world, authenticator, page_path))
    claims = _id_token(world, rp, code)
    assert claims["acr"] == MFA and claims["amr"] == ["hwk", "user", "mfa"]
    assert world.app.state.services.sessions.get(old_cookie) is None


def test_a_citizen_with_totp_and_a_passkey_is_offered_both_at_the_step_up(
    world: OidcWorld, rp: RelyingApp, authenticator: SoftAuthenticator
) -> None:
    secret = enrol_totp(world)
    world.login()
    add_passkey(world, authenticator)
    world.consent(rp)
    location = world.authorize(rp, acr_values=MFA).headers["location"]
    page = world.client.get(path_of(location))
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    assert 'data-passkey="get"' in page.text
    done = world.client.post(  # the TOTP path, as before
        path_of(location),
        data={"csrf_token": csrf_of(page.text), "code": totp_code(secret, now_of(world))},
        follow_redirects=False,
    )
    claims = _id_token(world, rp, _code_at_app(world, rp, done))
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp"]


def test_without_totp_or_passkey_there_is_no_step_up(world: OidcWorld, rp: RelyingApp) -> None:
    world.consent(rp)
    req = begin(world, rp, acr_values=MFA)
    resumed = follow(world, submit_login(world, req))
    assert resumed.headers["location"].startswith(rp.redirect_uri)  # a password-level code
    assert world.client.get(f"/login/otp?req={req}").status_code == 400


# ---------------------------------------------------------------- activation


@pytest.fixture
def registered(world: OidcWorld) -> tuple[str, str]:
    nik, name = seeded("3171010101900017", "Yusuf Hidayat Nasution")
    citizen_id, code = world.app.state.services.account_access.register(
        nik=nik, name=name, birthdate=date(1990, 1, 1), actor=OFFICIAL
    )
    seeded(code)
    page = world.client.get("/activate")
    form = {"csrf_token": csrf_of(page.text), "nik": nik, "birthdate": "1990-01-01", "code": code}
    ticket = world.client.post("/activate", data=form, follow_redirects=False)
    assert ticket.status_code == 303 and ticket.headers["location"] == "/activate/setup"
    return citizen_id, code


def test_activation_with_a_passkey_first(
    world: OidcWorld, authenticator: SoftAuthenticator, registered: tuple[str, str]
) -> None:
    citizen_id, _ = registered
    setup = world.client.get("/activate/setup")
    _assert_page_headers(setup)
    html = setup.text
    assert html.index('data-passkey="create"') < html.index('id="password"')
    assert "Buat passkey (disarankan)" in html
    token = csrf_of(html)
    options = _options(world, "/activate/passkey/options", token)
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    done = _finish(world, "/activate/passkey", token, credential, name="Ponsel")
    assert done.status_code == 200, done.text  # the recovery codes, shown once
    set_cookies = done.headers.get_list("set-cookie")
    assert any(
        c.startswith(f"{ACTIVATION_COOKIE}=") and "max-age=0" in c.lower() for c in set_cookies
    )
    session = world.app.state.services.sessions.get(world.client.cookies.get(SESSION_COOKIE))
    assert session is not None and session.citizen_id == citizen_id
    assert session.acr == MFA and tuple(session.amr) == ("hwk", "user", "mfa")
    assert world.app.state.services.activations.pending(citizen_id) is None  # code used up
    assert [p.name for p in _passkeys(world, citizen_id)] == ["Ponsel"]
    assert "Akun Anda aktif dan passkey Anda siap dipakai." in done.text
    assert world.app.state.services.recovery_codes.remaining(citizen_id) == 10
    # the same ticket cannot activate again
    again = _finish(world, "/activate/passkey", token, credential)
    assert again.status_code == 400 and len(_passkeys(world, citizen_id)) == 1


def test_the_only_passkey_of_a_citizen_without_a_password_stays(
    world: OidcWorld, authenticator: SoftAuthenticator, registered: tuple[str, str]
) -> None:
    citizen_id, _ = registered
    token = csrf_of(world.client.get("/activate/setup").text)
    options = _options(world, "/activate/passkey/options", token)
    done = _finish(world, "/activate/passkey", token, authenticator.create(options.json()))
    assert done.status_code == 200, done.text
    (only,) = _passkeys(world, citizen_id)
    token = csrf_of(world.client.get("/account").text)
    refused = world.client.post(
        f"/account/passkeys/{only.id}/remove", data={"csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 409 and "satu-satunya cara Anda masuk" in refused.text
    assert [p.id for p in _passkeys(world, citizen_id)] == [only.id]
    laptop = SoftAuthenticator(origin=ORIGIN)  # another device
    assert add_passkey(world, laptop, "Laptop").status_code in (200, 303)
    removed = world.client.post(
        f"/account/passkeys/{only.id}/remove", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303  # with a second one, the first may go
    assert [p.name for p in _passkeys(world, citizen_id)] == ["Laptop"]


def test_a_used_code_rolls_the_passkey_back(
    world: OidcWorld, authenticator: SoftAuthenticator, registered: tuple[str, str]
) -> None:
    citizen_id, _ = registered
    token = csrf_of(world.client.get("/activate/setup").text)
    options = _options(world, "/activate/passkey/options", token).json()
    ticket = world.client.cookies.get(ACTIVATION_COOKIE)
    access = world.app.state.services.account_access
    opened = world.app.state.activation_cookies.open(ticket)
    access.activate_with_password(opened, "kata sandi di tab lain")  # another tab was faster
    done = _finish(world, "/activate/passkey", token, authenticator.create(options))
    assert done.status_code == 400 and "sudah tidak berlaku" in done.text
    assert _passkeys(world, citizen_id) == []  # nothing of the passkey was kept


# ---------------------------------------------------------------- CSRF, CSP, script


def test_without_the_csrf_token_nothing_changes(
    world: OidcWorld, authenticator: SoftAuthenticator, registered: tuple[str, str]
) -> None:
    citizen_id, _ = registered
    for path in ("/login/passkey/options", "/activate/passkey/options"):
        refused = world.client.post(path, data={})
        assert refused.status_code == 403 and "message" in refused.json()
        assert CEREMONY_COOKIE not in refused.headers.get("set-cookie", "")
    token = csrf_of(world.client.get("/activate/setup").text)
    options = _options(world, "/activate/passkey/options", token).json()
    credential = authenticator.create(options)
    forged = _finish(world, "/activate/passkey", "forged", credential)
    assert forged.status_code == 403
    assert _passkeys(world, citizen_id) == []
    assert world.app.state.services.activations.pending(citizen_id) is not None

    world.login()
    add_passkey(world, authenticator)
    [passkey] = _passkeys(world)
    token = csrf_of(world.client.get("/account").text)
    options = _options(world, "/account/passkeys/options", token).json()
    forged_add = _finish(world, "/account/passkeys", "", SoftAuthenticator(ORIGIN).create(options))
    assert forged_add.status_code == 403
    for action, extra in (("rename", {"name": "Dicuri"}), ("remove", {})):
        response = world.client.post(f"/account/passkeys/{passkey.id}/{action}", data=extra)
        assert response.status_code == 403
    assert [(p.id, p.name) for p in _passkeys(world)] == [(passkey.id, "Ponsel saya")]


def test_the_csp_allows_the_served_script_by_its_hash_and_nothing_else(
    world: OidcWorld,
) -> None:
    digests = []
    for script in ("/static/webauthn.js", "/static/proof.js"):  # the console's proof checker
        served = world.client.get(script)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/javascript")
        digests.append(base64.b64encode(hashlib.sha256(served.content).digest()).decode())
    for path in ("/login", "/activate", "/"):
        page = world.client.get(path)
        csp = page.headers["content-security-policy"]
        [script_src] = [d.strip() for d in csp.split(";") if d.strip().startswith("script-src")]
        assert script_src == "script-src " + " ".join(f"'sha256-{d}'" for d in digests)
        assert "'self'" not in script_src and "unsafe" not in csp
        assert "connect-src 'self'" in csp
    digest = digests[0]
    assert f"script-src 'sha256-{digest}'" in PAGE_CSP
    login = world.client.get("/login").text
    tags = re.findall(r"<script[^>]*>(.*?)</script>", login, re.S)
    assert tags == [""]  # one script, external, nothing inline
    assert f'<script src="/static/webauthn.js" integrity="sha256-{digest}" defer></script>' in login
    assert "<script" not in world.client.get("/activate").text  # only where it is needed
