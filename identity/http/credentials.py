"""Credential issuance over HTTP: metadata, nonce and credential endpoints.

- ``GET /.well-known/jwt-vc-issuer`` (draft-ietf-oauth-sd-jwt-vc §5): ``issuer`` and the
  ``jwks_uri`` its SD-JWT VCs verify with (``jwks_uri`` only, never both).
- ``GET /.well-known/openid-credential-issuer`` (OID4VCI 1.0 §12.2): the credential issuer
  metadata: endpoints, display, and the one credential configuration Jati offers. Its
  ``credential_signing_alg_values_supported`` names the one algorithm credentials are signed
  with (``JATI_TOKEN_SIGNING_ALG``), the ``alg`` their key carries in the JWK Set; proofs may
  use the holder algorithms (never RSA).
- ``GET /vct/identity/v1``: the SD-JWT VC type metadata of the Jati identity credential
  (draft-ietf-oauth-sd-jwt-vc §6): its claims, their display names and which are always
  or never selectively disclosable.
- ``POST /credential/nonce`` (OID4VCI §7): a fresh ``c_nonce``; ``no-store``.
- ``POST /credential`` (OID4VCI §8): ``Authorization: Bearer`` with an access token of
  scope ``identity_credential`` and a JSON body ``{"credential_configuration_id",
  "proofs": {"jwt": [proof]}}``; answers ``{"credentials": [{"credential": sd_jwt}]}``.
  Errors are §8.3.1.2's: 400 with ``{"error", "error_description"}``; a bad token is 401
  with ``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750 §3.1). The proof is
  checked before any personal data is read; the release goes through the consent gate and
  the audit log (:mod:`identity.credentials.release`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.credentials.issuer import (
    CONFIGURATION_ID,
    CREDENTIAL_FORMAT,
    CREDENTIAL_SCOPE,
    VCT_PATH,
    CredentialService,
)
from identity.credentials.release import CredentialRelease
from identity.errors import CredentialError
from identity.http.bearer import bearer_token
from identity.http.discovery import JWKS_PATH, issuer_of
from identity.oidc.tokens import TokenIssuer
from identity.relying_party.keys import HOLDER_ALGORITHMS
from identity.service.web.oauth_responses import oauth_error_response
from identity.service.web.openapi import oauth_error, problem
from identity.service.web.state import services

log = logging.getLogger(__name__)
router = APIRouter(tags=["Verifiable credentials"])

NONCE_PATH = "/credential/nonce"
CREDENTIAL_PATH = "/credential"
NO_STORE = {"Cache-Control": "no-store"}
METADATA_CACHE = {"Cache-Control": "public, max-age=3600"}
MAX_BODY_BYTES = 16 * 1024

#: (claim path, Bahasa Indonesia, English) of the credential's selectively disclosable claims.
_CLAIMS: tuple[tuple[tuple[str | None, ...], str, str], ...] = (
    (("name",), "Nama lengkap", "Full name"),
    (("given_name",), "Nama depan", "Given name"),
    (("family_name",), "Nama keluarga", "Family name"),
    (("birthdate",), "Tanggal lahir", "Date of birth"),
    (("age_equal_or_over", "18"), "Berusia 18 tahun ke atas", "Aged 18 or over"),
    (("address", "formatted"), "Alamat", "Address"),
    (("address", "street_address"), "Jalan", "Street"),
    (("address", "locality"), "Kota/kabupaten", "City"),
    (("address", "country"), "Negara", "Country"),
    (("nik",), "NIK", "National identity number (NIK)"),
    (("nationalities",), "Kewarganegaraan", "Nationality"),
)
_NAME = ("Identitas Jati", "Jati identity")
_DESCRIPTION = (
    "Identitas kependudukan dengan pengungkapan selektif",
    "Population identity with selective disclosure",
)


def _display(id_text: str, en_text: str, key: str = "name") -> list[dict[str, str]]:
    return [{key: id_text, "locale": "id-ID"}, {key: en_text, "locale": "en-US"}]


def _service(request: Request) -> CredentialService:
    service: CredentialService = services(request).credentials
    return service


@router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata")
async def jwt_vc_issuer(request: Request) -> JSONResponse:
    issuer = issuer_of(request)
    return JSONResponse({"issuer": issuer, "jwks_uri": issuer + JWKS_PATH}, headers=METADATA_CACHE)


@router.get("/.well-known/openid-credential-issuer", summary="Credential issuer metadata")
async def credential_issuer(request: Request) -> JSONResponse:
    issuer = issuer_of(request)
    tokens: TokenIssuer = services(request).token_issuer
    configuration = {
        "format": CREDENTIAL_FORMAT,
        "scope": CREDENTIAL_SCOPE,
        "vct": issuer + VCT_PATH,
        "cryptographic_binding_methods_supported": ["jwk"],
        # what credentials are signed with: the service's algorithm, never RS256
        "credential_signing_alg_values_supported": [tokens.signing_alg],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": sorted(HOLDER_ALGORITHMS)}
        },
        "credential_metadata": {
            "display": [
                {**d, "description": desc["description"]}
                for d, desc in zip(
                    _display(*_NAME), _display(*_DESCRIPTION, key="description"), strict=True
                )
            ],
            "claims": [
                {"path": list(path), "display": _display(id_text, en_text)}
                for path, id_text, en_text in _CLAIMS
            ],
        },
    }
    return JSONResponse(
        {
            "credential_issuer": issuer,
            "credential_endpoint": issuer + CREDENTIAL_PATH,
            "nonce_endpoint": issuer + NONCE_PATH,
            "display": _display("Jati", "Jati"),
            "credential_configurations_supported": {CONFIGURATION_ID: configuration},
        },
        headers=METADATA_CACHE,
    )


@router.get(VCT_PATH, summary="Type metadata of the Jati identity credential")
async def type_metadata(request: Request) -> JSONResponse:
    issuer = issuer_of(request)
    claims: list[dict[str, Any]] = [
        {"path": list(path), "display": _display(i, e, key="label"), "sd": "always"}
        for path, i, e in _CLAIMS
    ]
    claims += [
        {"path": [name], "sd": "never"} for name in ("iss", "iat", "exp", "vct", "cnf", "status")
    ]
    return JSONResponse(
        {
            "vct": issuer + VCT_PATH,
            "name": _NAME[1],
            "description": _DESCRIPTION[1],
            "display": [
                {"locale": "id-ID", "name": _NAME[0], "description": _DESCRIPTION[0]},
                {"locale": "en-US", "name": _NAME[1], "description": _DESCRIPTION[1]},
            ],
            "claims": claims,
        },
        headers=METADATA_CACHE,
    )


@router.post(NONCE_PATH, summary="A fresh c_nonce for a proof of possession")
async def nonce(request: Request) -> JSONResponse:
    return JSONResponse({"c_nonce": _service(request).new_nonce()}, headers=NO_STORE)


def _error(exc: CredentialError) -> JSONResponse:
    log.info("credential request refused: %s (%s)", exc.error, exc.description)
    return oauth_error_response(exc.error, exc.description, headers=NO_STORE)


async def _request_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise CredentialError("invalid_credential_request", "the body must be application/json")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise CredentialError("invalid_credential_request", "the request is too large")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CredentialError("invalid_credential_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise CredentialError("invalid_credential_request", "the body is a JSON object")
    return body


def _one_proof(body: dict[str, Any]) -> str:
    configuration = body.get("credential_configuration_id")
    if "credential_identifier" in body:
        raise CredentialError(
            "invalid_credential_request", "use credential_configuration_id, not an identifier"
        )
    if configuration != CONFIGURATION_ID:
        raise CredentialError(
            "unknown_credential_configuration", f"this issuer offers {CONFIGURATION_ID}"
        )
    if "proof" in body:
        raise CredentialError("invalid_credential_request", "send proofs, not proof (OID4VCI 1.0)")
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise CredentialError("invalid_proof", 'proofs must be {"jwt": [one proof]}')
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1 or not isinstance(jwts[0], str):
        raise CredentialError("invalid_proof", "exactly one jwt proof (no batch issuance)")
    return jwts[0]


@router.post(
    CREDENTIAL_PATH,
    summary="Issue an SD-JWT VC to the holder's wallet",
    responses={
        200: {
            "description": "the credential (OID4VCI 1.0 §8.3): a dc+sd-jwt in JSON",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["credentials"],
                        "properties": {
                            "credentials": {"type": "array", "items": {"type": "object"}}
                        },
                    }
                }
            },
        },
        400: oauth_error(
            "invalid_credential_request, unknown_credential_configuration, invalid_proof, "
            "invalid_nonce or credential_request_denied (OID4VCI 1.0 §8.3.1.2)"
        ),
        401: problem("no access token, or not a valid one (WWW-Authenticate: Bearer)"),
        403: problem("the access token lacks the credential scope"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["credential_configuration_id", "proofs"],
                        "properties": {
                            "credential_configuration_id": {
                                "type": "string",
                                "enum": [CONFIGURATION_ID],
                            },
                            "proofs": {
                                "type": "object",
                                "required": ["jwt"],
                                "additionalProperties": False,
                                "properties": {
                                    "jwt": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "minItems": 1,
                                        "maxItems": 1,
                                    }
                                },
                            },
                        },
                    }
                }
            },
        }
    },
)
async def credential(request: Request) -> JSONResponse:
    token = bearer_token(request)  # 401 before anything else is looked at
    release: CredentialRelease = services(request).credential_release
    service = _service(request)
    family = await asyncio.to_thread(release.authorize, token)
    try:
        proof_jwt = _one_proof(await _request_body(request))
        proof = await asyncio.to_thread(service.check_proof, proof_jwt, client_id=family.client_id)

        def issue() -> str:
            compact, _credential = service.issue(release.release(family), proof)
            return compact

        compact = await asyncio.to_thread(issue)
    except CredentialError as exc:
        return _error(exc)
    return JSONResponse({"credentials": [{"credential": compact}]}, headers=NO_STORE)


__all__ = ["CREDENTIAL_PATH", "NONCE_PATH", "router"]
