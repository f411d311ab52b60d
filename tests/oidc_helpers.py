"""An in-process OpenID Connect world for the OIDC tests: the real app on the test's
database, a registered citizen, relying apps with purposes and a notice, sessions set as
cookies, consent recorded through the ledger, and helpers for each endpoint."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.entry import Actor, ActorKind
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from consent.grants import Grant
from consent.ledger import ConsentAttempt, ConsentLedger
from identity.citizens.passwords import Verification
from identity.citizens.service import CitizenService
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS
from identity.login.sessions import SESSION_COOKIE, Session
from identity.oidc.pkce import s256_challenge
from identity.oidc.tokens import ACR_PASSWORD
from identity.service.app import create_app
from identity.service.services import Services
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import notice_content, purposes_for
from tests.personal_data import SAMPLE, citizen
from tests.token_helpers import Key, b64

ISSUER = "http://testserver"
PASSWORD = "kata sandi rahasia"
OFFICIAL = Actor(ActorKind.OFFICIAL, "dukcapil-officer-7")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: A second citizen of these tests (registered with the log watch).
BUDI = citizen(
    nik="3171010203850004",
    name="Budi Santoso Wibowo",
    email="budi.santoso@contoh.go.id",
    birthdate="1985-03-02",
)


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """HTTP Basic client authentication (RFC 6749 §2.3.1)."""
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_citizen(
    citizens: CitizenService,
    values: Mapping[str, Any],
    *,
    password: str = PASSWORD,
    actor: Actor = OFFICIAL,
) -> str:
    """Register a citizen of a test (``nik``, ``name``, ``birthdate``, and ``email``,
    ``phone`` and ``address`` where ``values`` has them); returns the citizen's id."""
    citizen_id: str = citizens.register(
        nik=values["nik"],
        name=values["name"],
        birthdate=date.fromisoformat(values["birthdate"]),
        email=values.get("email"),
        phone=values.get("phone"),
        address=values.get("address"),
        password=password,
        actor=actor,
    )
    return citizen_id


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, s256_challenge(verifier)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class RelyingApp:
    client_id: str
    redirect_uri: str
    secret: str | None = None
    key: Key | None = None
    grants: list[str] = field(default_factory=list)
    post: bool = False  # registered for client_secret_post: the secret goes in the body

    def basic(self, secret: str | None = None) -> dict[str, str]:
        return basic_auth(self.client_id, secret or self.secret or "")

    def posted(self, secret: str | None = None) -> dict[str, str]:
        """``client_secret_post`` form fields (RFC 6749 §2.3.1)."""
        return {"client_id": self.client_id, "client_secret": secret or self.secret or ""}

    def assertion(self, **overrides: Any) -> str:
        """A signed client assertion (RFC 7523 §3) for this app; override any claim or
        header member (``header_<name>``), None removes it."""
        assert self.key is not None
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER + "/token",
            "exp": now + 60,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
        }
        header: dict[str, Any] = {"alg": self.key.alg, "kid": self.key.kid, "typ": "JWT"}
        sign_with = overrides.pop("sign_with", None) or self.key
        for name, value in overrides.items():
            target, key = (header, name[7:]) if name.startswith("header_") else (claims, name)
            target[key] = value
        header = {k: v for k, v in header.items() if v is not None}
        claims = {k: v for k, v in claims.items() if v is not None}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        return f"{signing_input}.{b64(sign_with.sign(signing_input.encode()))}"

    def auth(self, **assertion_overrides: Any) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, form fields) that authenticate this app at the token endpoint."""
        if self.post:
            return {}, self.posted()
        if self.key is None:
            return self.basic(), {}
        return {}, {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(**assertion_overrides),
        }


class OidcWorld:
    def __init__(self, app: FastAPI, client: TestClient) -> None:
        self.app = app
        self.client = client
        self.ledger: ConsentLedger = app.state.services.consent_ledger
        self.citizen_id = self.register_citizen(SAMPLE)
        self.verifiers: dict[str, str] = {}

    # -- set-up ---------------------------------------------------------------------------

    def register_citizen(self, values: Mapping[str, str]) -> str:
        return register_citizen(self.app.state.services.citizens, values)

    def register_app(
        self,
        *,
        name: str = "Dinas Sosial",
        scope: str = "openid profile email",
        redirect_uri: str = "https://dinsos.example.go.id/callback",
        sector: str | None = None,
        key: Key | None = None,
        purposes: bool = True,
        notice: bool = True,
        client_purposes: tuple[str, ...] = (),
        id_token_signed_response_alg: str | None = None,
        token_endpoint_auth_method: str | None = None,
    ) -> RelyingApp:
        registration = self.app.state.services.clients.register(
            name=name,
            scope=scope,
            redirect_uris=[redirect_uri],
            sector_identifier=sector,
            jwks={"keys": [key.jwk]} if key is not None else None,
            purposes=client_purposes,
            **(
                {"id_token_signed_response_alg": id_token_signed_response_alg}
                if id_token_signed_response_alg is not None
                else {}
            ),
            **(
                {"token_endpoint_auth_method": token_endpoint_auth_method}
                if token_endpoint_auth_method is not None
                else {}
            ),
        )
        client_id = registration.app.client_id
        if purposes:
            for purpose in purposes_for(client_id):
                self.ledger.register_purpose(purpose)
        if notice:
            self.ledger.publish_notice(client_id, notice_content(controller=name))
        post = token_endpoint_auth_method == "client_secret_post"
        return RelyingApp(client_id, redirect_uri, registration.client_secret, key, post=post)

    def register_auditor(self, token_endpoint_auth_method: str | None = None) -> RelyingApp:
        registration = self.app.state.services.clients.register(
            name="BPK",
            scope="audit:read",
            grant_type="client_credentials",
            **(
                {"token_endpoint_auth_method": token_endpoint_auth_method}
                if token_endpoint_auth_method is not None
                else {}
            ),
        )
        post = token_endpoint_auth_method == "client_secret_post"
        return RelyingApp(registration.app.client_id, "", registration.client_secret, post=post)

    def login(self, citizen_id: str | None = None, **options: Any) -> Session:
        """A session for the citizen, its cookie set on the test client."""
        cookie, session = self.app.state.services.sessions.create(
            citizen_id or self.citizen_id,
            auth_time=options.pop("auth_time", datetime.now(UTC)),
            amr=options.pop("amr", ["pwd"]),
            acr=options.pop("acr", ACR_PASSWORD),
        )
        self.client.cookies.set(SESSION_COOKIE, cookie)
        return session

    def logout(self) -> None:
        self.client.cookies.delete(SESSION_COOKIE)

    def consent(
        self, rp: RelyingApp, citizen_id: str | None = None, **choices: bool
    ) -> list[Grant]:
        """Record a decision on every consent purpose (defaults: grant both)."""
        citizen = citizen_id or self.citizen_id
        notice = self.ledger.current_notice(rp.client_id)
        assert notice is not None
        picked = {"bansos-eligibility": True, "newsletter": True}
        picked.update({k.replace("_", "-"): v for k, v in choices.items()})
        grants = self.ledger.record(
            ConsentAttempt(
                subject_id=citizen,
                app_id=rp.client_id,
                notice_hash=notice.content_hash,
                choices=picked,
                act="consent-screen:setuju",
                subject_birthdate=date(1980, 1, 1),
            )
        )
        return grants

    # -- endpoints ------------------------------------------------------------------------

    def authorize(self, rp: RelyingApp, **params: Any) -> Any:
        """GET /authorize with sensible parameters (override any; None removes one)."""
        verifier, challenge = verifier_and_challenge()
        values: dict[str, Any] = {
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid profile email",
            "state": "state-" + secrets.token_hex(4),
            "nonce": "nonce-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        values.update(params)
        values = {k: v for k, v in values.items() if v is not None}
        response = self.client.get("/authorize", params=values, follow_redirects=False)
        self.verifiers[values.get("state", "")] = verifier
        self.last_verifier = verifier
        return response

    def code_for(self, rp: RelyingApp, **params: Any) -> tuple[str, str]:
        """(code, verifier) of a successful authorization."""
        response = self.authorize(rp, **params)
        assert response.status_code == 303, response.text
        answer = query_of(response.headers["location"])
        assert "code" in answer, answer
        return answer["code"], self.last_verifier

    def token(self, rp: RelyingApp, form: dict[str, str], **auth: Any) -> Any:
        headers, fields = rp.auth(**auth)
        return self.client.post("/token", data={**form, **fields}, headers=headers)

    def exchange(self, rp: RelyingApp, code: str, verifier: str, **extra: str) -> Any:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            **extra,
        }
        return self.token(rp, form)

    def tokens(self, rp: RelyingApp, **params: Any) -> dict[str, Any]:
        code, verifier = self.code_for(rp, **params)
        response = self.exchange(rp, code, verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def refresh(self, rp: RelyingApp, refresh_token: str) -> Any:
        return self.token(rp, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def userinfo(self, access_token: str) -> Any:
        return self.client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})

    def introspect(self, rp: RelyingApp, token: str) -> dict[str, Any]:
        headers, fields = rp.auth()
        response = self.client.post("/introspect", data={"token": token, **fields}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, Any] = response.json()
        return body

    def revoke(self, rp: RelyingApp, token: str, hint: str | None = None) -> Any:
        headers, fields = rp.auth()
        form = {"token": token, **fields}
        if hint:
            form["token_type_hint"] = hint
        return self.client.post("/revoke", data=form, headers=headers)


class CountingHashes:
    """Counts the argon2 verifications of client secrets (wraps the app's password service
    for clients)."""

    def __init__(self, world: OidcWorld) -> None:
        self.service = world.app.state.services.clients.passwords
        self.original = self.service.verify
        self.calls = 0
        self.service.verify = self

    def __call__(self, stored_hash: str | None, password: str) -> Verification:
        self.calls += 1
        result: Verification = self.original(stored_hash, password)
        return result


def make_app(settings: Settings, database: Database) -> FastAPI:
    """The app on ``database`` without its background tasks: its audit log started, as the
    sequencer would, and its signing keys made."""
    app = create_app(settings, database=database, run_background=False)
    app.state.services.audit_log.initialize()
    app.state.services.key_store.ensure(SUPPORTED_ALGORITHMS, now=datetime.now(UTC))
    return app


@dataclass
class AppHarness:
    """An app on the test's database and its test client; its services, typed."""

    app: FastAPI
    client: TestClient
    database: Database

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def log(self) -> AuditLog:
        return self.services.audit_log

    @property
    def store(self) -> SqlAuditStore:
        store = self.log.store
        assert isinstance(store, SqlAuditStore)
        return store

    @property
    def pseudonymizer(self) -> SubjectPseudonymizer:
        return self.services.pseudonymizer


@contextmanager
def oidc_world(settings: Settings, database: Database) -> Iterator[OidcWorld]:
    app = make_app(settings, database)
    with TestClient(app) as client:
        yield OidcWorld(app, client)


@pytest.fixture
def world_settings() -> dict[str, Any]:
    """The settings ``world`` overrides (none; a module may override this fixture)."""
    return {}


@pytest.fixture
def world(
    make_settings: Callable[..., Settings], database: Database, world_settings: dict[str, Any]
) -> Iterator[OidcWorld]:
    """The app on the test's database with the sample citizen (the ``world`` fixture of
    tests/http and tests/security, through their conftest.py)."""
    with oidc_world(make_settings(**world_settings), database) as world:
        yield world


@pytest.fixture
def rp(world: OidcWorld) -> RelyingApp:
    """A relying app of ``world`` with its purposes and a notice."""
    return world.register_app()
