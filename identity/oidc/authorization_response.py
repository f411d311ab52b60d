"""The answers to an authorization request at the app's redirect URI (RFC 6749 §4.1.2,
§4.1.2.1; OIDC Core §3.1.2.5, §3.1.2.6), each with ``iss`` (RFC 9207 §2), and the
:class:`Redirect` that carries them (framework-free).

The redirect URI is one the app registered (compared as an exact string,
:mod:`identity.oidc.authorization_request`); its own query is kept (RFC 6749 §3.1.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

__all__ = ["Redirect", "authorization_response", "error_response"]


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where to send the browser next (HTTP 303, RFC 9110 §15.4.4)."""

    location: str


def _with_query(uri: str, values: Mapping[str, str | None]) -> str:
    """Add parameters to a registered redirect URI, keeping its own query (RFC 6749 §3.1.2:
    "MUST retain" it)."""
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def error_response(
    redirect_uri: str, issuer: str, error: str, description: str, state: str | None
) -> Redirect:
    """RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6 error at the redirect URI, with ``iss``
    (RFC 9207 §2)."""
    return Redirect(
        _with_query(
            redirect_uri,
            {
                "error": error,
                "error_description": description or None,
                "state": state,
                "iss": issuer,
            },
        )
    )


def authorization_response(
    redirect_uri: str, issuer: str, code: str, state: str | None
) -> Redirect:
    """RFC 6749 §4.1.2 with ``iss`` (RFC 9207 §2)."""
    return Redirect(_with_query(redirect_uri, {"code": code, "state": state, "iss": issuer}))
