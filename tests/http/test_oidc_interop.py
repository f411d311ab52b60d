"""Jati with an independent OpenID Connect client: Authlib's OAuth2Session, against `jati
serve` on a loopback port (issue 6, "proof that it works with the world").

The citizen's side (login form, consent screen, account page) is driven over plain HTTP by
a `requests` session acting as the browser, parsing the forms as a browser would. Authlib
builds the authorization URL with PKCE S256, exchanges the code, refreshes and calls
userinfo; the ID token is validated against the JWKS with joserfc (Authlib's successor
for JOSE) as a strict client does (issue 17 defect 5): the key chosen by `kid`, its `alg`
equal to the header's, the header's among `id_token_signing_alg_values_supported`, and only
that algorithm allowed; introspection answers `active: false` after revocation and after the
consent is withdrawn. In every service signing mode (`JATI_TOKEN_SIGNING_ALG` EdDSA, Ed25519,
ES256), for an app registered with `--id-token-signed-response-alg RS256` and for one
registered with `--token-endpoint-auth-method client_secret_post`, Authlib then sending its
secret in the form body (defect 6).
"""

from __future__ import annotations

import base64
import json
import secrets
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.consent_helpers import notice_content
from tests.helpers import add_bansos_purpose, add_citizen, jati_cli, operator_env, serving
from tests.personal_data import SAMPLE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:EdDSA is deprecated:UserWarning"),
]

REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the Location
PASSWORD = "kata sandi yang panjang sekali"


class Forms(HTMLParser):
    """The forms of a page: action, method and their inputs (name -> value, radios listed)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": fields.get("action", ""), "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(fields)
        elif tag == "button" and self.forms and fields.get("name"):
            self.forms[-1]["buttons"].append(fields)


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def hidden(form: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i.get("value", "") for i in form["inputs"] if i.get("type") == "hidden"}


def _browse(browser: requests.Session, url: str) -> requests.Response:
    """Follow Jati's redirects, stopping at the app's redirect URI."""
    response = browser.get(url, allow_redirects=False)
    while response.status_code in (302, 303) and not response.headers["location"].startswith(
        REDIRECT
    ):
        response = browser.get(urljoin(url, response.headers["location"]), allow_redirects=False)
    return response


def _submit(browser: requests.Session, base: str, form: dict[str, Any], data: dict[str, str]):
    response = browser.post(urljoin(base, form["action"]), data=data, allow_redirects=False)
    assert response.status_code in (302, 303), response.text[:500]
    return _browse(browser, urljoin(base, response.headers["location"]))


#: (JATI_TOKEN_SIGNING_ALG, the app's --id-token-signed-response-alg or None, the ID
#: token's expected alg)
MODES = {
    "EdDSA": ("EdDSA", None, "EdDSA"),
    "Ed25519": ("Ed25519", None, "Ed25519"),
    "ES256": ("ES256", None, "ES256"),
    "RS256-app": ("EdDSA", "RS256", "RS256"),
    "post-app": ("EdDSA", None, "EdDSA"),
}
#: The modes whose app registers ``client_secret_post`` (the others: client_secret_basic).
POST_MODES = frozenset({"post-app"})


@pytest.fixture(params=list(MODES))
def world(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Any:
    service_alg, app_alg, expected_alg = MODES[request.param]
    env = operator_env(tmp_path, database_url, JATI_TOKEN_SIGNING_ALG=service_alg)
    jati = jati_cli(tmp_path, env)

    with serving(cwd=tmp_path, env=env) as (_process, base, _):
        add_citizen(jati, SAMPLE, PASSWORD)
        app = ["--name", "Layanan Sosial", "--redirect-uri", REDIRECT]
        if app_alg is not None:
            app += ["--id-token-signed-response-alg", app_alg]
        method = "client_secret_post" if request.param in POST_MODES else "client_secret_basic"
        app += ["--token-endpoint-auth-method", method]
        client = json.loads(
            jati("client", "add", *app, "--scope", "openid profile email", "--json")
        )
        client_id = client["client_id"]
        add_bansos_purpose(jati, client_id)
        jati(
            "purpose", "add", "--client", client_id, "--code", "newsletter", "--basis", "a",
            "--item", "email", "--retention-days", "30", "--description-id", "Kabar program",
        )  # fmt: skip
        notice = tmp_path / "notice.json"
        notice.write_text(json.dumps(notice_content().to_json()))
        jati("notice", "publish", "--client", client_id, "--file", str(notice))
        assert client["id_token_signed_response_alg"] == expected_alg
        assert client["token_endpoint_auth_method"] == method
        yield base, client_id, client["client_secret"], expected_alg, method


def test_authlib_completes_the_code_flow_and_sees_revocation_and_withdrawal(world: Any) -> None:
    base, client_id, client_secret, expected_alg, method = world
    metadata = requests.get(base + "/.well-known/openid-configuration", timeout=5).json()
    assert metadata["issuer"] == base
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert "pairwise" in metadata["subject_types_supported"]
    assert method in metadata["token_endpoint_auth_methods_supported"]

    oauth = OAuth2Session(
        client_id,
        client_secret,
        scope="openid profile email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    browser = requests.Session()
    page = _browse(browser, url)
    (login,) = [f for f in forms_of(page.text) if any(i.get("name") == "nik" for i in f["inputs"])]
    page = _submit(
        browser, page.url, login, {**hidden(login), "nik": SAMPLE["nik"], "password": PASSWORD}
    )
    # the consent screen: grant "bansos", refuse "newsletter"
    (consent,) = [f for f in forms_of(page.text) if "notice_hash" in hidden(f)]
    radios = [i for i in consent["inputs"] if i.get("type") == "radio"]
    assert radios and not any("checked" in i for i in radios)  # nothing pre-ticked
    choices = {}
    for radio in radios:
        wants_yes = "bansos" in radio["name"]
        if radio["id"].endswith("-yes" if wants_yes else "-no"):
            choices[radio["name"]] = radio["value"]
    callback = _submit(
        browser, page.url, consent, {**hidden(consent), **choices, "action": "submit"}
    )
    location = callback.headers["location"]
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state] and query["iss"] == [base]

    token = oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    published = requests.get(metadata["jwks_uri"], timeout=5).json()
    segment = token["id_token"].split(".", 1)[0]
    header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    assert header["alg"] == expected_alg
    assert header["alg"] in metadata["id_token_signing_alg_values_supported"]
    (entry,) = [k for k in published["keys"] if k["kid"] == header["kid"]]
    assert entry["alg"] == header["alg"]  # what jose's createRemoteJWKSet selects on
    jwks = KeySet.import_key_set({"keys": [entry]})
    decoded = jose_jwt.decode(token["id_token"], jwks, algorithms=[expected_alg])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    assert claims["name"] == SAMPLE["name"] and "email" not in claims

    userinfo = oauth.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["name"] == SAMPLE["name"] and "email" not in userinfo

    refreshed = oauth.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]

    def introspect(value: str) -> dict[str, Any]:
        if method == "client_secret_post":  # RFC 6749 §2.3.1: the secret in the body
            credentials: dict[str, Any] = {
                "data": {"token": value, "client_id": client_id, "client_secret": client_secret}
            }
        else:
            credentials = {"data": {"token": value}, "auth": (client_id, client_secret)}
        response = requests.post(metadata["introspection_endpoint"], timeout=5, **credentials)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    assert introspect(refreshed["access_token"])["active"] is True
    # revocation (RFC 7009) of the first refresh token's family, through Authlib
    revoked = oauth.revoke_token(
        metadata["revocation_endpoint"], token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )  # fmt: skip
    assert revoked.status_code == 200
    assert introspect(refreshed["access_token"]) == {"active": False}

    # a second login-less flow (the session is still there), then the citizen withdraws
    verifier = secrets.token_urlsafe(48)
    url, _ = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    location = _browse(browser, url).headers["location"]
    token = oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert introspect(token["access_token"])["active"] is True
    account = _browse(browser, base + "/account")
    withdraw = [f for f in forms_of(account.text) if f["action"].endswith("/withdraw")]
    assert len(withdraw) == 1  # only "bansos" was granted
    response = browser.post(
        urljoin(base, withdraw[0]["action"]), data=hidden(withdraw[0]), allow_redirects=False
    )
    assert response.status_code in (302, 303)
    assert introspect(token["access_token"]) == {"active": False}
    assert oauth.get(metadata["userinfo_endpoint"]).status_code in (401, 403)
