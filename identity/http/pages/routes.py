"""The citizen-facing pages of the OpenID Connect provider (docs/citizens.md, "The pages"):
the front page ``GET /`` (:mod:`identity.http.pages.home`), login
(:mod:`identity.http.pages.login`), activation (:mod:`identity.http.pages.activate`), logout
and its confirmation (:mod:`identity.http.pages.logout`), consent screen and notices
(:mod:`identity.http.pages.consent`), account (:mod:`identity.http.pages.account`), passkeys
(:mod:`identity.http.pages.passkeys`, with the pages' one script, ``GET /static/webauthn.js``),
and the one style sheet they use, ``GET /static/jati.css``.

They are built on the protocol's interfaces: ``Services.sessions``
(:class:`identity.login.sessions.SessionService`) and ``Services.authorization_requests``
(:class:`identity.oidc.authorize.AuthorizationRequests`): a login or a consent decision
sends the browser to ``/authorize/resume?req=ID``, which decides what comes next.

Everything a page needs beyond the services is set up by :func:`configure`: the CSRF
protection (:mod:`identity.http.pages.csrf`), the pending-login cookie of the second-factor
step and the activation-ticket cookie, each keyed by a key derived from the master key.
Add the routes of :data:`ROUTERS` **before** :mod:`identity.http.login`'s, so that a form
``POST /login`` reaches the page and a JSON one the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import Response

from identity.http.console import activity_charts as console_charts
from identity.http.console import app_settings as console_app_settings
from identity.http.console import auditor as console_auditor
from identity.http.console import dpo as console_dpo
from identity.http.console import notices as console_notices
from identity.http.console import operator as console_operator
from identity.http.console import pages as console_pages
from identity.http.console import requests_desk as console_requests
from identity.http.console.pages import ActivationTickets
from identity.http.pages import (
    account,
    activate,
    activity,
    connected_apps,
    consent,
    devices,
    erasure,
    home,
    login,
    logout,
    passkeys,
    recovery,
    totp_setup,
)
from identity.http.pages.activate import ActivationCookies
from identity.http.pages.csrf import CsrfProtection
from identity.http.pages.intent import IntentCookie
from identity.http.pages.login import PendingLogins
from identity.http.pages.passkeys import PasskeyCeremonies

__all__ = ["ROUTERS", "STATIC_DIR", "configure", "router"]

STATIC_DIR = Path(__file__).with_name("static")
_STYLESHEET = (STATIC_DIR / "jati.css").read_bytes()

router = APIRouter(include_in_schema=False)

#: Every page router, in matching order; the app adds their routes to its own list
#: (``identity.service.app._add_routes``: no nested router to pass through per request).
ROUTERS = (
    home.router,
    login.router,
    activate.router,
    logout.router,
    consent.router,
    account.router,
    activity.router,
    connected_apps.router,
    erasure.router,
    devices.router,
    totp_setup.router,
    recovery.router,
    passkeys.router,
    console_pages.router,
    console_auditor.router,
    console_charts.router,
    console_operator.router,
    console_app_settings.router,
    console_notices.router,
    console_dpo.router,
    console_requests.router,
    router,
)


@router.get("/static/jati.css")
async def stylesheet() -> Response:
    """The pages' only style sheet (CSP ``style-src 'self'``: no inline styles)."""
    return Response(
        _STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def configure(
    app: FastAPI, *, master_key: bytes, clock: Callable[[], datetime], secure: bool
) -> None:
    """Give the pages their keyed helpers (``app.state.csrf``, ``app.state.pending_logins``,
    ``app.state.activation_cookies``, ``app.state.passkey_ceremonies``, ``app.state.intents``).

    ``secure``: the issuer is https, so cookies get the ``Secure`` attribute.
    """
    app.state.csrf = CsrfProtection(master_key, secure=secure)
    app.state.pending_logins = PendingLogins(master_key, clock=clock, secure=secure)
    app.state.activation_cookies = ActivationCookies(master_key, clock=clock, secure=secure)
    app.state.passkey_ceremonies = PasskeyCeremonies.create(master_key, clock=clock, secure=secure)
    app.state.intents = IntentCookie(master_key, clock=clock, secure=secure)
    app.state.console_tickets = ActivationTickets(master_key, clock=clock, secure=secure)
