"""Jati with panva's openid-client v6 (Node), a strict and widely used OpenID Connect client
(issue 17: "proof that it works with the world", beside the Authlib test in
tests/http/test_oidc_interop.py).

For each service signing mode (``JATI_TOKEN_SIGNING_ALG`` = EdDSA, Ed25519, ES256) one
``jati serve`` starts on a loopback port with its own data dir and database; the CLI adds a
citizen and four relying apps, each with a consent purpose and a notice:

- ``client_secret_basic``: a generated secret, ID tokens in the service's algorithm, used
  through openid-client's ``ClientSecretBasic``;
- ``client_secret_post``: the same with ``--token-endpoint-auth-method client_secret_post``
  and openid-client's ``ClientSecretPost``;
- ``private_key_jwt``: a key registered with ``jati client add --jwks-file`` (Ed25519, or
  P-256 in ES256 mode), used through openid-client's ``PrivateKeyJwt``;
- ``rs256_app``: ``--id-token-signed-response-alg RS256``, ``client_secret_basic``.

``tests/interop/openid_client/flow.mjs`` then runs each app through openid-client as its
documentation shows: ``discovery`` (``allowInsecureRequests`` for the http issuer, and
``enableNonRepudiationChecks`` so every ID token's signature is verified against the JWKS
with the key chosen by ``kid`` and ``alg``), the code flow with PKCE S256 (Jati's sign-in
and consent pages driven over plain HTTP, browser.mjs), ``authorizationCodeGrant`` checking
state, nonce and the ID token, ``fetchUserInfo`` with the expected ``sub``,
``refreshTokenGrant``, ``tokenIntrospection`` and ``tokenRevocation``. It prints what each
step returned; the assertions are here.

The Node packages are pinned by ``openid_client/package-lock.json`` (integrity hashes) and
installed with ``npm ci`` in that folder (``.ci/run`` does it). Outside CI a machine without
node or without them skips this test; in CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.consent_helpers import notice_content
from tests.helpers import add_bansos_purpose, add_citizen, jati_cli, operator_env, serving
from tests.personal_data import SAMPLE

NODE_PROJECT = Path(__file__).parent / "openid_client"
INSTALL = "(cd tests/interop/openid_client && npm ci)"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the browser stops at it
PASSWORD = "kata sandi yang panjang sekali"
SCOPE = "openid profile"
NODE_TIMEOUT = 60  # seconds for flow.mjs, all apps


def _node_setup_problem() -> str | None:
    """Why flow.mjs cannot run here, or None: node missing, or node_modules missing or not
    what package-lock.json pins (``npm ci`` records what it installed in
    node_modules/.package-lock.json)."""
    if shutil.which("node") is None:
        return "needs Node 20+ and npm (node is not on PATH)"
    installed = NODE_PROJECT / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return f"the Node packages are not installed: run {INSTALL}"
    wanted = json.loads((NODE_PROJECT / "package-lock.json").read_text())["packages"]
    present = json.loads(installed.read_text())["packages"]
    for path, entry in wanted.items():
        if path and present.get(path, {}).get("integrity") != entry["integrity"]:
            return f"{path} is not the version package-lock.json pins: run {INSTALL}"
    return None


NODE_SETUP_PROBLEM = _node_setup_problem()

pytestmark = [
    pytest.mark.slow,
    # Outside CI a machine without node or the packages skips; in CI (.ci/run runs npm ci)
    # the fixture below fails on the same problem instead.
    pytest.mark.skipif(
        NODE_SETUP_PROBLEM is not None and not os.environ.get("CI"),
        reason=str(NODE_SETUP_PROBLEM),
    ),
]


# ------------------------------------------------------------------------------ the apps


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_key(alg: str) -> tuple[dict[str, str], dict[str, str]]:
    """A fresh private_key_jwt key that openid-client signs with as ``alg`` (Ed25519 or
    ES256: oauth4webapi names an Ed25519 CryptoKey's alg "Ed25519"): (private JWK for Node,
    public JWK for ``jati client add --jwks-file``)."""
    if alg == "Ed25519":
        ed = Ed25519PrivateKey.generate()
        public = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(ed.public_key().public_bytes_raw())}
        private = {**public, "d": _b64url(ed.private_bytes_raw())}
    else:
        numbers = ec.generate_private_key(ec.SECP256R1()).private_numbers()
        point = numbers.public_numbers
        public = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(point.x.to_bytes(32, "big")),
            "y": _b64url(point.y.to_bytes(32, "big")),
        }
        private = {**public, "d": _b64url(numbers.private_value.to_bytes(32, "big"))}
    meta = {"kid": f"openid-client-{alg}", "alg": alg}
    return {**private, **meta}, {**public, **meta, "use": "sig"}


@dataclass(frozen=True)
class Registered:
    """An app as ``jati client add --json`` registered it, the client authentication
    openid-client uses for it, and the ``alg`` its ID tokens must carry."""

    registration: dict[str, Any]
    auth: str
    alg: str


#: JATI_TOKEN_SIGNING_ALG -> the alg of the private_key_jwt app's client assertions
MODES = {"EdDSA": "Ed25519", "Ed25519": "Ed25519", "ES256": "ES256"}


@pytest.fixture(params=list(MODES))
def run(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Any]:
    """Jati in one signing mode with four apps, and what flow.mjs reported for each:
    yields (issuer, published JWKS, {app name: Registered}, flow.mjs's report)."""
    if NODE_SETUP_PROBLEM is not None:
        pytest.fail(f"CI must run the openid-client interop test: {NODE_SETUP_PROBLEM}")
    service_alg = request.param
    env = operator_env(tmp_path, database_url, JATI_TOKEN_SIGNING_ALG=service_alg)
    jati = jati_cli(tmp_path, env)

    notice = tmp_path / "notice.json"
    notice.write_text(json.dumps(notice_content().to_json()))

    def add_app(name: str, *options: str) -> dict[str, Any]:
        registration: dict[str, Any] = json.loads(
            jati(
                "client", "add", "--name", name, "--redirect-uri", REDIRECT, "--scope", SCOPE,
                *options, "--json",
            )
        )  # fmt: skip
        client_id = registration["client_id"]
        add_bansos_purpose(jati, client_id)
        jati("notice", "publish", "--client", client_id, "--file", str(notice))
        return registration

    with serving(cwd=tmp_path, env=env) as (_process, base, _):
        add_citizen(jati, SAMPLE, PASSWORD)
        private_jwk, public_jwk = client_key(MODES[service_alg])
        jwks_file = tmp_path / "app-jwks.json"
        jwks_file.write_text(json.dumps({"keys": [public_jwk]}))
        apps = {
            "client_secret_basic": Registered(
                add_app("Layanan Sosial"), auth="client_secret_basic", alg=service_alg
            ),
            "client_secret_post": Registered(
                add_app("Layanan Pajak", "--token-endpoint-auth-method", "client_secret_post"),
                auth="client_secret_post",
                alg=service_alg,
            ),
            "private_key_jwt": Registered(
                add_app("Layanan Kependudukan", "--jwks-file", str(jwks_file)),
                auth="private_key_jwt",
                alg=service_alg,
            ),
            "rs256_app": Registered(
                add_app("Aplikasi Lama", "--id-token-signed-response-alg", "RS256"),
                auth="client_secret_basic",
                alg="RS256",
            ),
        }
        config = {
            "issuer": base,
            "redirect_uri": REDIRECT,
            "citizen": {"nik": SAMPLE["nik"], "password": PASSWORD},
            "apps": [
                {
                    "name": name,
                    "client_id": app.registration["client_id"],
                    "scope": SCOPE,
                    "auth": app.auth,
                    "client_secret": app.registration.get("client_secret"),
                    "private_jwk": private_jwk if app.auth == "private_key_jwt" else None,
                    # what the app registered, as a real app configures openid-client
                    "id_token_signed_response_alg": app.registration[
                        "id_token_signed_response_alg"
                    ],
                }
                for name, app in apps.items()
            ],
        }
        flow = subprocess.run(
            ["node", "flow.mjs"],
            cwd=NODE_PROJECT,
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith(("JATI_", "NODE_"))},
        )
        assert flow.returncode == 0, flow.stderr
        jwks = requests.get(base + "/jwks.json", timeout=5).json()
        yield base, jwks, apps, json.loads(flow.stdout)


# ------------------------------------------------------------------------ the checks


class App:
    """What a step's check knows: the issuer, the JWKS, the app, and what the earlier steps
    reported."""

    def __init__(self, issuer: str, jwks: dict[str, Any], app: Registered) -> None:
        self.issuer = issuer
        self.jwks = jwks
        self.client_id: str = app.registration["client_id"]
        self.auth = app.auth
        self.alg = app.alg
        self.steps: dict[str, Any] = {}


def check_discovery(app: App, got: dict[str, Any]) -> None:
    assert got["issuer"] == app.issuer
    assert got["supports_pkce"] is True and got["code_challenge_methods_supported"] == ["S256"]
    assert app.alg in got["id_token_signing_alg_values_supported"]
    assert app.auth in got["token_endpoint_auth_methods_supported"]


def check_authorization(app: App, got: dict[str, Any]) -> None:
    assert got["pages"][-1] == "consent"  # signed in once, then each app's consent screen
    assert got["callback_parameters"] == ["code", "iss", "state"]
    assert got["state_returned"] is True and got["iss"] == app.issuer


def check_authorization_code_grant(app: App, got: dict[str, Any]) -> None:
    assert got["token_type"].lower() == "bearer" and got["has_refresh_token"] is True
    assert got["scope"].split() == SCOPE.split()
    header, claims = got["id_token_header"], got["id_token_claims"]
    assert header["alg"] == app.alg
    # the key openid-client verified with (enableNonRepudiationChecks): its kid and its alg
    (key,) = [k for k in app.jwks["keys"] if k["kid"] == header["kid"]]
    assert key["alg"] == header["alg"]
    assert claims["iss"] == app.issuer and claims["nonce"] == got["expected_nonce"]
    assert claims["aud"] in (app.client_id, [app.client_id])
    assert claims["sub"] and claims["name"] == SAMPLE["name"]


def check_userinfo(app: App, got: dict[str, Any]) -> None:
    sub = app.steps["authorization_code_grant"]["id_token_claims"]["sub"]
    assert got["userinfo"]["sub"] == sub
    assert got["userinfo"]["name"] == SAMPLE["name"]
    assert "email" not in got["userinfo"]  # no purpose covers it


def check_refresh_token_grant(app: App, got: dict[str, Any]) -> None:
    assert got["token_type"].lower() == "bearer"
    assert got["access_token_rotated"] is True and got["refresh_token_rotated"] is True
    if got["id_token_header"] is not None:
        assert got["id_token_header"]["alg"] == app.alg
        sub = app.steps["authorization_code_grant"]["id_token_claims"]["sub"]
        assert got["id_token_sub"] == sub


def check_introspection(app: App, got: dict[str, Any]) -> None:
    access, refresh = got["access_token"], got["refresh_token"]
    assert access["active"] is True and access["client_id"] == app.client_id
    sub = app.steps["authorization_code_grant"]["id_token_claims"]["sub"]
    assert access.get("sub", sub) == sub
    assert refresh["active"] is True and refresh["client_id"] == app.client_id


def check_revocation(app: App, got: dict[str, Any]) -> None:
    assert got["answer"] is None  # openid-client's answer to RFC 7009's 200
    assert got["access_token_after"] == {"active": False}
    assert got["refresh_token_after"] == {"active": False}
    assert got["refresh_after"]["refused"] is True
    assert got["refresh_after"]["error"] == "invalid_grant"


CHECKS: dict[str, Callable[[App, dict[str, Any]], None]] = {
    "discovery": check_discovery,
    "authorization": check_authorization,
    "authorization_code_grant": check_authorization_code_grant,
    "userinfo": check_userinfo,
    "refresh_token_grant": check_refresh_token_grant,
    "introspection": check_introspection,
    "revocation": check_revocation,
}


def problems_of(app: App, report: dict[str, Any]) -> list[str]:
    """Every step's check, in order, up to the first that fails or that flow.mjs did not
    reach; the error openid-client threw if it stopped early."""
    for step, check in CHECKS.items():
        if step not in report["steps"]:
            failed = report.get("failed") or {"step": step, "error": "not run"}
            return [f"{failed['step']}: openid-client threw {json.dumps(failed['error'])}"]
        got = report["steps"][step]
        try:
            check(app, got)
        except AssertionError as exc:
            return [f"{step}: {exc}\n    reported: {json.dumps(got)[:2000]}"]
        app.steps[step] = got
    return []


def test_openid_client_completes_every_step_with_each_app(run: Any) -> None:
    issuer, jwks, apps, report = run
    assert report["openid_client"].startswith("6.")
    problems = []
    for name, registered in apps.items():
        assert registered.registration["token_endpoint_auth_method"] == registered.auth
        assert registered.registration["id_token_signed_response_alg"] == registered.alg
        app = App(issuer, jwks, registered)
        problems += [f"{name} {p}" for p in problems_of(app, report["apps"][name])]
    assert not problems, "\n".join(problems)
