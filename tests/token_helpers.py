"""Keys, an issuer and a hand-rolled JWS forger for the token tests and security tests, and
a fake issuer serving discovery and a JWKS on a loopback port."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.keys.signing_keys import (
    KeyState,
    PrivateKey,
    SigningKeyInfo,
    generate_private_key,
    public_jwk,
)
from identity.oidc.pairwise import PairwiseSubjects
from identity.oidc.tokens import ACR_PASSWORD, ActiveSigner, IssuedToken, TokenIssuer, der_to_raw
from identity.relying_party import TokenVerifier

ISSUER = "https://id.example.go.id"
CLIENT_ID = "kependudukan-app"
SECTOR = "kependudukan.jakarta.go.id"
NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Key:
    alg: str
    private: PrivateKey
    jwk: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.jwk = public_jwk(self.private, self.alg)

    @property
    def kid(self) -> str:
        return str(self.jwk["kid"])

    @classmethod
    def new(cls, alg: str) -> Key:
        return cls(alg, generate_private_key(alg))

    def info(self) -> SigningKeyInfo:
        return SigningKeyInfo(self.kid, self.alg, KeyState.ACTIVE, self.jwk, datetime.now(UTC))

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private, Ed25519PrivateKey):
            return self.private.sign(data)
        if isinstance(self.private, rsa.RSAPrivateKey):
            return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return der_to_raw(self.private.sign(data, ec.ECDSA(hashes.SHA256())))


def key_fixture(alg: str) -> Callable[[], Key]:
    """A module-scoped fixture: one new key of ``alg`` for all the tests of a module, named
    by the name it is given there (``issuer = key_fixture("EdDSA")``)."""

    @pytest.fixture(scope="module")
    def key() -> Key:
        return Key.new(alg)

    return key


def issuer_for(key: Key, *, clock: float = NOW) -> TokenIssuer:
    return TokenIssuer(
        issuer=ISSUER,
        signer=ActiveSigner(lambda _alg: (key.info(), key.private), key.alg),
        pairwise=PairwiseSubjects(bytes(range(32))),
        clock=lambda: clock,
    )


def id_token_of(issuer: TokenIssuer, **arguments: Any) -> IssuedToken:
    """An ID token for :data:`CLIENT_ID` about citizen ``c-1``, signed in with a password at
    :data:`NOW`; ``arguments`` replace or add to those of :meth:`TokenIssuer.id_token`."""
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "subject_id": "c-1",
        "sector_identifier": SECTOR,
        "auth_time": int(NOW),
        "acr": ACR_PASSWORD,
        "amr": ["pwd"],
    }
    return issuer.id_token(**{**values, **arguments})


def verifier_for(*keys: Key, clock: float = NOW, **options: Any) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER,
        audience=CLIENT_ID,
        jwks={"keys": [k.jwk for k in keys]},
        clock=lambda: clock,
        **options,
    )


def access_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "pairwise-subject",
        "aud": CLIENT_ID,
        "exp": int(NOW) + 600,
        "iat": int(NOW),
        "jti": "a-unique-id",
        "client_id": CLIENT_ID,
        "scope": "openid profile",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def forge(
    key: Key,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    header_json: str | None = None,
    claims_json: str | None = None,
    sign_with: Key | None = None,
) -> str:
    """A compact JWS built by hand, so that tests can put anything in it. By default a
    correctly signed access token."""
    if header_json is None:
        fields = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
        fields.update(header or {})
        header_json = json.dumps({k: v for k, v in fields.items() if v is not None})
    if claims_json is None:
        claims_json = json.dumps(claims if claims is not None else access_claims())
    signing_input = f"{b64(header_json.encode())}.{b64(claims_json.encode())}"
    signature = (sign_with or key).sign(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (the test output stays readable)."""

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on a loopback port, in a thread, until the block ends; yields
    its base URL (``http://127.0.0.1:<port>``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FakeIssuer:
    """Serves discovery and a JWKS (of ``keys``) on a loopback port, counting requests."""

    def __init__(self, *keys: Key) -> None:
        self.keys: list[dict[str, Any]] = [key.jwk for key in keys]
        self.requests: list[str] = []
        self.issuer_claim: str | None = None
        self.fail = False
        self.max_age = 300

    @contextmanager
    def running(self) -> Iterator[str]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                if fake.fail:
                    self.send_error(503)
                    return
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": fake.issuer_claim or base, "jwks_uri": base + "/jwks.json"}
                elif self.path == "/jwks.json":
                    body = {"keys": fake.keys}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", f"public, max-age={fake.max_age}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        with serving(Handler) as base:
            yield base
