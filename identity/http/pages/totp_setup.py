"""Setting up the second factor from the account page (issue 18, part 3): an authenticator
app (TOTP, RFC 6238; the core is :mod:`identity.login.totp`) that people can set up.

- ``POST /account/totp/enrol`` (CSRF-checked, signed in): a new secret, shown as a **QR
  code** of its ``otpauth://`` key URI, drawn on the server as inline SVG with ``segno`` (no
  image URL, so the secret never sits in a URL, a log or a cache; the page is ``no-store``;
  the SVG's text alternative says to type the key when scanning fails), as the **key in
  groups of four characters** for typing by hand, and as the ``otpauth://`` link for a phone
  reading the page. A session signed in with a recovery code (``restricted``) may ask to
  **replace** an enabled factor (``replace=yes``): the old one is dropped without a code, for
  its phone is what was lost; any other session must turn it off with a code first (409).
- ``POST /account/totp/confirm``: the code enables the factor, then the citizen's recovery
  codes are made and shown once (:func:`identity.http.pages.recovery.new_recovery_codes_page`;
  a citizen who still holds unused ones goes to the account page). A **wrong code keeps the
  waiting secret** (:meth:`~identity.login.totp.SecondFactor.pending_enrolment`): the same
  QR code and key come back with what to do (the phone's clock, the newest code). The core's
  failure counting and lockout stay as they are (:class:`~identity.errors.Throttled`: 429).
- ``POST /account/totp/disable``: removes the factor after a valid code.
"""

from __future__ import annotations

import asyncio

import segno
from fastapi import APIRouter
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from identity.errors import Throttled
from identity.http.pages.account import _posted
from identity.http.pages.common import PageContext, form_text, render, see_other, throttled_page
from identity.http.pages.recovery import new_recovery_codes_page
from identity.login.totp import (
    Enrolment,
    InvalidCode,
    NoEnrolment,
    SecondFactor,
    SecondFactorEnabled,
)
from identity.service.web.state import services

__all__ = ["group_secret", "qr_svg", "router"]

router = APIRouter(include_in_schema=False)

#: Pixels per QR module: a key URI makes a code of version 5 to 7 (37 to 45 modules, 45 to 53
#: with the quiet zone), 180 to 212 px, which phones scan from a screen at arm's length and
#: which fits a 320 px wide screen.
QR_SCALE = 4
QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks


def qr_svg(uri: str, label: str) -> Markup:
    """``uri`` as an inline SVG QR code (error correction M), black on white whatever the
    page's colours, with ``label`` as its accessible name. Only path data and our own escaped
    label go into the markup."""
    code = segno.make(uri, error="m", micro=False)
    svg = code.svg_inline(
        scale=QR_SCALE, border=QR_QUIET_ZONE, dark="#000", light="#fff", title=label
    )
    # segno's SVG is path data and the title it escaped; the label is escaped here
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704


def group_secret(secret_base32: str) -> str:
    """The key in groups of four characters (``ABCD EFGH ...``), for typing by hand;
    authenticator apps ignore the spaces."""
    return " ".join(secret_base32[i : i + 4] for i in range(0, len(secret_base32), 4))


def _second_factor(request: Request) -> SecondFactor:
    second_factor: SecondFactor = services(request).second_factor
    return second_factor


def _enrol_page(
    ctx: PageContext, enrolment: Enrolment, *, status: int = 200, error: str | None = None
) -> Response:
    return render(
        ctx,
        "totp_enrol.html",
        title=ctx.t("totp.enrol_title"),
        status=status,
        signed_in=True,
        qr=qr_svg(enrolment.uri, ctx.t("totp.qr_label")),
        secret=group_secret(enrolment.secret_base32),
        uri=enrolment.uri,
        error=error,
    )


@router.post("/account/totp/enrol")
async def totp_enrol(request: Request) -> Response:
    """A new secret to set up (see the module docstring)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    factor = _second_factor(request)
    citizen_id = posted.session.citizen_id
    replace = posted.session.restricted and form_text(posted.form, "replace") == "yes"

    try:
        # replace: the phone was lost, and the recovery code stands for the old factor's code
        enrolment = await asyncio.to_thread(factor.begin_enrolment, citizen_id, replace=replace)
    except SecondFactorEnabled:
        return await posted.refused(request, "totp", posted.ctx.t("totp.already"), status=409)
    return _enrol_page(posted.ctx, enrolment)


@router.post("/account/totp/confirm")
async def totp_confirm(request: Request) -> Response:
    """Enable the factor just set up with the app's code, then show the recovery codes."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    ctx, citizen_id = posted.ctx, posted.session.citizen_id
    factor = _second_factor(request)
    code = form_text(posted.form, "code") or ""
    try:
        await asyncio.to_thread(factor.confirm_enrolment, citizen_id, code)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except InvalidCode:
        pending = await asyncio.to_thread(factor.pending_enrolment, citizen_id)
        if pending is not None:
            return _enrol_page(ctx, pending, status=400, error=ctx.t("totp.wrong_code"))
        return await posted.refused(request, "totp", ctx.t("totp.expired"))
    except NoEnrolment:
        return await posted.refused(request, "totp", ctx.t("totp.expired"))
    return await new_recovery_codes_page(
        request, ctx, citizen_id,
        notice=ctx.t("totp.now_enabled"), then="/account?done=totp-on#second-factor",
    )  # fmt: skip


@router.post("/account/totp/disable")
async def totp_disable(request: Request) -> Response:
    """Remove the factor, after a valid code."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    code = form_text(posted.form, "code") or ""
    try:
        await asyncio.to_thread(_second_factor(request).disable, posted.session.citizen_id, code)
    except Throttled as exc:
        return throttled_page(posted.ctx, exc)
    except NoEnrolment:
        return await posted.refused(request, "totp", posted.ctx.t("totp.expired"))
    except InvalidCode:
        return await posted.refused(request, "totp", posted.ctx.t("otp.failed"))
    return see_other(posted.ctx, "/account?done=totp-off#second-factor")
