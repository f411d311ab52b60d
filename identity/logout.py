"""RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3), framework-free.

``/end_session`` takes ``id_token_hint``, ``client_id``, ``post_logout_redirect_uri`` and
``state``:

- ``id_token_hint`` must be an ID token Jati issued (signature, ``iss``, ``aud`` checked
  with the relying-party SDK); an expired one is still a valid hint (§2: the RP may hold
  only an old one), so its time claims are checked as of its own ``iat``. It names the app;
  a ``client_id`` given too must be the same app.
- ``post_logout_redirect_uri`` needs an identified app and must equal, as an exact string,
  one of the URIs the app registered. Relying apps do not register post-logout URIs yet, so
  their redirect URIs serve (§3.1: "MUST have been previously registered"). Anything else
  is refused and never redirected to (an open redirector otherwise).
- The session named by the cookie ends, unless the hint names another citizen than the
  session's (§2: the hint is of the End-User the RP believes logged in; logging a different
  person out on an app's word is not its call). Without a hint the session ends too: the
  session cookie is ``SameSite=Lax``, so only a top-level navigation can ask for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from identity.client_assertions import unverified_claims
from identity.clients import RelyingApp
from identity.errors import AuthorizationError, NotFound
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.key_cache import JwksLoader
from identity.sessions import SessionService

__all__ = ["LogoutOutcome", "RpInitiatedLogout"]

log = logging.getLogger(__name__)

MAX_HINT_CHARS = 16_384
MAX_STATE_CHARS = 1024


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


class Subjects(Protocol):
    def subject(self, subject_id: str, sector_identifier: str) -> str: ...


@dataclass(frozen=True, slots=True)
class LogoutOutcome:
    """``redirect``: where to send the browser (None: show a signed-out page);
    ``ended``: whether the session ended (clear the cookie then)."""

    redirect: str | None
    ended: bool


def _invalid(description: str) -> AuthorizationError:
    return AuthorizationError("invalid_request", description, redirectable=False)


class RpInitiatedLogout:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_loader: JwksLoader,
        clients: ClientLookup,
        subjects: Subjects,
        sessions: SessionService,
    ) -> None:
        self.issuer = issuer
        self._loader = jwks_loader
        self.clients = clients
        self.subjects = subjects
        self.sessions = sessions

    def _hint(self, hint: str) -> tuple[RelyingApp, str]:
        """(the app, the ``sub``) of a valid ``id_token_hint``."""
        if len(hint) > MAX_HINT_CHARS:
            raise _invalid("id_token_hint is not valid")
        try:
            peek = unverified_claims(hint)
            aud = peek.get("azp") or peek.get("aud")
            issued_at = peek.get("iat")
            if type(aud) is not str or type(issued_at) not in (int, float):
                raise _invalid("id_token_hint is not valid")
            assert isinstance(issued_at, int | float)
            as_of = float(issued_at)
            app = self.clients.get(aud)
            verifier = TokenVerifier(
                issuer=self.issuer,
                audience=app.client_id,
                jwks_loader=self._loader,
                clock=lambda: as_of,
            )
            claims = verifier.verify_id_token(hint)
        except (InvalidToken, NotFound) as exc:
            log.info("end_session: id_token_hint refused (%s)", type(exc).__name__)
            raise _invalid("id_token_hint is not valid") from None
        return app, str(claims["sub"])

    def end_session(self, params: Mapping[str, str], cookie_value: str | None) -> LogoutOutcome:
        """Check the request, end the session, and say where the browser goes.

        Raises:
            AuthorizationError: (never redirectable) a bad hint, client or redirect URI.
        """
        app: RelyingApp | None = None
        hinted_sub: str | None = None
        if params.get("id_token_hint"):
            app, hinted_sub = self._hint(params["id_token_hint"])
        client_id = params.get("client_id")
        if client_id:
            if app is not None and app.client_id != client_id:
                raise _invalid("client_id is not the audience of id_token_hint")
            if app is None:
                try:
                    app = self.clients.get(client_id)
                except NotFound:
                    raise _invalid("unknown client_id") from None
        redirect_uri = params.get("post_logout_redirect_uri")
        if redirect_uri:
            if app is None:
                raise _invalid("post_logout_redirect_uri needs id_token_hint or client_id")
            if not app.allows_redirect_uri(redirect_uri):
                log.info("end_session: unregistered post_logout_redirect_uri for %s", app.client_id)
                raise _invalid("post_logout_redirect_uri is not registered for this client")
        state = params.get("state")
        if state is not None and (len(state) > MAX_STATE_CHARS or not state.isprintable()):
            raise _invalid("state is malformed or too long")
        ended = self._end(cookie_value, app, hinted_sub)
        if not redirect_uri:
            return LogoutOutcome(None, ended)
        query = urlencode({"state": state}) if state else ""
        separator = "&" if "?" in redirect_uri else "?"
        return LogoutOutcome(f"{redirect_uri}{separator}{query}" if query else redirect_uri, ended)

    def _end(
        self, cookie_value: str | None, app: RelyingApp | None, hinted_sub: str | None
    ) -> bool:
        session = self.sessions.get(cookie_value)
        if session is None:
            return True  # nothing to end; the cookie (if any) is stale
        if hinted_sub is not None and app is not None and app.sector_identifier is not None:
            mine = self.subjects.subject(session.citizen_id, app.sector_identifier)
            if mine != hinted_sub:
                log.info("end_session: the hint names another citizen; session kept")
                return False
        self.sessions.end(cookie_value)
        return True
