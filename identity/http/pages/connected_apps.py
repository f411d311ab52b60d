"""Aplikasi yang terhubung (connected apps): ``GET /account/apps``.

Each app the citizen has given consent to (UU PDP Art. 9, 20(2)(a)), with what it may
receive under which purpose and since when, withdraw beside each purpose (the account page's
``POST /account/consents/{id}/withdraw``, which comes back here), what the app may receive
on another basis of Art. 20(2) without asking, and when it last used the citizen's data
(Art. 31-32: the newest of its audit entries the citizen may see), with a link to its events
on the activity page. Apps whose every consent has ended (withdrawn, refused, expired) are
listed apart. Without a session the page redirects to ``/login``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import LegalBasis
from consent.purposes import Purpose
from identity.citizens.activity import last_use
from identity.http.pages.activity import app_name
from identity.http.pages.common import page_context, render, see_other, session_of
from identity.http.pages.intent import forget_intent, kept_for
from identity.service.services import Services
from identity.service.web.state import services

__all__ = ["ConnectedApp", "connected_apps", "router"]

router = APIRouter(include_in_schema=False)

#: Grant statuses under which the app may receive the purpose's data.
_IN_FORCE = frozenset({"active", "needs_reconfirmation"})


@dataclass(slots=True)
class ConnectedApp:
    """One app as the citizen sees it."""

    app_id: str
    name: str
    consents: list[dict[str, Any]] = field(default_factory=list)  # in force, newest first
    ended: int = 0  # consents withdrawn, refused or expired
    other_bases: list[Purpose] = field(default_factory=list)  # no consent asked (Art. 20(2))
    last_use: datetime | None = None

    @property
    def since(self) -> str | None:
        """When the earliest consent in force was given (ISO 8601)."""
        return min((c["given_at"] for c in self.consents), default=None)


def connected_apps(state: Services, citizen_id: str) -> list[ConnectedApp]:
    """The citizen's apps: those with a consent in force first, each group by name."""
    apps: dict[str, ConnectedApp] = {}
    for grant in state.consent_ledger.consents_of(citizen_id):
        app_id = grant["app_id"]
        if app_id not in apps:
            apps[app_id] = ConnectedApp(app_id, app_name(state, app_id))
        if grant["status"] in _IN_FORCE:
            apps[app_id].consents.append(grant)
        else:
            apps[app_id].ended += 1
    for app in apps.values():
        app.consents.sort(key=lambda c: c["given_at"], reverse=True)
        app.other_bases = [
            p
            for p in state.consent_ledger.purposes(app.app_id)
            if p.legal_basis is not LegalBasis.CONSENT
        ]
        app.last_use = last_use(state.audit_log, state.pseudonymizer, citizen_id, app.app_id)
    return sorted(apps.values(), key=lambda a: (not a.consents, a.name.lower()))


@router.get("/account/apps")
async def apps_page(request: Request) -> Response:
    ctx = page_context(request)
    session = await session_of(request)
    if session is None:
        return see_other(ctx, "/login")
    apps = await asyncio.to_thread(connected_apps, services(request), session.citizen_id)
    done = ctx.t("account.withdrawn") if request.query_params.get("done") == "withdrawn" else None
    kept = kept_for(request, "/account/apps", session.citizen_id)  # a withdrawal not sent
    response = render(
        ctx, "connected_apps.html", title=ctx.t("apps.title"), signed_in=True,
        connected=[a for a in apps if a.consents], former=[a for a in apps if not a.consents],
        done=done, refill=kept,
    )  # fmt: skip
    if kept is not None:
        forget_intent(request, response)
    return response
