"""An erasure ends every token of the citizen (issue 17, defect 1), on SQLite and PostgreSQL.

UU PDP Art. 43-44: once a citizen is erased, nothing issued to them stays usable. Erasure,
over ``POST /me/requests`` and over ``jati citizen erase`` (a real process, as an operator
runs it), revokes every token family of the citizen in the erasure's own transaction, and
drops their authorization codes and login sessions there too. Afterwards:

- every refresh token is refused with ``invalid_grant``: one never used, and one rotated
  just before the erasure by a worker that therefore remembers its family; the fast paths
  (PostgreSQL's one-statement rotation on the event loop, SQLite's conditional write) are
  tried and refuse, because the rotation statement reads the family's revocation itself;
- every access token answers 401 ``invalid_token`` at ``/userinfo``, ``/me/consents``,
  ``/me/access-log``, ``POST /me/requests`` and the credential endpoint, and introspection
  calls it inactive; so does a citizen API token that belongs to no family;
- a code issued before the erasure is not redeemed, and the old session cookie gets no code;
- the audit log has no ``token_issued`` or ``read`` entry about the citizen after the
  ``erase`` entry: nothing was issued or released.

Another citizen's tokens keep working throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from audit.entry import Action, AuditEntry, decode_entry
from audit.storage.tables import AuditQueue
from tests.helpers import operator_env, run_jati
from tests.oidc_helpers import BUDI, OFFICIAL, OidcWorld, RelyingApp

#: A first-party app: its access tokens are for Jati's own APIs and for userinfo.
SCOPE = "openid profile email me identity_credential"
ERASURE_PATHS = ("me-requests", "cli")


def consented(world: OidcWorld, app: RelyingApp) -> RelyingApp:
    """``app`` with the citizen logged in and consenting to its purposes."""
    world.login()
    world.consent(app)
    return app


@pytest.fixture
def rp(world: OidcWorld, rp: RelyingApp) -> RelyingApp:
    """The shared relying app, consented to: its access tokens are for itself (userinfo,
    introspection)."""
    return consented(world, rp)


@pytest.fixture
def city(world: OidcWorld) -> RelyingApp:
    """A first-party app: its access tokens are also for Jati's own APIs."""
    return consented(world, world.register_app(name="Jakarta Kita", scope=SCOPE))


@pytest.fixture
def erase(world: OidcWorld, tmp_path: Path, database_url: str) -> Callable[[str, str, str], None]:
    """``erase(how, citizen_id, access_token)``: the citizen's own erasure request, or the
    operator's ``jati citizen erase`` in another process (this worker keeps its memory)."""

    def run(how: str, citizen_id: str, access_token: str) -> None:
        if how == "me-requests":
            response = world.client.post(
                "/me/requests",
                json={"kind": "erasure"},
                headers={"Authorization": f"Bearer {access_token}"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "completed"
            return
        env = operator_env(tmp_path, database_url)
        result = run_jati("citizen", "erase", citizen_id, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr

    return run


class FastPaths:
    """Records what the refresh grant's conditional writes answered (True: rotated):
    ``on-loop`` (PostgreSQL's one statement on the event loop) and ``alone`` (the same
    statement in a thread; SQLite's conditional write)."""

    def __init__(self, world: OidcWorld, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[tuple[str, bool]] = []
        store = world.app.state.services.token_service.refresh_grant.store
        self.on_loop = store.rotates_on_loop
        alone, on_loop = store.rotate_alone, store.rotate_on_loop

        def rotate_alone(rotation: Any) -> bool:
            rotated: bool = alone(rotation)
            self.answers.append(("alone", rotated))
            return rotated

        async def rotate_on_loop(rotation: Any) -> bool:
            rotated: bool = await on_loop(rotation)
            self.answers.append(("on-loop", rotated))
            return rotated

        monkeypatch.setattr(store, "rotate_alone", rotate_alone)
        monkeypatch.setattr(store, "rotate_on_loop", rotate_on_loop)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _bearer_answers(world: OidcWorld, token: str) -> dict[str, int]:
    """The status of each bearer endpoint for ``token`` (a 401 must be RFC 6750's)."""
    client = world.client
    responses = {
        "userinfo": world.userinfo(token),
        "consents": client.get("/me/consents", headers=_bearer(token)),
        "access-log": client.get("/me/access-log", headers=_bearer(token)),
        "requests": client.post("/me/requests", json={"kind": "access"}, headers=_bearer(token)),
        "credential": client.post("/credential", json={}, headers=_bearer(token)),
    }
    for name, response in responses.items():
        if response.status_code == 401:
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer"), name
            assert name == "userinfo" or 'error="invalid_token"' in challenge, name
    return {name: response.status_code for name, response in responses.items()}


def _entries(world: OidcWorld) -> list[AuditEntry]:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry).order_by(AuditQueue.id)).all()
    return [decode_entry(bytes(row)) for row in rows]


def _after_erasure(world: OidcWorld, citizen_id: str) -> list[AuditEntry]:
    """The entries about the citizen queued after their ``erase`` entry."""
    subject = world.app.state.services.pseudonymizer.pseudonym(citizen_id)
    about = [e for e in _entries(world) if e.subject == subject]
    erased = [i for i, e in enumerate(about) if e.action is Action.ERASE]
    assert len(erased) == 1
    return about[erased[0] + 1 :]


@pytest.mark.parametrize("how", ERASURE_PATHS)
def test_erasure_ends_every_token_of_the_citizen(
    world: OidcWorld,
    rp: RelyingApp,
    city: RelyingApp,
    erase: Callable[[str, str, str], None],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    first = world.tokens(city, scope=SCOPE)
    rotated = world.refresh(city, first["refresh_token"])  # this worker now knows the family
    assert rotated.status_code == 200, rotated.text
    last = rotated.json()
    assert world.userinfo(last["access_token"]).json()["email"]
    before = _bearer_answers(world, last["access_token"])
    assert before == {  # the credential request is empty: refused, after the token passed
        "userinfo": 200, "consents": 200, "access-log": 200, "requests": 201, "credential": 400
    }  # fmt: skip
    plain = world.tokens(rp)  # another family, its refresh token never used
    assert world.userinfo(plain["access_token"]).json()["email"]
    assert world.introspect(rp, plain["access_token"])["active"] is True
    for app, refresh_token in ((city, last["refresh_token"]), (rp, plain["refresh_token"])):
        assert world.introspect(app, refresh_token)["active"] is True
    budi = world.register_citizen(BUDI)  # another citizen, whose tokens must keep working
    world.login(budi)
    world.consent(city, budi)
    budis = world.tokens(city, scope=SCOPE)
    fast = FastPaths(world, monkeypatch)

    erase(how, world.citizen_id, last["access_token"])

    for app, refresh_token in ((city, last["refresh_token"]), (rp, plain["refresh_token"])):
        refused = world.refresh(app, refresh_token)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_grant"
        assert world.introspect(app, refresh_token) == {"active": False}
    # This worker remembers both families, so each refresh tried the conditional write,
    # which refused by itself: the statement reads the family's revocation. On PostgreSQL
    # the event loop's statement was tried first, unless the erasure told this worker's
    # consent cache (over /me/requests), which sends the refresh to a thread at once.
    paths = [path for path, _ in fast.answers]
    assert paths.count("alone") == 2
    assert paths.count("on-loop") == (2 if fast.on_loop and how == "cli" else 0)
    assert not any(rotated for _, rotated in fast.answers)
    for access_token in (first["access_token"], last["access_token"]):
        assert set(_bearer_answers(world, access_token).values()) == {401}
    refused_info = world.userinfo(plain["access_token"])
    assert refused_info.status_code == 401
    assert 'error="invalid_token"' in refused_info.headers["www-authenticate"]
    assert world.introspect(rp, plain["access_token"]) == {"active": False}

    after = _after_erasure(world, world.citizen_id)
    assert [e for e in after if e.action in (Action.TOKEN_ISSUED, Action.READ)] == []

    # The other citizen is untouched: their refresh token rotates, their token still works.
    assert world.refresh(city, budis["refresh_token"]).status_code == 200
    answers = _bearer_answers(world, budis["access_token"])
    assert answers["userinfo"] == answers["consents"] == answers["access-log"] == 200


@pytest.mark.parametrize("how", ERASURE_PATHS)
def test_a_code_or_a_session_from_before_the_erasure_gives_no_token(
    world: OidcWorld, city: RelyingApp, erase: Callable[[str, str, str], None], how: str
) -> None:
    access_token = world.tokens(city, scope=SCOPE)["access_token"]
    code, verifier = world.code_for(city, scope=SCOPE)  # issued, not yet redeemed

    erase(how, world.citizen_id, access_token)

    refused = world.exchange(city, code, verifier)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    # The browser's old session cookie leads to the login page, never back with a code.
    again = world.authorize(city, scope=SCOPE)
    assert "code=" not in again.headers.get("location", "")
    after = _after_erasure(world, world.citizen_id)
    assert [e for e in after if e.action in (Action.TOKEN_ISSUED, Action.READ)] == []


def test_a_citizen_api_token_of_no_family_is_refused_after_erasure(world: OidcWorld) -> None:
    # A token that names no family (none issued by the token endpoint does) is still the
    # erased citizen's: the citizen API checks the citizen itself.
    token = world.app.state.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=world.citizen_id, scope=["me"], auth_time=None
    ).token
    budi = world.register_citizen(BUDI)
    budis = world.app.state.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=budi, scope=["me"], auth_time=None
    ).token
    assert world.client.get("/me/consents", headers=_bearer(token)).status_code == 200

    world.app.state.services.citizens.erase(world.citizen_id, actor=OFFICIAL)

    for path in ("/me/consents", "/me/access-log", "/me/requests"):
        refused = world.client.get(path, headers=_bearer(token))
        assert refused.status_code == 401, path
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    posted = world.client.post("/me/requests", json={"kind": "access"}, headers=_bearer(token))
    assert posted.status_code == 401
    assert world.client.get("/me/consents", headers=_bearer(budis)).status_code == 200
