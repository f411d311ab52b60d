"""The UserInfo endpoint (OIDC Core §5.3), framework-free.

The access token must be in force (:class:`identity.oidc.access_tokens.AccessTokenChecks`:
valid, not revoked, its token family alive, every consent grant of the family still active)
and carry the ``openid`` scope (§5.3.1). The answer is ``sub`` (the app's pairwise subject)
and, of the claims the family was authorized for, those the token's scopes ask for (§5.4),
each purpose's claims released through the consent gate and the one audited read
(:meth:`identity.oidc.issuance.Issuance.release_by_purpose`); a purpose whose release is
refused leaves its claims out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identity.errors import InsufficientScope, NotFound, Unauthorized
from identity.oidc.access_tokens import AccessTokenChecks
from identity.oidc.clients import SCOPE_CLAIMS, claims_for_scopes
from identity.oidc.issuance import ClientLookup, Issuance, sector

__all__ = ["Userinfo"]


@dataclass(eq=False, kw_only=True)
class Userinfo:
    """``claims(token)``: the UserInfo response (see the module text).

    Args:
        access_tokens: checks the access token presented.
        clients: the client registry.
        issuance: the claim release of a token family, and the pairwise subjects.
    """

    access_tokens: AccessTokenChecks
    clients: ClientLookup
    issuance: Issuance

    def claims(self, token: str) -> dict[str, Any]:
        """OIDC Core §5.3.2: ``sub`` and the consented claims the token's scopes ask for.

        Raises:
            Unauthorized: the token is not valid, revoked, or its consent withdrawn.
            InsufficientScope: the token lacks the ``openid`` scope.
        """
        claims, family = self.access_tokens.active_access_token(token)
        scopes = str(claims.get("scope", "")).split()
        if "openid" not in scopes:
            raise InsufficientScope("openid")
        try:
            app = self.clients.get(family.client_id)
        except NotFound:
            raise Unauthorized("the access token is not valid") from None
        asked = claims_for_scopes(s for s in scopes if s in SCOPE_CLAIMS)
        wanted = tuple(c for c in family.claims if c in asked)
        released = self.issuance.release(app, family, wanted, strict=False)
        return {"sub": self.issuance.tokens.subject(family.citizen_id, sector(app)), **released}
