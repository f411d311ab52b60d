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
- The session named by the cookie ends at once only when the hint names the session's
  citizen (the app's own, verified word). Otherwise (no hint, only a ``client_id``, or a
  hint naming another citizen) nothing ends yet: the browser goes to the confirmation page
  (:data:`CONFIRMATION_PATH`), which asks the citizen (§2: the OP "MUST ask the End-User"
  when no ``id_token_hint`` was provided or it does not belong to the current session).
  Issue 17: a cross-site link used to end the session (``SameSite=Lax`` lets a top-level
  navigation carry the cookie). That page's form is CSRF-protected
  (:mod:`identity.http.pages.csrf`) and ends the session with ``confirmed=True``; its query
  carries the checked ``client_id`` (never the hint), ``post_logout_redirect_uri`` and
  ``state``, which are checked again. Without a live session there is nothing to confirm:
  the answer is the same as after a logout.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from identity.errors import AuthorizationError, NotFound
from identity.login.sessions import SessionService
from identity.oidc.client_auth import unverified_claims
from identity.oidc.clients import RelyingApp
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.key_cache import JwksLoader

__all__ = ["CONFIRMATION_PATH", "LogoutOutcome", "LogoutRequest", "RpInitiatedLogout"]

log = logging.getLogger(__name__)

MAX_HINT_CHARS = 16_384
MAX_STATE_CHARS = 1024
#: The page that asks the citizen to confirm a logout (:mod:`identity.http.pages.logout`).
CONFIRMATION_PATH = "/end_session/confirm"


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


class Subjects(Protocol):
    def subject(self, subject_id: str, sector_identifier: str) -> str: ...


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """A checked logout request: the app it names (by ``id_token_hint`` or ``client_id``),
    the registered URI to send the browser to afterwards, the app's ``state``, and the
    ``sub`` of a valid hint."""

    app: RelyingApp | None
    post_logout_redirect_uri: str | None
    state: str | None
    hinted_sub: str | None = None

    def confirmation_parameters(self) -> dict[str, str]:
        """What the confirmation page carries to its form: the app by id, never the hint."""
        values = {
            "client_id": self.app.client_id if self.app is not None else None,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
        }
        return {k: v for k, v in values.items() if v}

    def after_logout(self) -> str | None:
        """Where the browser goes once signed out: the registered URI with ``state``, or
        None (a signed-out page)."""
        uri = self.post_logout_redirect_uri
        if uri is None or not self.state:
            return uri
        separator = "&" if "?" in uri else "?"
        return f"{uri}{separator}{urlencode({'state': self.state})}"


@dataclass(frozen=True, slots=True)
class LogoutOutcome:
    """``redirect``: where to send the browser (None: show a signed-out page);
    ``ended``: whether the session ended (clear the cookie then); ``confirm``: the
    confirmation page to send the browser to instead (nothing ended)."""

    redirect: str | None
    ended: bool
    confirm: str | None = None


def _invalid(description: str) -> AuthorizationError:
    return AuthorizationError("invalid_request", description, redirectable=False)


@dataclass(kw_only=True, eq=False, repr=False)
class RpInitiatedLogout:
    """Answers ``/end_session`` and its confirmation page (see the module text), built with
    keywords.

    Attributes:
        issuer: Jati's issuer (the hint's ``iss``, the base of the confirmation page's URL).
        jwks_loader: Jati's signing keys, to verify the hint with.
        clients: the client registry.
        subjects: the citizen's pairwise ``sub`` for an app (to match the hint's).
        sessions: the login sessions.
    """

    issuer: str
    jwks_loader: JwksLoader
    clients: ClientLookup
    subjects: Subjects
    sessions: SessionService

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
                jwks_loader=self.jwks_loader,
                clock=lambda: as_of,
            )
            claims = verifier.verify_id_token(hint)
        except (InvalidToken, NotFound) as exc:
            log.info("end_session: id_token_hint refused (%s)", type(exc).__name__)
            raise _invalid("id_token_hint is not valid") from None
        return app, str(claims["sub"])

    def check(self, params: Mapping[str, str]) -> LogoutRequest:
        """Check a logout request's parameters (the module docstring's rules).

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
        if state is not None and (
            len(state) > MAX_STATE_CHARS or not (state.isascii() and state.isprintable())
        ):  # RFC 6749 Appendix A.5: state is VSCHAR, printable ASCII
            raise _invalid("state is malformed or too long")
        return LogoutRequest(app, redirect_uri or None, state or None, hinted_sub)

    def end_session(
        self, params: Mapping[str, str], cookie_value: str | None, *, confirmed: bool = False
    ) -> LogoutOutcome:
        """Check the request, then end the session or ask for a confirmation, and say where
        the browser goes. ``confirmed``: the citizen confirmed on the confirmation page
        (its CSRF token checked by the caller).

        Raises:
            AuthorizationError: (never redirectable) a bad hint, client or redirect URI.
        """
        request = self.check(params)
        session = self.sessions.get(cookie_value)
        if session is not None:  # without one, nothing to end; a stale cookie is cleared
            if not confirmed and not self._hint_names(request, session.citizen_id):
                log.info("end_session: no hint of this session's citizen; confirmation asked")
                query = urlencode(request.confirmation_parameters())
                page = f"{self.issuer}{CONFIRMATION_PATH}"
                return LogoutOutcome(None, False, confirm=f"{page}?{query}" if query else page)
            self.sessions.end(cookie_value)
        return LogoutOutcome(request.after_logout(), True)

    def _hint_names(self, request: LogoutRequest, citizen_id: str) -> bool:
        """The request's valid hint is an ID token of this citizen (its pairwise ``sub``)."""
        app = request.app
        if request.hinted_sub is None or app is None or app.sector_identifier is None:
            return False
        return self.subjects.subject(citizen_id, app.sector_identifier) == request.hinted_sub
