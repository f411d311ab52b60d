"""The client credentials grant at the token endpoint (RFC 6749 §4.4), framework-free.

For auditor apps only (the token endpoint checks the app may use it): an access token for
Jati's own API (``aud`` = the issuer, ``sub`` = the client id, RFC 9068 §2.2) with the
app's registered scopes, or fewer (``scope`` may narrow, §3.3), and no refresh token
(§4.4.3). A TOKEN_ISSUED audit entry (the app as actor, no citizen) records it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from identity.oidc.clients import RelyingApp
from identity.oidc.issuance import Issuance, issuance_entries, narrowed, token_response

__all__ = ["ClientCredentialsGrant"]


class AuditStore(Protocol):
    def write(self) -> Any: ...  # a transaction whose ``bind`` takes audit entries


@dataclass(eq=False, kw_only=True)
class ClientCredentialsGrant:
    """``token(app, form)``: the token response of the client credentials grant.

    Args:
        store: the OIDC store (its transaction takes the audit entry).
        issuance: signs the access token and records the issuance.
        clock: the current UTC time.
    """

    store: AuditStore
    issuance: Issuance
    clock: Callable[[], datetime]

    def token(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response (RFC 6749 §5.1, §4.4.3).

        Raises:
            TokenError: ``invalid_scope`` (RFC 6749 §5.2).
        """
        scopes = narrowed(form.get("scope"), app.scopes)
        now = self.clock()
        tokens = self.issuance.tokens
        access = tokens.access_token(client_id=app.client_id, scope=scopes, audience=tokens.issuer)
        entries = issuance_entries(
            client_id=app.client_id,
            subject=None,
            purposes=(),
            claims_by_purpose={},
            tokens=("token:access",),
            now=now,
        )
        with self.store.write() as tx:
            self.issuance.record(tx.bind, entries, now)
        return token_response(access, scopes, None, None)
