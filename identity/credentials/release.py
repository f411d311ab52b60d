"""What a credential request may carry: the access token checked, the data released.

OID4VCI 1.0 §8: the credential endpoint takes an access token from Jati's code flow whose
scope includes the credential configuration's ``scope`` (``identity_credential``). The token
is checked as userinfo checks it (signature, ``exp``, not revoked, its token family alive,
every consent grant of the family still active), then each purpose the authorization was
granted under releases the credential's data items through the consent gate and the audited
read (:class:`identity.oidc.claims_release.ClaimRelease`): the credential carries exactly what the
citizen consented to give the wallet app, or what another legal basis of UU PDP Art. 20(2)
allows (the NIK only under a purpose with a basis for it), and each read is in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from identity.credentials.issuer import (
    CREDENTIAL_CLAIMS,
    CREDENTIAL_SCOPE,
    CredentialPurpose,
    Release,
)
from identity.errors import CredentialError, InsufficientScope, NotFound
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.codes import ReleasedPurpose
from identity.oidc.refresh_families import TokenFamily


class AccessTokens(Protocol):
    """Checks the access token (:class:`identity.oidc.access_tokens.AccessTokenChecks`)."""

    def active_access_token(self, token: str) -> tuple[dict[str, Any], TokenFamily]: ...


class FamilyClaims(Protocol):
    """Releases a token family's claims (:class:`identity.oidc.issuance.Issuance`)."""

    def release_by_purpose(
        self, app: Any, family: TokenFamily, claims: Sequence[str], *, strict: bool
    ) -> list[tuple[ReleasedPurpose, dict[str, str]]]: ...


class AppRegistry(Protocol):
    def get(self, client_id: str) -> Any: ...  # a RelyingApp


class CredentialRelease:
    """``authorize(token)`` then ``release(family)`` for the credential endpoint (see the
    module text)."""

    def __init__(
        self, *, access_tokens: AccessTokens, claims: FamilyClaims, clients: AppRegistry
    ) -> None:
        self.access_tokens = access_tokens
        self.claims = claims
        self.clients = clients

    def authorize(self, token: str) -> TokenFamily:
        """The token family of a valid access token with the credential scope.

        Raises:
            Unauthorized: the token is not valid, revoked, or its consent withdrawn.
            InsufficientScope: the token lacks ``identity_credential``.
        """
        claims, family = self.access_tokens.active_access_token(token)
        if CREDENTIAL_SCOPE not in str(claims.get("scope", "")).split():
            raise InsufficientScope(CREDENTIAL_SCOPE)
        return family

    def release(self, family: TokenFamily) -> Release:
        """The consented values of the credential's data items, purpose by purpose (the
        token service's release: consent gate, then the audited read).

        Raises:
            CredentialError: ``credential_request_denied`` when nothing may be released.
        """
        try:
            app = self.clients.get(family.client_id)
        except NotFound:
            raise CredentialError("credential_request_denied", "the app is gone") from None
        wanted = [c for c in CREDENTIAL_CLAIMS if c in family.claims]
        released = self.claims.release_by_purpose(app, family, wanted, strict=False)
        if not released:
            raise CredentialError(
                "credential_request_denied", "no data item of the credential may be released"
            )
        return Release(
            citizen_id=family.citizen_id,
            client_id=family.client_id,
            values={c: v for _purpose, values in released for c, v in values.items()},
            purposes=tuple(
                CredentialPurpose(
                    code=purpose.code,
                    legal_basis=purpose.legal_basis,
                    grant_id=purpose.grant_id,
                    fields=tuple(sorted(CLAIM_FIELDS[c] for c in values)),
                )
                for purpose, values in released
            ),
        )
