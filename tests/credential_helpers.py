"""A wallet for the credential tests: an app registered with the credential scope, its
purposes and notice, consent recorded, an access token from the code flow, a holder key,
proofs of possession and an unpacked view of the issued SD-JWT VC."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from audit.entry import LegalBasis
from consent.ledger import ConsentAttempt
from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity
from identity.credentials.proofs import PROOF_TYPE
from tests.consent_helpers import notice_content
from tests.oidc_helpers import OidcWorld, RelyingApp
from tests.token_helpers import Key, forge

WALLET_SCOPE = "openid identity_credential"
CONFIGURATION = "jati_identity_sd_jwt"


def wallet_purposes(client_id: str, *, nik: bool) -> tuple[Purpose, ...]:
    purposes = [
        Purpose(
            app_id=client_id,
            code="identity-wallet",
            description=LocalizedText("Kartu identitas digital", "Digital identity card"),
            legal_basis=LegalBasis.CONSENT,
            data_items=(
                DataItem("name", Sensitivity.GENERAL),
                DataItem("birthdate", Sensitivity.GENERAL),
                DataItem("address", Sensitivity.GENERAL),
            ),
            retention_days=365,
        )
    ]
    if nik:
        purposes.append(
            Purpose(
                app_id=client_id,
                code="population-admin",
                description=LocalizedText("Administrasi kependudukan", "Population admin"),
                legal_basis=LegalBasis.PUBLIC_TASK,
                data_items=(DataItem("nik", Sensitivity.GENERAL),),
                retention_days=3650,
            )
        )
    return tuple(purposes)


@dataclass
class Wallet:
    world: OidcWorld
    app: RelyingApp
    holder: Key = field(default_factory=lambda: Key.new("ES256"))
    access_token: str = ""
    grant_ids: list[str] = field(default_factory=list)

    @property
    def client(self) -> Any:
        return self.world.client

    def nonce(self) -> str:
        response = self.client.post("/credential/nonce")
        assert response.status_code == 200, response.text
        c_nonce: str = response.json()["c_nonce"]
        return c_nonce

    def proof(self, nonce: str | None = None, **overrides: Any) -> str:
        """A proof of possession (OID4VCI App. F.1); ``header={...}`` and claim overrides
        change it (None removes a claim), ``sign_with=key`` signs with another key."""
        sign_with = overrides.pop("sign_with", None)
        header = {"alg": self.holder.alg, "typ": PROOF_TYPE, "jwk": self.public_jwk(), "kid": None}
        header.update(overrides.pop("header", {}))
        claims = {
            "iss": self.app.client_id,
            "aud": self.world.app.state.services.issuer,
            "iat": int(time.time()),
            "nonce": nonce if nonce is not None else self.nonce(),
        }
        claims.update(overrides)
        return forge(
            self.holder,
            header=header,
            claims={k: v for k, v in claims.items() if v is not None},
            sign_with=sign_with,
        )

    def public_jwk(self) -> dict[str, Any]:
        return {k: v for k, v in self.holder.jwk.items() if k in ("kty", "crv", "x", "y")}

    def request(self, jwt: str | None = None, *, token: str | None = None, **body: Any) -> Any:
        payload: dict[str, Any] = {
            "credential_configuration_id": CONFIGURATION,
            "proofs": {"jwt": [jwt if jwt is not None else self.proof()]},
        }
        payload.update(body)
        headers = {"Authorization": f"Bearer {token if token is not None else self.access_token}"}
        return self.client.post("/credential", json=payload, headers=headers)

    def credential(self) -> str:
        response = self.request()
        assert response.status_code == 200, response.text
        compact: str = response.json()["credentials"][0]["credential"]
        return compact


def wallet(world: OidcWorld, *, nik: bool = False, consent: bool = True) -> Wallet:
    """A wallet app with the credential scope (and ``nik`` with a legal basis if asked),
    the citizen logged in and consenting, and an access token from the code flow."""
    scope = WALLET_SCOPE + (" nik" if nik else "")
    app = world.register_app(
        name="Dompet Jakarta",
        scope=scope,
        redirect_uri="https://dompet.example.go.id/callback",
        sector="dompet.example.go.id",
        purposes=False,
        notice=False,
        client_purposes=("population-admin:e",) if nik else (),
    )
    ledger = world.ledger
    for purpose in wallet_purposes(app.client_id, nik=nik):
        ledger.register_purpose(purpose)
    ledger.publish_notice(app.client_id, notice_content(controller="Dompet Jakarta"))
    result = Wallet(world, app)
    world.login()
    if consent:
        notice = ledger.current_notice(app.client_id)
        assert notice is not None
        grants = ledger.record(
            ConsentAttempt(
                subject_id=world.citizen_id,
                app_id=app.client_id,
                notice_hash=notice.content_hash,
                choices={"identity-wallet": True},
                act="consent-screen:setuju",
                subject_birthdate=date(1980, 1, 1),
            )
        )
        result.grant_ids = [g.grant_id for g in grants]
    tokens = world.tokens(app, scope=scope)
    result.access_token = tokens["access_token"]
    return result


@dataclass(frozen=True)
class Unpacked:
    """An SD-JWT VC taken apart without verification (to look at what it holds)."""

    header: dict[str, Any]
    payload: dict[str, Any]
    disclosures: dict[str, list[Any]]  # digest -> decoded disclosure

    def named(self) -> dict[str, Any]:
        """Every object-property disclosure, by claim name (nested names flattened)."""
        return {d[1]: d[2] for d in self.disclosures.values() if len(d) == 3}


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def unpack(compact: str) -> Unpacked:
    jwt, *disclosures = compact.split("~")
    assert disclosures[-1] == "", "an SD-JWT without key binding ends with ~"
    header_segment, payload_segment, _ = jwt.split(".")
    decoded = {}
    for encoded in disclosures[:-1]:
        digest = base64.urlsafe_b64encode(hashlib.sha256(encoded.encode()).digest())
        decoded[digest.rstrip(b"=").decode()] = json.loads(_b64decode(encoded))
    return Unpacked(
        json.loads(_b64decode(header_segment)), json.loads(_b64decode(payload_segment)), decoded
    )


def served_status(world: OidcWorld, compact: str) -> int:
    """The credential's status as the served list says, decoded by the draft's rules."""
    reference = unpack(compact).payload["status"]["status_list"]
    path = reference["uri"].removeprefix(world.app.state.services.issuer)
    response = world.client.get(path, headers={"Accept": "application/statuslist+jwt"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/statuslist+jwt")
    claims = json.loads(_b64decode(response.text.split(".")[1]))
    assert claims["sub"] == reference["uri"]
    bits = claims["status_list"]["bits"]
    raw = zlib.decompress(_b64decode(claims["status_list"]["lst"]))
    idx = reference["idx"]
    byte, offset = divmod(idx * bits, 8)
    return (raw[byte] >> offset) & ((1 << bits) - 1)
