"""The front page, ``GET /``: what Jati is, in plain words, and where each reader goes next.

Three audiences, one section each (docs/citizens.md, "The pages"; issue 15):

- citizens: their account (``/account``: consents, requests) and its "who used my data"
  section (``/account#access-log``, the record of processing of UU PDP Art. 31);
- relying apps' developers: OpenID Connect Discovery 1.0 metadata, the JWK Set at
  :data:`identity.http.discovery.JWKS_PATH`, the interactive API documentation (``/docs``),
  and the written guides, named as ``docs/`` of the source repository (the service does not
  serve the repository, and no setting names where it is published);
- auditors: the latest signed checkpoint and its verifier key (:mod:`audit.http`), how to
  check a kept checkpoint against a later one (RFC 9162 §2.1.4 consistency proof) and one
  record (§2.1.3 inclusion proof), and ``jati audit verify``.

The page follows every page's rules (:mod:`identity.http.pages.common`): Bahasa Indonesia
unless the switch or its cookie asks for English, the page CSP and ``no-store``, the shared
frame of ``base.html``. It shows no personal data: a signed-in browser only gets the frame's
account and sign-out links. Like the other pages, it is left out of the OpenAPI schema.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from identity.http.discovery import JWKS_PATH, OIDC_METADATA_PATH, issuer_of
from identity.http.pages.common import page_context, render, session_of

__all__ = ["DISCOVERY_PATH", "router"]

router = APIRouter(include_in_schema=False)

DISCOVERY_PATH = OIDC_METADATA_PATH
#: The guides of the source repository's ``docs/`` folder, each with its message key.
GUIDES = (
    ("docs/relying-apps.md", "home.developers.guide_relying_apps"),
    ("docs/operators.md", "home.developers.guide_operators"),
    ("docs/audit-log.md", "home.developers.guide_audit_log"),
)


@router.get("/")
async def front_page(request: Request) -> Response:
    ctx = page_context(request)
    return render(
        ctx,
        "home.html",
        title=ctx.t("home.title"),
        signed_in=await session_of(request) is not None,
        issuer=issuer_of(request),
        discovery_path=DISCOVERY_PATH,
        jwks_path=JWKS_PATH,
        guides=GUIDES,
    )
