"""No lost actions: a form posted after the session expired is kept, sealed and without its
secrets, for the same citizen only; after sign-in they are back at the form, refilled, and
nothing is done until they send it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx2 import Response
from sqlalchemy import text

from consent.grants import GrantStatus
from identity.http.pages.intent import INTENT_COOKIE
from identity.login.sessions import SESSION_COOKIE, session_id_of
from identity.storage.database import Database
from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, submit_login
from tests.personal_data import citizen

NEW_EMAIL = "alamat.baru@contoh.go.id"


@pytest.fixture
def signed_in(world: OidcWorld) -> OidcWorld:
    assert submit_login(world).status_code == 303
    return world


def _expire(world: OidcWorld, database: Database) -> None:
    """The browser's session expires (a minute ago), as after a long pause on a form."""
    cookie = world.client.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    with database.write() as session:
        session.execute(
            text("UPDATE identity_session SET expires_at = :at WHERE id = :id"),
            {"at": datetime.now(UTC) - timedelta(minutes=1), "id": session_id_of(cookie)},
        )


def _post(world: OidcWorld, path: str, token: str, **fields: str) -> Response:
    return world.client.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)


def _correction(world: OidcWorld, token: str) -> Response:
    return _post(world, "/account/requests", token, kind="correction", **{"field-email": NEW_EMAIL})


def test_a_correction_posted_after_expiry_comes_back_refilled_and_is_sent_only_when_sent(
    signed_in: OidcWorld, database: Database
) -> None:
    world = signed_in
    requests = world.app.state.services.subject_requests
    token = csrf_of(world.client.get("/account").text)
    _expire(world, database)
    response = _correction(world, token)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    sealed = world.client.cookies.get(INTENT_COOKIE)
    assert sealed and NEW_EMAIL not in sealed and "correction" not in sealed  # sealed
    assert requests.requests_of(world.citizen_id) == []

    login = world.client.get("/login").text
    assert "Sesi berakhir; permintaan belum dikirim." in login
    signed = submit_login(world)
    assert signed.status_code == 303 and signed.headers["location"] == "/account#requests"
    assert requests.requests_of(world.citizen_id) == []  # nothing done at sign-in

    page = world.client.get("/account").text
    assert "Permintaan belum dikirim" in page
    assert 'value="correction" required checked' in page
    assert (
        f'name="field-email" type="email" maxlength="500" autocomplete="off" value="{NEW_EMAIL}"'
        in page
    )
    assert "Permintaan belum dikirim" not in world.client.get("/account").text  # shown once
    assert _correction(world, csrf_of(page)).status_code == 303
    assert len(requests.requests_of(world.citizen_id)) == 1


def test_another_citizen_on_the_same_browser_never_sees_the_kept_form(
    signed_in: OidcWorld, database: Database
) -> None:
    world = signed_in
    token = csrf_of(world.client.get("/account").text)
    _expire(world, database)
    assert _correction(world, token).status_code == 303
    other = citizen(nik="3171014101900077", name="Orang Lain Sekali", birthdate="1990-01-01")
    world.register_citizen(other)
    signed = submit_login(world, nik=other["nik"])
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    page = world.client.get("/account").text
    assert NEW_EMAIL not in page and "Permintaan belum dikirim" not in page


def test_a_signed_out_browser_keeps_nothing(world: OidcWorld) -> None:
    token = csrf_of(world.client.get("/login").text)
    response = _correction(world, token)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert world.client.cookies.get(INTENT_COOKIE) is None
    assert "permintaan belum dikirim" not in world.client.get("/login").text


def test_a_withdrawal_after_expiry_waits_on_the_apps_page(
    signed_in: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    world = signed_in
    grants = world.consent(rp)
    token = csrf_of(world.client.get("/account/apps").text)
    _expire(world, database)
    response = _post(world, f"/account/consents/{grants[0].grant_id}/withdraw", token, back="apps")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert submit_login(world).headers["location"] == "/account/apps"
    assert world.ledger.grant(world.citizen_id, grants[0].grant_id).status is GrantStatus.ACTIVE
    assert "Permintaan belum dikirim" in world.client.get("/account/apps").text


def test_an_erasure_after_expiry_comes_back_without_the_statement_or_the_password(
    signed_in: OidcWorld, database: Database
) -> None:
    world = signed_in
    token = csrf_of(world.client.get("/account/erase").text)
    _expire(world, database)
    fields = {"confirm-erasure": "yes", "method": "password", "password": PASSWORD}
    assert _post(world, "/account/erase", token, **fields).status_code == 303
    assert world.app.state.services.citizens.tombstone(world.citizen_id) is None
    assert submit_login(world).headers["location"] == "/account/erase"
    intents = world.app.state.intents
    opened = intents.open_fields(world.client.cookies.get(INTENT_COOKIE))
    assert opened is not None and "password" not in opened["f"] and "csrf_token" not in opened["f"]
    assert "confirm-erasure" not in opened["f"]  # an irreversible act is ticked again by hand
    page = world.client.get("/account/erase").text
    assert "Permintaan belum dikirim" in page
    assert 'value="yes" required checked' not in page and PASSWORD not in page
    assert world.app.state.services.citizens.tombstone(world.citizen_id) is None
