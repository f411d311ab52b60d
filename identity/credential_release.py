"""What a credential request may carry: the access token checked, the data released.

OID4VCI 1.0 §8: the credential endpoint takes an access token from Jati's code flow whose
scope includes the credential configuration's ``scope`` (``identity_credential``). The token
is checked as userinfo checks it (signature, ``exp``, not revoked, its token family alive,
every consent grant of the family still active), then each purpose the authorization was
granted under releases the credential's data items through the consent gate and the audited
read (:class:`identity.release.ClaimRelease`): the credential carries exactly what the
citizen consented to give the wallet app, or what another legal basis of UU PDP Art. 20(2)
allows (the NIK only under a purpose with a basis for it), and each read is in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Protocol

from consent.errors import ConsentRequired
from consent.purposes import Purpose
from identity.citizens import CitizenErased, CitizenNotFound
from identity.credentials import CREDENTIAL_CLAIMS, CREDENTIAL_SCOPE, Release, ReleasedPurpose
from identity.errors import CredentialError, InsufficientScope, NotFound
from identity.refresh_tokens import TokenFamily
from identity.release import CLAIM_FIELDS

log = logging.getLogger(__name__)


class ActiveTokens(Protocol):
    def active_access_token(self, token: str) -> tuple[dict[str, Any], TokenFamily]: ...


class Purposes(Protocol):
    def purposes(self, app_id: str) -> list[Purpose]: ...


class AppRegistry(Protocol):
    def get(self, client_id: str) -> Any: ...  # a RelyingApp with allowed_claims


class Releaser(Protocol):
    def release(
        self,
        *,
        citizen_id: str,
        app_id: str,
        purpose: str,
        claims: Collection[str],
        allowed_claims: Collection[str],
        request_id: str | None = None,
    ) -> dict[str, str]: ...


class CredentialRelease:
    """``release(token) -> Release`` for the credential endpoint (see the module text)."""

    def __init__(
        self,
        *,
        tokens: ActiveTokens,
        purposes: Purposes,
        clients: AppRegistry,
        releaser: Releaser,
    ) -> None:
        self.tokens = tokens
        self.purposes = purposes
        self.clients = clients
        self.releaser = releaser

    def authorize(self, token: str) -> TokenFamily:
        """The token family of a valid access token with the credential scope.

        Raises:
            Unauthorized: the token is not valid, revoked, or its consent withdrawn.
            InsufficientScope: the token lacks ``identity_credential``.
        """
        claims, family = self.tokens.active_access_token(token)
        if CREDENTIAL_SCOPE not in str(claims.get("scope", "")).split():
            raise InsufficientScope(CREDENTIAL_SCOPE)
        return family

    def release(self, family: TokenFamily) -> Release:
        """The consented values of the credential's data items, purpose by purpose.

        Raises:
            CredentialError: ``credential_request_denied`` when nothing may be released.
        """
        try:
            app = self.clients.get(family.client_id)
        except NotFound:
            raise CredentialError("credential_request_denied", "the app is gone") from None
        wanted = [c for c in CREDENTIAL_CLAIMS if c in family.claims]
        by_code = {p.code: p for p in self.purposes.purposes(app.client_id)}
        values: dict[str, str] = {}
        released: list[ReleasedPurpose] = []
        for allowed in family.purposes:
            purpose = by_code.get(allowed.code)
            if purpose is None:
                continue
            claims = [
                c for c in wanted if c not in values and CLAIM_FIELDS[c] in purpose.item_names
            ]
            if not claims:
                continue
            try:
                got = self.releaser.release(
                    citizen_id=family.citizen_id,
                    app_id=app.client_id,
                    purpose=allowed.code,
                    claims=claims,
                    allowed_claims=app.allowed_claims,
                )
            except (ConsentRequired, CitizenErased, CitizenNotFound) as exc:
                log.info("credential claims of a purpose not released: %s", type(exc).__name__)
                continue
            if got:
                values.update(got)
                fields = tuple(sorted(CLAIM_FIELDS[c] for c in got))
                released.append(
                    ReleasedPurpose(allowed.code, allowed.legal_basis, allowed.grant_id, fields)
                )
        if not values:
            raise CredentialError(
                "credential_request_denied", "no data item of the credential may be released"
            )
        return Release(
            citizen_id=family.citizen_id,
            client_id=app.client_id,
            values=values,
            purposes=tuple(released),
        )
