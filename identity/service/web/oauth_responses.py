"""The forms of OAuth 2.0 answers that every OAuth endpoint shares.

- :data:`NO_STORE`: every response that carries a code or a token, or answers a request
  that did, is ``Cache-Control: no-store`` with ``Pragma: no-cache`` (RFC 6749 §5.1).
- :func:`oauth_error_response`: the error JSON of RFC 6749 §5.2 (also RFC 6750 §3, RFC 7009
  §2.2.1, RFC 7662 §2.3, OpenID for Verifiable Credential Issuance 1.0 §8.3.1.2):
  ``{"error": code}``, with ``error_description`` when there is a description.
- :func:`oauth_problem_response`: an error that is shown to a person instead (RFC 6749
  §4.1.2.1: never sent to an untrusted redirect URI): an RFC 9457 problem document
  (:mod:`identity.service.web.problems`) that also carries the ``error`` and
  ``error_description`` members, for the OAuth library that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from identity.service.web.problems import problem_response

__all__ = ["NO_STORE", "oauth_error_response", "oauth_problem_response"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(
    error: str,
    description: str = "",
    *,
    status: int = 400,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """RFC 6749 §5.2: JSON ``error``, and ``error_description`` unless ``description`` is
    empty."""
    body = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_problem_response(
    title: str, error: str, description: str, *, headers: Mapping[str, str]
) -> JSONResponse:
    """400 ``application/problem+json`` whose ``code`` is the OAuth ``error``, with the
    ``error`` and ``error_description`` members (the latter even when empty)."""
    return problem_response(
        400,
        title,
        code=error,
        detail=description or None,
        headers=dict(headers),
        extra={"error": error, "error_description": description},
    )
