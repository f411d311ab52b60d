"""Attacks on getting into an account and back in (issue 18), against the app's services.

- A reused activation code opens nothing: not a second check, not a second activation with
  the ticket of the first (two tabs, a replayed form), not after the password was set.
- Guessing activation codes is throttled like a login, on the NIK: after the login policy's
  failures (JATI_LOGIN_ACCOUNT_MAX_FAILURES) from any mix of addresses even the right code
  is refused with Throttled, before anything is checked.
- An access reset leaves nothing alive: the refresh token is refused (``invalid_grant``),
  the access token gets 401 at userinfo, and the session cookie gets no code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from audit.entry import Actor, ActorKind
from identity.citizens.account_access import AccountAccess
from identity.errors import ActivationRefused, Throttled
from identity.login.access_codes import normalize
from tests.oidc_helpers import OidcWorld, RelyingApp
from tests.personal_data import citizen, seeded

DEWI = citizen(nik="3171015708900001", name="Dewi Kartika Sari", birthdate="1990-08-17")
OPERATOR = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
PASSWORD = "kata sandi pilihan sendiri"


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"login_account_max_failures": 5}


def access(world: OidcWorld) -> AccountAccess:
    found: AccountAccess = world.app.state.services.account_access
    return found


def register(world: OidcWorld) -> tuple[str, str]:
    citizen_id, code = access(world).register(
        nik=DEWI["nik"],
        name=DEWI["name"],
        birthdate=date.fromisoformat(DEWI["birthdate"]),
        actor=OPERATOR,
    )
    seeded(code, normalize(code))
    return citizen_id, code


def attempt(world: OidcWorld, code: str, address: str = "198.51.100.7") -> Any:
    return access(world).check_activation(
        nik=DEWI["nik"], birthdate=date.fromisoformat(DEWI["birthdate"]), code=code,
        address=address,
    )  # fmt: skip


def test_a_used_activation_code_opens_nothing(world: OidcWorld) -> None:
    _, code = register(world)
    first, second = attempt(world, code), attempt(world, code)  # two tabs, both checked
    access(world).activate_with_password(first, PASSWORD)
    with pytest.raises(ActivationRefused):
        access(world).activate_with_password(second, "the attacker's password")
    with pytest.raises(ActivationRefused):
        access(world).activate_with_password(first, "the attacker's password")  # replayed
    with pytest.raises(ActivationRefused):
        attempt(world, code)
    assert world.app.state.services.citizens.authenticate(DEWI["nik"], PASSWORD, address="x")


def test_guessing_activation_codes_is_throttled_on_the_nik(world: OidcWorld) -> None:
    citizen_id, code = register(world)
    for n in range(5):  # each guess from another address: the NIK's counter still fills
        with pytest.raises(ActivationRefused):
            attempt(world, f"ZZZZ-ZZZZ-ZZZZ-ZZZ{n}", address=f"203.0.113.{n}")
    with pytest.raises(Throttled) as throttled:
        attempt(world, code, address="192.0.2.1")
    assert throttled.value.retry_after >= 1
    # The lock holds for a password login on the same NIK too: one counter per account.
    with pytest.raises(Throttled):
        world.app.state.services.citizens.authenticate(DEWI["nik"], PASSWORD, address="192.0.2.2")
    assert world.app.state.services.activations.pending(citizen_id) is not None


def test_a_reset_leaves_no_session_or_token_alive(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    tokens = world.tokens(rp)
    assert world.userinfo(tokens["access_token"]).status_code == 200

    code = access(world).reset_access(world.citizen_id, actor=OPERATOR)
    seeded(code, normalize(code))

    refused = world.refresh(rp, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    answer = world.userinfo(tokens["access_token"])
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    again = world.authorize(rp)  # with the session cookie of before the reset
    assert "code=" not in again.headers.get("location", "")
