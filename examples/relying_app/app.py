"""A relying app that signs citizens in with Jati: the reference to read and copy.

OpenID Connect authorization code flow (OIDC Core §3.1) with every safeguard a confidential
web app needs: PKCE S256 (RFC 7636), ``state`` against login CSRF, ``nonce`` bound into the
ID token, the ``iss`` of the answer checked (RFC 9207), the code exchanged with
``client_secret_basic`` (RFC 6749 §2.3.1), the ID token verified with
:class:`identity.relying_party.TokenVerifier` (as Jati's README recommends), then userinfo,
whose ``sub`` must be the ID token's (OIDC Core §5.3.2).

What the browser holds is only a random session cookie (HttpOnly, SameSite=Lax). The state,
nonce, PKCE verifier and tokens stay on the server, in memory, keyed by that cookie; none
of them is logged. A real app keeps sessions in its own store and serves over https.

Run it beside ``jati demo`` (which starts it for you) or on its own::

    RELYING_APP_ISSUER=http://127.0.0.1:8000 RELYING_APP_CLIENT_ID=... \\
    RELYING_APP_CLIENT_SECRET=... RELYING_APP_REDIRECT_URI=http://127.0.0.1:8001/callback \\
    uvicorn --app-dir examples/relying_app app:create_app_from_environment --factory \
        --port 8001 --no-access-log   # an access log would record ?code=...&state=...
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import secrets
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from identity.relying_party import InvalidToken, TokenVerifier

log = logging.getLogger("relying_app")
COOKIE = "layanan_session"
MAX_SESSIONS = 10_000
SCOPE = "openid profile email"
PAGE = """<!doctype html><html lang="id"><meta charset="utf-8"><title>Layanan Contoh</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto}}td,th{{text-align:left;
padding:.2rem .8rem .2rem 0}}button{{font-size:1.1rem;padding:.5rem 1rem}}</style>
<h1>Layanan Contoh</h1>{body}</html>"""
AGAIN = "<a href='/'>Mulai lagi</a>"


@dataclass
class BrowserSession:
    """One browser's sign-in, kept server-side: the login in flight, then its result."""

    state: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    code_verifier: str = field(default_factory=lambda: secrets.token_urlsafe(64))
    tokens: dict[str, Any] | None = None
    id_token_claims: dict[str, Any] | None = None
    userinfo: dict[str, Any] | None = None


class JatiClient:
    """The app's side of the protocol: the authorization request and the back channel."""

    def __init__(self, *, issuer: str, client_id: str, client_secret: str, redirect_uri: str):
        self.issuer, self.client_id, self.redirect_uri = issuer, client_id, redirect_uri
        # RFC 6749 §2.3.1: both form-urlencoded, then HTTP Basic
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._basic = "Basic " + base64.b64encode(pair.encode()).decode()
        self.verifier = TokenVerifier(issuer=issuer, audience=client_id)
        self._metadata: dict[str, Any] = {}

    def endpoint(self, name: str) -> str:
        """From OpenID Connect Discovery, read once; it must name our issuer (§4.3)."""
        if not self._metadata:
            found = _json(f"{self.issuer}/.well-known/openid-configuration")
            if found.get("issuer") != self.issuer:
                raise ValueError("the discovery document names another issuer")
            self._metadata = found
        return str(self._metadata[name])

    def authorization_url(self, session: BrowserSession) -> str:
        challenge = hashlib.sha256(session.code_verifier.encode()).digest()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": SCOPE,
            "state": session.state,
            "nonce": session.nonce,
            "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        return f"{self.endpoint('authorization_endpoint')}?{urlencode(query)}"

    def finish(self, session: BrowserSession, code: str) -> None:
        """Code -> tokens; the ID token verified; userinfo for the same ``sub``."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": session.code_verifier,
        }
        tokens = _json(self.endpoint("token_endpoint"), form, authorization=self._basic)
        claims = self.verifier.verify_id_token(tokens["id_token"], nonce=session.nonce)
        bearer = f"Bearer {tokens['access_token']}"
        userinfo = _json(self.endpoint("userinfo_endpoint"), authorization=bearer)
        if userinfo.get("sub") != claims["sub"]:
            raise ValueError("userinfo is about another subject")
        session.tokens, session.id_token_claims, session.userinfo = tokens, claims, userinfo


def create_app(*, issuer: str, client_id: str, client_secret: str, redirect_uri: str) -> FastAPI:
    jati = JatiClient(
        issuer=issuer, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
    )
    sessions: dict[str, BrowserSession] = {}
    lock = threading.Lock()
    app = FastAPI(title="Layanan Contoh", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def home(request: Request) -> Response:
        with lock:
            session = sessions.get(request.cookies.get(COOKIE, ""))
        if session is None or session.userinfo is None or session.id_token_claims is None:
            return _page(
                "<p>Layanan ini memakai identitas Anda dari Jati.</p><form method='post' "
                "action='/login'><button type='submit'>Masuk dengan Jati</button></form>"
            )
        return _page(
            f"<h2>Data yang dirilis Jati (userinfo)</h2>{_table('userinfo', session.userinfo)}"
            "<h2>Klaim ID token (terverifikasi)</h2>"
            f"{_table('id-token', session.id_token_claims)}"
            f"<p><a href='{html.escape(issuer)}/account#access-log'>Siapa yang menggunakan data "
            "saya?</a> (di Jati: setiap akses tercatat di log audit)</p>"
            "<form method='post' action='/logout'><button type='submit'>Keluar</button></form>"
        )

    @app.post("/login")
    def login() -> Response:
        session, session_id = BrowserSession(), secrets.token_urlsafe(32)  # a new id each time
        try:
            answer = RedirectResponse(jati.authorization_url(session), 303)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("Jati's discovery document unavailable: %s", type(exc).__name__)
            return _page(f"<p>Jati tidak dapat dihubungi. {AGAIN}.</p>", 502)
        with lock:
            sessions[session_id] = session
            while len(sessions) > MAX_SESSIONS:  # forget the oldest: memory stays bounded
                sessions.pop(next(iter(sessions)))
        secure = redirect_uri.startswith("https:")
        answer.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=secure)
        return answer

    @app.get("/callback")
    def callback(request: Request) -> Response:
        params, session_id = request.query_params, request.cookies.get(COOKIE, "")
        with lock:  # a login in flight is used once, whatever the outcome
            session = sessions.pop(session_id, None)
        if session is None or session.tokens is not None:
            return _page(f"<p>Sesi tidak dikenal. {AGAIN}.</p>", 400)
        if not secrets.compare_digest(params.get("state", ""), session.state):
            return _page(f"<p>Permintaan tidak cocok (state). {AGAIN}.</p>", 400)
        if params.get("iss") != issuer:  # RFC 9207: the answer comes from our issuer
            return _page(f"<p>Jawaban dari penerbit lain. {AGAIN}.</p>", 400)
        if "error" in params:  # e.g. access_denied: the citizen said no
            return _page(f"<p>Jati menjawab: {html.escape(params['error'])}. {AGAIN}.</p>", 400)
        try:
            jati.finish(session, params.get("code", ""))
        except InvalidToken as exc:
            log.warning("ID token refused: %s", exc.reason)  # the reason, never the token
            return _page(f"<p>Masuk gagal. {AGAIN}.</p>", 401)
        except (OSError, ValueError, KeyError) as exc:  # HTTP errors are OSErrors
            log.warning("sign-in failed: %s", type(exc).__name__)
            return _page(f"<p>Masuk gagal. {AGAIN}.</p>", 502)
        with lock:
            sessions[session_id] = session
        return RedirectResponse("/", 303)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        with lock:
            sessions.pop(request.cookies.get(COOKIE, ""), None)
        answer = RedirectResponse("/", 303)
        answer.delete_cookie(COOKIE)
        return answer

    return app


def create_app_from_environment() -> FastAPI:
    """For ``uvicorn --factory``: the four ``RELYING_APP_*`` variables of the docstring."""
    names = ("issuer", "client_id", "client_secret", "redirect_uri")
    return create_app(**{name: os.environ[f"RELYING_APP_{name.upper()}"] for name in names})


def _json(
    url: str, form: dict[str, str] | None = None, *, authorization: str | None = None
) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise ValueError("an endpoint is an http(s) URL")
    headers = {"Accept": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - checked
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        document = json.loads(response.read(1024 * 1024))
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def _page(body: str, status: int = 200) -> HTMLResponse:
    csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": csp}
    return HTMLResponse(PAGE.format(body=body), status, headers=headers)


def _table(name: str, claims: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in sorted(claims.items())
    )
    return f"<table id='{name}'>{rows}</table>"
