"""One relying app's console page (issue 20, part 2): an operator edits its redirect URIs
under the rules of registration and takes it out of service behind a fresh authenticator
code; a disabled app is unknown to every protocol path, its refresh tokens revoked, while a
citizen's log still names it. Each act is recorded under the operator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from audit.entry import decode_entry
from audit.records import EventFilter
from identity.staff.records import StaffMember
from tests.console_helpers import activate, add_staff, sign_in, steady
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, submit_login, totp_code


@pytest.fixture
def operator(world: OidcWorld) -> tuple[StaffMember, bytes]:
    member, code = add_staff(world, "operator", "ops@kominfo.example.go.id")
    secret = activate(world, member.email, code)
    assert sign_in(world, member.email, secret).status_code == 303
    return member, secret


def _acts(world: OidcWorld, member: StaffMember) -> list[tuple[str, str, tuple[str, ...]]]:
    queued = world.app.state.services.audit_log.store.queued(EventFilter(), limit=500)
    return [
        (e.action.value, e.outcome.value, e.data_items)
        for e in map(decode_entry, queued)
        if e.actor.id == f"staff:{member.id}:operator" and e.data_items[0].startswith("relying_app")
    ][::-1]


def test_an_operator_edits_the_redirect_uris_under_the_rules_of_registration(
    world: OidcWorld, rp: Any, operator: tuple[StaffMember, bytes]
) -> None:
    member, _secret = operator
    page = world.client.get(f"/console/apps/{rp.client_id}")
    assert page.status_code == 200 and rp.redirect_uri in page.text
    token = csrf_of(page.text)
    bad = world.client.post(
        f"/console/apps/{rp.client_id}/redirect-uris",
        data={"csrf_token": token, "redirect_uris": "http://dinsos.example.go.id/cb"},
    )
    assert bad.status_code == 400 and "URI pengalihan tidak diubah" in bad.text
    assert "http://dinsos.example.go.id/cb" in bad.text  # the operator's typing, kept
    registry = world.app.state.services.clients
    assert registry.get(rp.client_id).redirect_uris == (rp.redirect_uri,)
    new = "https://dinsos.example.go.id/v2/callback"
    saved = world.client.post(
        f"/console/apps/{rp.client_id}/redirect-uris",
        data={"csrf_token": token, "redirect_uris": f"{new}\n\n{rp.redirect_uri}\n"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert registry.get(rp.client_id).redirect_uris == (new, rp.redirect_uri)
    assert "URI pengalihan disimpan." in world.client.get(saved.headers["location"]).text
    assert world.authorize(rp, redirect_uri=new).status_code in (200, 303)  # now allowed
    uris = ("relying_app:redirect_uris",)
    assert _acts(world, member) == [("update", "denied", uris), ("update", "success", uris)]


def test_a_disabled_app_is_refused_everywhere_until_put_back_in_service(
    world: OidcWorld, rp: Any, operator: tuple[StaffMember, bytes]
) -> None:
    member, secret = operator
    assert submit_login(world).status_code == 303  # a citizen who uses the app
    world.consent(rp)
    tokens = world.tokens(rp)
    token = csrf_of(world.client.get(f"/console/apps/{rp.client_id}").text)
    wrong = world.client.post(
        f"/console/apps/{rp.client_id}/disable", data={"csrf_token": token, "code": "000000"}
    )
    assert wrong.status_code == 400
    assert world.app.state.services.clients.get(rp.client_id).active
    steady()
    disabled = world.client.post(
        f"/console/apps/{rp.client_id}/disable",
        data={"csrf_token": token, "code": totp_code(secret, time.time() + 30)},
        follow_redirects=False,
    )
    assert disabled.status_code == 303
    page = world.client.get(disabled.headers["location"]).text
    assert "Dinonaktifkan sejak" in page and "Aktifkan kembali" in page
    assert world.authorize(rp).status_code == 400  # no redirect to an unknown app
    assert world.refresh(rp, tokens["refresh_token"]).status_code == 401
    assert world.userinfo(tokens["access_token"]).status_code == 401
    code, verifier = "x" * 43, "y" * 43
    assert world.exchange(rp, code, verifier).status_code == 401
    apps = world.client.get("/account/apps")  # the citizen still sees whom they told
    name = world.app.state.services.clients.find(rp.client_id).name
    assert apps.status_code == 200 and name in apps.text
    # the next step's code has not come yet: forget the last one, as time would
    with world.app.state.services.database.write() as session:
        session.execute(text("UPDATE identity_staff SET totp_last_step = NULL"))
    enabled = world.client.post(
        f"/console/apps/{rp.client_id}/enable",
        data={"csrf_token": token, "code": totp_code(secret, time.time())},
        follow_redirects=False,
    )
    assert enabled.status_code == 303
    assert world.app.state.services.clients.get(rp.client_id).active
    assert world.refresh(rp, tokens["refresh_token"]).status_code == 400  # stays revoked
    assert world.tokens(rp)["access_token"]  # a new sign-in works again
    assert _acts(world, member) == [  # each fresh code's check, then the act
        ("login", "denied", ("relying_app:disable",)),
        ("login", "success", ("relying_app:disable",)),
        ("restrict", "success", ("relying_app",)),
        ("login", "success", ("relying_app:enable",)),
        ("update", "success", ("relying_app",)),
    ]


def test_the_app_page_is_the_operators_alone(world: OidcWorld, rp: Any) -> None:
    paths = [f"/console/apps/{rp.client_id}"]
    posts = [f"/console/apps/{rp.client_id}/{act}" for act in
             ("redirect-uris", "disable", "enable")]  # fmt: skip
    for path in paths:
        assert world.client.get(path).status_code == 401
    member, code = add_staff(world, "auditor", "pemeriksa@bpk.example.go.id")
    secret = activate(world, member.email, code)
    assert sign_in(world, member.email, secret).status_code == 303
    token = csrf_of(world.client.get("/console").text)
    for path in paths:
        assert world.client.get(path).status_code == 403
    for path in posts:
        assert world.client.post(path, data={"csrf_token": token}).status_code == 403
    assert world.app.state.services.clients.get(rp.client_id).active


def test_an_unknown_app_answers_404(world: OidcWorld, operator: Any) -> None:
    token = csrf_of(world.client.get("/console").text)
    assert world.client.get("/console/apps/no-such-app").status_code == 404
    for act in ("redirect-uris", "disable", "enable"):
        answer = world.client.post(f"/console/apps/no-such-app/{act}", data={"csrf_token": token})
        assert answer.status_code == 404
