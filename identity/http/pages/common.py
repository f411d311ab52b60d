"""What every page shares: templates, language, CSRF tokens, sessions, redirects, errors.

Templates are Jinja2 with autoescaping on for everything (a value from the database, such as
an app's name or a purpose's description, is always text, never markup) and
``StrictUndefined`` (a missing value is a bug, not an empty string). The pages hold no
inline script; the pages with a passkey form load the one script, ``/static/webauthn.js``
(:mod:`identity.http.pages.passkeys`). Each page answer is ``Cache-Control: no-store``
(RFC 9111 §5.2.2.5): they carry personal data or a CSRF token.

Page handlers answer errors as pages (a clear 4xx, in the page's language, that changes
nothing), never as problem documents: a person reads them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from identity.errors import Overloaded, Throttled
from identity.http.pages.csrf import CSRF_FIELD, CsrfProtection
from identity.http.pages.i18n import LANG_COOKIE, Translator, choose_language, language_of
from identity.http.pages.local_time import DEFAULT_ZONE, ZONES, local_time
from identity.http.session_cookie import current_session
from identity.login.sessions import Session, app_session
from identity.oidc.authorization_request import PendingAuthorization
from identity.oidc.authorize import AuthorizationRequests
from identity.service.web.input_guard import form_is_clean
from identity.service.web.security_headers import (
    PROOF_SCRIPT_INTEGRITY,
    WEBAUTHN_SCRIPT_INTEGRITY,
    page_csp,
)
from identity.service.web.state import services

__all__ = [
    "NO_STORE",
    "PageContext",
    "authorization_requests",
    "checked_form",
    "csrf_ok",
    "csrf_refused",
    "form_text",
    "keyed_message_page",
    "message_page",
    "origin_of",
    "page_context",
    "pending_authorization",
    "read_form",
    "render",
    "request_unknown",
    "see_other",
    "session_of",
    "signed_out_page",
    "throttled_page",
]

TEMPLATES_DIR = Path(__file__).with_name("templates")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Longest value of any page form field (the longest legitimate one is an address, 500).
MAX_FIELD_CHARS = 2000
LANG_COOKIE_MAX_AGE = 365 * 86_400
#: The citizen's chosen time zone (``?tz=WIB|WITA|WIT`` sets it; WIB otherwise).
ZONE_COOKIE = "tz"
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?"
)


@pass_context
def _when(context: Context, value: datetime | str | None) -> str:
    """A time in the citizen's zone and the page's language (``7 Des 2026, 14.33 WIB``:
    :func:`identity.http.pages.local_time.local_time`)."""
    return local_time(value, context.get("lang", "id"), context.get("zone", DEFAULT_ZONE))


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), undefined=StrictUndefined,
    autoescape=True, trim_blocks=True, lstrip_blocks=True,
)  # fmt: skip
_environment.filters["when"] = _when
#: The ``integrity`` of the passkey script's tag (``_webauthn_script.html``).
_environment.globals["webauthn_integrity"] = WEBAUTHN_SCRIPT_INTEGRITY
#: The ``integrity`` of the console's proof checker (``console_entry.html``).
_environment.globals["proof_integrity"] = PROOF_SCRIPT_INTEGRITY


@dataclass(frozen=True, slots=True)
class PageContext:
    """One request's page settings: language, CSRF token (and a new cookie to set)."""

    request: Request
    t: Translator
    csrf_token: str
    new_csrf_cookie: str | None
    lang_from_query: str | None
    zone: str = DEFAULT_ZONE
    zone_from_query: str | None = None

    @property
    def lang(self) -> str:
        return self.t.lang

    def switch_url(self) -> str:
        """The current page (as a GET) in the other language."""
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        params.append(("lang", self.t.other))
        return f"{page_path(self.request)}?{urlencode(params)}"


#: The pages a browser can GET; a form's answer links back to the nearest of them.
GET_PAGES = frozenset(
    {"/login", "/login/otp", "/login/recovery", "/activate", "/activate/setup", "/consent",
     "/account", "/end_session/confirm"}
)  # fmt: skip


def page_path(request: Request) -> str:
    """The path of the page to show again for this request: itself when it is a page,
    else the account page (for its forms) or the login page."""
    path = request.url.path
    if path in GET_PAGES or request.method == "GET":
        return path
    return "/account" if path.startswith("/account/") else "/login"


def page_context(
    request: Request, *, form: FormData | None = None, ui_locales: Iterable[str] = ()
) -> PageContext:
    form_lang = form.get("lang") if form is not None else None
    query_lang = language_of(request.query_params.get("lang"))
    lang = choose_language(
        query=query_lang,
        form=form_lang if isinstance(form_lang, str) else None,
        cookie=request.cookies.get(LANG_COOKIE),
        ui_locales=ui_locales,
    )
    csrf: CsrfProtection = request.app.state.csrf
    token, new_cookie = csrf.issue(request)
    query_zone = request.query_params.get("tz")
    query_zone = query_zone if query_zone in ZONES else None
    cookie_zone = request.cookies.get(ZONE_COOKIE)
    zone = query_zone or (cookie_zone if cookie_zone in ZONES else DEFAULT_ZONE)
    return PageContext(request, Translator(lang), token, new_cookie, query_lang, zone, query_zone)


def _finish(ctx: PageContext, response: Response) -> Response:
    """Set the cookies a page answer carries: a new CSRF cookie, the chosen language."""
    csrf: CsrfProtection = ctx.request.app.state.csrf
    if ctx.new_csrf_cookie is not None:
        csrf.set_cookie(response, ctx.new_csrf_cookie)
    if ctx.lang_from_query is not None:
        response.set_cookie(
            LANG_COOKIE,
            ctx.lang_from_query,
            max_age=LANG_COOKIE_MAX_AGE,
            path="/",
            secure=csrf.secure,
            httponly=True,
            samesite="lax",
        )
    if ctx.zone_from_query is not None:
        response.set_cookie(
            ZONE_COOKIE, ctx.zone_from_query, max_age=LANG_COOKIE_MAX_AGE, path="/",
            secure=csrf.secure, httponly=True, samesite="lax",
        )  # fmt: skip
    return response


def render(
    ctx: PageContext,
    template: str,
    *,
    title: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    form_targets: Iterable[str] = (),
    signed_in: bool = False,
    **values: Any,
) -> Response:
    """Render a page. ``form_targets`` are origins the page's forms may end up at (see
    :func:`identity.service.web.security_headers.page_csp`). A page answering an error
    (``status`` 400 or more) says so first in its ``<title>`` ("Kesalahan: ...")."""
    body = _environment.get_template(template).render(
        t=ctx.t,
        lang=ctx.lang,
        zone=ctx.zone,
        title=title,
        document_title=ctx.t("title.error", title=title) if status >= 400 else title,
        csrf_field=CSRF_FIELD,
        csrf_token=ctx.csrf_token,
        switch_url=ctx.switch_url(),
        signed_in=signed_in,
        **values,
    )
    response = HTMLResponse(
        body,
        status_code=status,
        headers={
            **NO_STORE,
            "Content-Security-Policy": page_csp(*form_targets),
            **(headers or {}),
        },
    )
    return _finish(ctx, response)


def message_page(
    ctx: PageContext,
    *,
    title: str,
    body: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    links: Iterable[tuple[str, str]] = (),
    signed_in: bool = False,
) -> Response:
    """A page that says one thing (an error, a confirmation), with links onward."""
    return render(
        ctx,
        "message.html",
        title=title,
        status=status,
        headers=headers,
        body=body,
        links=list(links),
        signed_in=signed_in,
    )


def keyed_message_page(
    ctx: PageContext,
    title_key: str,
    body_key: str,
    *,
    status: int,
    link: tuple[str, str] | None = None,
    signed_in: bool = False,
) -> Response:
    """:func:`message_page` with its title, body and link text named by message keys
    (:mod:`identity.http.pages.i18n`); ``link`` is (URL, message key)."""
    return message_page(
        ctx,
        title=ctx.t(title_key),
        body=ctx.t(body_key),
        status=status,
        links=[(link[0], ctx.t(link[1]))] if link is not None else [],
        signed_in=signed_in,
    )


def signed_out_page(ctx: PageContext) -> Response:
    """The page a browser sees once its session has ended, with the way back to login."""
    return keyed_message_page(
        ctx, "logged_out.title", "logged_out.body", status=200, link=("/login", "nav.login")
    )


def request_unknown(ctx: PageContext) -> Response:
    """400: the sign-in request is unknown or expired (nothing to resume)."""
    return keyed_message_page(ctx, "request_unknown.title", "request_unknown.body", status=400)


def throttled_page(ctx: PageContext, exc: Throttled) -> Response:
    """429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3); 503 when the hashing pool
    was full (:class:`~identity.errors.Overloaded`)."""
    return message_page(
        ctx,
        title=ctx.t("throttled.title"),
        body=ctx.t("throttled.body", seconds=exc.retry_after),
        status=503 if isinstance(exc, Overloaded) else 429,
        headers={"Retry-After": str(exc.retry_after)},
        links=[("/help/sign-in", ctx.t("help.link"))],
    )


def see_other(ctx: PageContext | None, location: str) -> Response:
    """303 See Other (RFC 9110 §15.4.4): after a POST, the browser GETs the next page."""
    response = RedirectResponse(location, status_code=303, headers=dict(NO_STORE))
    return _finish(ctx, response) if ctx is not None else response


async def read_form(request: Request) -> FormData | None:
    """The form body, or None when it is not a form, or a field is too long or holds a NUL
    (no page value holds one, and PostgreSQL text cannot:
    :mod:`identity.service.web.input_guard`)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    try:
        form = await request.form(max_files=0, max_fields=64)
    except Exception:  # malformed multipart, too many fields: a bad request, nothing else
        return None
    if any(isinstance(v, str) and len(v) > MAX_FIELD_CHARS for _, v in form.multi_items()):
        return None
    return form if form_is_clean(form) else None


def form_text(form: FormData, name: str) -> str | None:
    """A single text field, or None when absent, repeated or a file."""
    values = form.getlist(name)
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    return values[0]


def csrf_ok(request: Request, form: FormData | None) -> bool:
    """The form carries the CSRF token of this browser (:mod:`identity.http.pages.csrf`)."""
    if form is None:
        return False
    csrf: CsrfProtection = request.app.state.csrf
    return csrf.verify(request, form_text(form, CSRF_FIELD))


def csrf_refused(ctx: PageContext) -> Response:
    """403 for a form without a valid CSRF token; nothing was changed."""
    return keyed_message_page(
        ctx, "csrf.title", "csrf.body", status=403,
        link=(_same_page(ctx.request), "common.open_again"),
    )  # fmt: skip


async def checked_form(
    request: Request, *, ui_locales: Iterable[str] = ()
) -> tuple[PageContext, FormData | None]:
    """A page's POST: its page context (the form's ``lang`` field counts), and its form, or
    None when it is not a form or lacks this browser's CSRF token (then answer
    :func:`csrf_refused`: nothing may change)."""
    form = await read_form(request)
    ctx = page_context(request, form=form, ui_locales=ui_locales)
    return ctx, form if csrf_ok(request, form) else None


def _same_page(request: Request) -> str:
    query = urlencode([(k, v) for k, v in request.query_params.multi_items()])
    path = page_path(request)
    return f"{path}?{query}" if query else path


def authorization_requests(request: Request) -> AuthorizationRequests:
    """The pending authorization requests the login and consent pages answer."""
    requests: AuthorizationRequests = services(request).authorization_requests
    return requests


async def pending_authorization(
    request: Request,
) -> tuple[str | None, PendingAuthorization | None]:
    """The sealed ``req`` of the query (None when absent or empty) and the pending
    authorization request it names (None when there is none, or it is unknown, expired or
    answered already)."""
    request_id = request.query_params.get("req") or None
    if request_id is None:
        return None, None
    return request_id, await asyncio.to_thread(authorization_requests(request).get, request_id)


async def session_of(request: Request, *, restricted: bool = True) -> Session | None:
    """The citizen's live session (``jati_session`` cookie), or None. ``restricted=False``:
    a restricted session (a recovery-code sign-in, which opens only the account page) counts
    as none, as at the authorization endpoint (:func:`identity.login.sessions.app_session`)."""
    session = await current_session(request)
    return session if restricted else app_session(session)


def origin_of(uri: str) -> str | None:
    """``scheme://host[:port]`` of a registered redirect URI, for a CSP source list; None
    when it is not a plain http(s) origin (never a wildcard, never a quote or a space)."""
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if _ORIGIN.fullmatch(origin) else None
