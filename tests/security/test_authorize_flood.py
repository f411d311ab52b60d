"""Issue 17, defect 9: unauthenticated ``/authorize`` filled the database (2,000 calls from
one address stored 8.9 MB of pending requests, about 4.5 KB each).

A pending request now travels sealed in ``req``
(:class:`identity.oidc.sealed_request.RequestSealer`) through the login page, the second
factor and the consent screen; the database records a request only once it is answered to
an authenticated citizen, to keep the code single-use. So what a caller without a session
can make Jati store through ``/authorize``, the login and consent pages and
``/authorize/resume`` is nothing at all: zero rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import text

from identity.storage.database import Database
from tests.helpers import row_counts
from tests.oidc_helpers import OidcWorld, RelyingApp, query_of
from tests.pages_helpers import begin, follow, submit_login

CALLS = 2_000
#: What an attacker sends to make each pending request as large as Jati accepts.
LARGEST = {
    "state": "s" * 1024,
    "nonce": "n" * 512,
    "login_hint": "h" * 256,
    "ui_locales": " ".join(["id-ID-x-" + "a" * 8] * 10),
}


def test_unauthenticated_authorize_calls_from_one_address_store_nothing(
    world: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    before = row_counts(database)
    reqs = []
    for _ in range(CALLS):
        response = world.authorize(rp, **LARGEST)
        assert response.status_code == 303
        location = response.headers["location"]
        assert urlsplit(location).path == "/login"
        reqs.append(query_of(location)["req"])
    assert len(set(reqs)) == CALLS
    # Carrying a request on without a session stores nothing either.
    for req in reqs[:20]:
        assert world.client.get(f"/login?req={req}").status_code == 200
        assert world.client.get(f"/login/otp?req={req}").status_code == 400  # no password yet
        consent = world.client.get(f"/consent?req={req}", follow_redirects=False)
        assert urlsplit(consent.headers["location"]).path == "/login"
        resumed = world.client.get(f"/authorize/resume?req={req}", follow_redirects=False)
        assert urlsplit(resumed.headers["location"]).path == "/login"
        denied = world.client.get(f"/authorize/resume?req={req}&denied=1", follow_redirects=False)
        assert query_of(denied.headers["location"])["error"] == "access_denied"
    assert row_counts(database) == before


def test_a_sealed_request_fits_in_a_url(world: OidcWorld, rp: RelyingApp) -> None:
    """A usual request's ``req`` stays well under 2 KB; the largest one Jati accepts stays
    under the size of the query the app sent, with a third added for base64."""
    usual = begin(world, rp, login_hint="3171014101900003")
    assert len(usual) < 1024
    largest = world.authorize(rp, **LARGEST)
    req = query_of(largest.headers["location"])["req"]
    sent = len(urlsplit(str(largest.request.url)).query)
    assert len(req) < 1024 < sent  # compressed: the attacker's padding costs nothing
    assert len(req) < sent * 4 // 3


def test_the_sealed_request_yields_one_code(
    world: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    """Replay: the same ``req`` after its code was issued shows no page and issues no code
    (as when the request was a row deleted on issuance)."""
    world.consent(rp)
    req = begin(world, rp)
    answer = follow(world, submit_login(world, req))
    assert "code" in query_of(answer.headers["location"])
    with database.read() as session:
        codes = session.execute(text("SELECT COUNT(*) FROM identity_authorization_code"))
        assert codes.scalar_one() == 1
    again = world.client.get(f"/authorize/resume?req={req}", follow_redirects=False)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"
    assert world.client.get(f"/consent?req={req}").status_code == 400
    assert world.client.get(f"/login?req={req}").status_code == 400
    with database.read() as session:
        codes = session.execute(text("SELECT COUNT(*) FROM identity_authorization_code"))
        assert codes.scalar_one() == 1
