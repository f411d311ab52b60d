"""Console test helpers: staff added, activated with a password and an authenticator app,
and signed in, through the console's own forms (shared by the console's test modules)."""

from __future__ import annotations

import re
import time

from httpx2 import Response

from audit.entry import Actor, ActorKind
from identity.staff.records import StaffMember
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, secret_of, totp_code

__all__ = ["OPERATOR", "PASSWORD", "activate", "add_staff", "post_form", "sign_in", "steady"]

OPERATOR = Actor(ActorKind.OFFICIAL, "cli/test")
PASSWORD = "kata sandi staf yang panjang"


def add_staff(world: OidcWorld, role: str, email: str) -> tuple[StaffMember, str]:
    member, code = world.app.state.services.staff.add(
        name=f"Staf {role}", email=email, role=role, apps=(), actor=OPERATOR
    )
    return member, code


def post_form(world: OidcWorld, path: str, **fields: str) -> Response:
    token = csrf_of(world.client.get("/console/login").text)
    return world.client.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)


def steady() -> None:
    """Wait out the last seconds of a 30-second step, so that a code made now is checked in
    the step it was made for (the app's clock is this machine's)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)


def activate(world: OidcWorld, email: str, code: str) -> bytes:
    setup = post_form(world, "/console/activate", email=email, code=code)
    assert setup.status_code == 200, setup.text
    secret = secret_of(setup.text)
    ticket = re.search(r'name="ticket" value="([^"]+)"', setup.text)
    assert ticket is not None
    steady()
    done = world.client.post(
        "/console/activate/setup",
        data={"csrf_token": csrf_of(setup.text), "ticket": ticket.group(1), "password": PASSWORD,
              "password2": PASSWORD, "code": totp_code(secret, time.time() - 30)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/console/login?activated=1"
    return secret


def sign_in(world: OidcWorld, email: str, secret: bytes, at: float | None = None) -> Response:
    steady()
    code = totp_code(secret, at if at is not None else time.time())
    return post_form(world, "/console/login", email=email, password=PASSWORD, code=code)
