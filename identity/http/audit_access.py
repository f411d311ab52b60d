"""Identity's HTTP side of auditor access to the audit log (UU PDP Art. 31, 46).

:class:`AuditorAuthorizer` is the audit API's ``authorize_auditor`` (``audit.http``): a Jati
access token with scope ``audit:read`` that an auditor app obtained for itself (client
credentials, RFC 6749 §4.4, so ``sub`` equals ``client_id``, RFC 9068 §2.2). A token issued on
behalf of a citizen is refused even if it carries the scope: an auditor acts in its own name.

The rest of what the audit adapters are given is not HTTP's: the NIK and pseudonym lookups
and breach contacts are :mod:`identity.citizens.auditor_lookup`'s, the recording of a query
and the breach report's reads :mod:`identity.storage.auditor_lookup`'s.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from identity.errors import Unauthorized
from identity.http.bearer import ApiAuthorizer

log = logging.getLogger(__name__)

__all__ = ["AuditorAuthorizer"]


class AuditorAuthorizer:
    """``authorize_auditor(request, scope) -> claims``: an auditor app's own access token."""

    def __init__(self, *, api: ApiAuthorizer) -> None:
        self._api = api

    def __call__(self, request: Request, scope: str) -> dict[str, Any]:
        claims = self._api(request, scope)
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or claims.get("sub") != client_id:
            log.info("access token refused: the audit API takes an auditor app's own token")
            raise Unauthorized("the access token is not valid")
        return claims
