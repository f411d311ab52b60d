"""The per-address login limit: not spoofable, and not a way to lock out a shared address
(issue 17, defect 3; SECURITY.md T11).

- uvicorn believed ``X-Forwarded-For`` from 127.0.0.1 by default, so 60 failed logins with
  60 forwarded addresses never met the per-address limit. ``jati serve`` now trusts no proxy
  unless ``--forwarded-allow-ips`` (or ``JATI_FORWARDED_ALLOW_IPS``) names it, whatever
  uvicorn's own ``FORWARDED_ALLOW_IPS`` says; with it, the forwarded address is counted.
- Many citizens share one address (a carrier's NAT, an office). One of them failing on many
  NIKs locks the address, but a citizen whose device has signed in to their account before
  (the device cookie, OWASP "device cookies") still gets in; the attacker stays locked, and
  the account's own limit still holds.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.entry import Actor, ActorKind
from identity.login.devices import DEVICE_COOKIE
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.helpers import clean_env, run_jati, serving
from tests.oidc_helpers import oidc_world
from tests.pages_helpers import submit_login
from tests.personal_data import SAMPLE

NIK = "3171015708900001"
PASSWORD = "kata sandi rahasia"
OFFICIAL = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")


def some_nik(n: int) -> str:
    return f"3171010101{n:06d}"


def login(client: TestClient, nik: str = NIK, password: str = PASSWORD) -> int:
    return client.post("/login", json={"nik": nik, "password": password}).status_code


@pytest.fixture
def app(make_settings: Callable[..., Settings], database: Database) -> FastAPI:
    app = create_app(make_settings(), database=database, run_background=False)
    app.state.services.citizens.register(
        nik=NIK,
        name="Siti Rahayu",
        birthdate=date(1990, 8, 17),
        password=PASSWORD,
        actor=OFFICIAL,
    )
    return app


def test_a_citizen_behind_a_shared_address_is_not_locked_out_by_an_attacker(app: FastAPI) -> None:
    # Every TestClient has the same address ("testclient"): one NAT, three devices.
    citizen, attacker, new_phone = TestClient(app), TestClient(app), TestClient(app)
    assert login(citizen) == 200
    assert citizen.cookies.get(DEVICE_COOKIE)
    answers = [login(attacker, some_nik(n), "not the password") for n in range(60)]
    assert answers == [401] * 50 + [429] * 10  # the address limit (default 50) trips
    # The attacker stays limited, on every account, the citizen's included.
    assert login(attacker) == 429
    assert login(attacker, some_nik(99), "another guess") == 429
    # The citizen, on the same address, still gets in with the right password.
    assert login(citizen) == 200
    # A device that never signed in to the account waits out the address's lock.
    assert login(new_phone) == 429
    # The account's own limit still holds for the known device.
    assert [login(citizen, password="wrong " + str(n)) for n in range(6)] == [401] * 5 + [429]
    assert login(citizen) == 429


def test_a_device_proof_is_for_its_account_only(app: FastAPI) -> None:
    attacker = TestClient(app)
    app.state.services.citizens.register(
        nik=some_nik(500),
        name="Attacker Sendiri",
        birthdate=date(2000, 1, 1),
        password="the attacker's own password",
        actor=OFFICIAL,
    )
    assert login(attacker, some_nik(500), "the attacker's own password") == 200
    answers = [login(attacker, some_nik(n), "guess") for n in range(55)]
    assert answers.count(429) == 5
    assert login(attacker, NIK, "guess") == 429  # its proof is for its own account only


def test_the_login_page_sets_the_device_cookie_and_honours_it(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    with oidc_world(make_settings(), database) as world:
        assert submit_login(world).status_code == 303
        assert world.client.cookies.get(DEVICE_COOKIE)
        world.logout()
        attacker = TestClient(world.app)
        for n in range(51):
            login(attacker, some_nik(n), "not the password")
        assert login(attacker, SAMPLE["nik"], PASSWORD) == 429
        assert submit_login(world).status_code == 303


# ------------------------------------------------------------------ behind a proxy (real serve)


def _post_login(base: str, nik: str, forwarded_for: str) -> int:
    request = urllib.request.Request(
        base + "/login",
        data=json.dumps({"nik": nik, "password": "not the password"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def proxy_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield clean_env(
        JATI_PASSWORD_PROFILE="test-only-cheapest",
        JATI_LOGIN_ADDRESS_MAX_FAILURES="3",
        JATI_DATA_DIR=str(tmp_path / "data"),
        # uvicorn's own variable: Jati must neither obey nor be misled by it.
        FORWARDED_ALLOW_IPS="*",
    )


@pytest.mark.slow
def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    tmp_path: Path, proxy_env: dict[str, str]
) -> None:
    with serving(cwd=tmp_path, env=proxy_env) as (_process, base, _ready):
        spoofed = [_post_login(base, some_nik(n), f"198.51.100.{n}") for n in range(5)]
    assert spoofed == [401, 401, 401, 429, 429]  # counted under the real peer, 127.0.0.1


@pytest.mark.slow
@pytest.mark.parametrize("configured_by", ["option", "environment"])
def test_a_configured_proxys_forwarded_address_is_counted(
    tmp_path: Path, proxy_env: dict[str, str], configured_by: str
) -> None:
    args: tuple[str, ...] = ()
    env: dict[str, Any] = dict(proxy_env, FORWARDED_ALLOW_IPS="10.9.9.9")
    if configured_by == "option":
        args = ("--forwarded-allow-ips", "127.0.0.1")
    else:
        env["JATI_FORWARDED_ALLOW_IPS"] = "127.0.0.0/8, ::1"
    with serving(*args, cwd=tmp_path, env=env) as (_process, base, _ready):
        spread = [_post_login(base, some_nik(n), f"198.51.100.{n}") for n in range(6)]
        same = [_post_login(base, some_nik(10 + n), "203.0.113.9") for n in range(4)]
        other = _post_login(base, some_nik(20), "198.51.100.77")
    assert spread == [401] * 6  # six clients behind the proxy, one failure each
    assert same == [401, 401, 401, 429]  # one forwarded client, limited as itself
    assert other == 401


def test_serve_refuses_a_trusted_proxy_that_is_not_an_address(tmp_path: Path) -> None:
    result = run_jati("serve", "--forwarded-allow-ips", "proxy.internal", cwd=tmp_path)
    assert result.returncode == 2
    assert "not an IP address or network" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "jati-data").exists()
