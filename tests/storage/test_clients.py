"""Relying apps in the database (SQLite and PostgreSQL): the registry over SqlClientStore,
secrets kept only as argon2id hashes, and the constraints the migration creates."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from audit.entry import LegalBasis
from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.errors import InvalidClient, InvalidRedirectUri, NotFound
from identity.oidc.client_registry import ClientRegistry, Registration, generate_client_secret
from identity.oidc.client_secret_cache import SECRET_CACHE_TTL, VerifiedSecrets
from identity.oidc.clients import GrantType, Purpose, TokenEndpointAuthMethod
from identity.service.database import migrate
from identity.storage.clients import SqlClientStore
from identity.storage.database import Database

NOW = datetime(2026, 11, 28, 8, 0, 0, 123456, tzinfo=UTC)
CB = "https://dinsos.example.go.id/callback"


@pytest.fixture
def store(database: Database) -> SqlClientStore:
    return SqlClientStore(database=database)


@pytest.fixture
def registry(store: SqlClientStore) -> ClientRegistry:
    return ClientRegistry(
        store=store, passwords=PasswordService(profile=TEST_PROFILE), clock=lambda: NOW
    )


def _jwk() -> dict[str, str]:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def _with_secret(registry: ClientRegistry) -> tuple[Registration, str]:
    """A confidential app registered with ``registry``, and its generated secret."""
    registration = registry.register(name="Dinsos", scope="openid", redirect_uris=[CB])
    assert registration.client_secret is not None
    return registration, registration.client_secret


def _count(database: Database, table: str) -> int:
    with database.read() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_an_app_round_trips_with_every_field(registry: ClientRegistry) -> None:
    registration = registry.register(
        name="Dinas Sosial Kota",
        scope="openid profile email nik",
        redirect_uris=[CB, "https://bansos.example.go.id/cb"],
        sector_identifier="kemensos.go.id",
        purposes=["social-aid:e", "dukcapil:verify:c"],
        claims="name email nik",
        jwks={"keys": [_jwk()]},
    )
    stored = registry.get(registration.app.client_id)
    assert stored == registration.app
    assert stored.created_at == NOW and stored.created_at.tzinfo is not None
    assert stored.purposes == (
        Purpose("dukcapil:verify", LegalBasis.LEGAL_OBLIGATION),
        Purpose("social-aid", LegalBasis.PUBLIC_TASK),
    )
    assert stored.redirect_uris == (CB, "https://bansos.example.go.id/cb")
    assert stored.allowed_claims == ("email", "name", "nik")
    assert stored.sector_identifier == "kemensos.go.id"
    assert stored.token_endpoint_auth_method is TokenEndpointAuthMethod.PRIVATE_KEY_JWT
    assert stored.jwks is not None and stored.jwks == registration.app.jwks


def test_the_id_token_algorithm_round_trips_and_the_database_allows_only_known_ones(
    registry: ClientRegistry, database: Database
) -> None:
    legacy = registry.register(
        name="Lama", scope="openid", redirect_uris=[CB], id_token_signed_response_alg="RS256"
    ).app
    plain = registry.register(name="Baru", scope="openid", redirect_uris=[CB]).app
    assert registry.get(legacy.client_id).id_token_signed_response_alg == "RS256"
    assert registry.get(plain.client_id).id_token_signed_response_alg is None
    assert {a.client_id: a.id_token_signed_response_alg for a in registry.list()} == {
        legacy.client_id: "RS256",
        plain.client_id: None,
    }
    for refused in ("none", "HS256", "RS512"):
        with pytest.raises(IntegrityError), database.write() as session:
            session.execute(
                text("UPDATE identity_client SET id_token_signed_response_alg = :alg"),
                {"alg": refused},
            )


def test_list_returns_every_app_oldest_first(registry: ClientRegistry) -> None:
    assert registry.list() == []
    first = registry.register(name="A", scope="openid", redirect_uris=[CB], purposes=["x:a"]).app
    auditor = registry.register(
        name="BPK auditor", scope="audit:read", grant_type=GrantType.CLIENT_CREDENTIALS
    ).app
    listed = registry.list()
    assert sorted(listed, key=lambda a: a.client_id) == sorted(
        [first, auditor], key=lambda a: a.client_id
    )
    assert {a.client_id: a.purposes for a in listed}[first.client_id] == (
        Purpose("x", LegalBasis.CONSENT),
    )


def test_unknown_apps_are_not_found(registry: ClientRegistry) -> None:
    with pytest.raises(NotFound):
        registry.get("a" * 32)


def test_the_secret_is_stored_only_as_an_argon2id_hash(
    registry: ClientRegistry, database: Database
) -> None:
    registration, secret = _with_secret(registry)
    with database.read() as session:
        stored_hash = session.execute(
            text("SELECT client_secret_hash FROM identity_client WHERE client_id = :id"),
            {"id": registration.app.client_id},
        ).scalar_one()
    assert stored_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(stored_hash, secret)
    stored = _database_bytes(database)
    assert registration.app.client_id.encode() in stored  # the search does see the row
    assert secret.encode() not in stored


def _database_bytes(database: Database) -> bytes:
    """Every byte the database holds for Jati: the files on SQLite, every row on PostgreSQL."""
    if database.dialect == "sqlite":
        path = Path(make_url(database.url).database or "")
        return b"".join(
            p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name)
        )
    with database.read() as session:
        tables = session.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        dumps = [
            session.execute(text(f'SELECT t::text FROM "{name}" t')).scalars().all()
            for name in list(tables)
        ]
    return "\n".join(row for rows in dumps for row in rows).encode()


def test_secret_authentication_against_the_database(
    registry: ClientRegistry, store: SqlClientStore
) -> None:
    registration, secret = _with_secret(registry)
    client_id = registration.app.client_id
    assert registry.authenticate_secret(client_id, secret) == registration.app
    for wrong_id, wrong_secret in ((client_id, secret[:-1]), ("b" * 32, secret)):
        with pytest.raises(InvalidClient):
            registry.authenticate_secret(wrong_id, wrong_secret)


def test_a_rotated_secret_stops_working_within_the_cache_bound_on_every_worker(
    store: SqlClientStore,
) -> None:
    """Two workers over one database, each with its own verified-secret cache (T15a): the
    one that verified the old secret accepts it at most SECRET_CACHE_TTL longer, the other
    refuses it at once; both accept the new secret at once."""
    now = [0.0]
    passwords = PasswordService(profile=TEST_PROFILE)

    def worker() -> ClientRegistry:
        return ClientRegistry(
            store=store,
            passwords=passwords,
            clock=lambda: NOW,
            verified_secrets=VerifiedSecrets(monotonic=lambda: now[0]),
        )

    first, second = worker(), worker()
    registration, old = _with_secret(first)
    client_id = registration.app.client_id
    first.authenticate_secret(client_id, old)
    new = generate_client_secret()
    store.replace_secret_hash(client_id, passwords.hash(new))  # the rotation, as stored
    with pytest.raises(InvalidClient):
        second.authenticate_secret(client_id, old)
    now[0] += SECRET_CACHE_TTL - 1
    assert first.authenticate_secret(client_id, old) == registration.app  # the bound
    now[0] += 1
    with pytest.raises(InvalidClient):
        first.authenticate_secret(client_id, old)
    for registry in (first, second):
        assert registry.authenticate_secret(client_id, new) == registration.app


def test_an_outdated_hash_is_replaced_after_a_successful_authentication(
    registry: ClientRegistry, store: SqlClientStore
) -> None:
    registration, secret = _with_secret(registry)
    client_id = registration.app.client_id
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(secret)
    store.replace_secret_hash(client_id, old)
    registry.authenticate_secret(client_id, secret)
    found = store.get_with_secret_hash(client_id)
    assert found is not None and found[1] is not None and found[1] != old
    assert PasswordHasher().verify(found[1], secret)


def test_a_private_key_jwt_app_has_no_hash_and_cannot_gain_one(
    registry: ClientRegistry, store: SqlClientStore
) -> None:
    app = registry.register(
        name="Dinsos", scope="openid", redirect_uris=[CB], jwks={"keys": [_jwk()]}
    ).app
    store.replace_secret_hash(app.client_id, "$argon2id$forged")
    assert store.get_with_secret_hash(app.client_id) == (app, None)


def test_a_refused_registration_writes_nothing(
    registry: ClientRegistry, database: Database
) -> None:
    with pytest.raises(InvalidRedirectUri):
        registry.register(
            name="Dinsos", scope="openid", redirect_uris=[CB, "https://x/#f"], purposes=["a:b"]
        )
    assert _count(database, "identity_client") == 0
    assert _count(database, "identity_client_purpose") == 0


def test_the_database_refuses_a_secret_app_without_a_hash(database: Database) -> None:
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            text(
                "INSERT INTO identity_client (client_id, client_name, grant_types,"
                " token_endpoint_auth_method, redirect_uris, scope, allowed_claims, created_at)"
                " VALUES ('x', 'x', '[]', 'client_secret_basic', '[]', 'openid', '[]', :now)"
            ),
            {"now": NOW},
        )


def test_the_database_refuses_an_unknown_legal_basis(
    registry: ClientRegistry, database: Database
) -> None:
    app = registry.register(name="A", scope="openid", redirect_uris=[CB]).app
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            text(
                "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
                " VALUES (:id, 'tax', 'g')"
            ),
            {"id": app.client_id},
        )
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            text(
                "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
                " VALUES ('no-such-app', 'tax', 'a')"
            )
        )


def test_the_migration_downgrades_and_upgrades_again(database: Database) -> None:
    config = migrate.alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004_citizens")
    tables = set(inspect(database.engine).get_table_names())
    assert not {"identity_client", "identity_client_purpose"} & tables
    migrate.upgrade(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert {"identity_client", "identity_client_purpose"} <= tables


def _family(database: Database, family_id: str, client_id: str) -> None:
    with database.write() as session:
        session.execute(
            text(
                "INSERT INTO identity_token_family (id, client_id, citizen_id, scopes, claims,"
                " purposes, auth_time, acr, amr, created_at) VALUES (:id, :client, 'c1',"
                " '[]', '[]', '[]', :at, '1', '[]', :at)"
            ),
            {"id": family_id, "client": client_id, "at": NOW},
        )


def _revoked(database: Database) -> dict[str, bool]:
    with database.read() as session:
        rows = session.execute(text("SELECT id, revoked_at FROM identity_token_family")).all()
    return {row.id: row.revoked_at is not None for row in rows}


def test_a_disabled_app_is_unknown_to_every_protocol_path_until_enabled(
    registry: ClientRegistry, database: Database
) -> None:
    registration, secret = _with_secret(registry)
    other, _ = _with_secret(registry)
    client_id = registration.app.client_id
    registry.authenticate_secret(client_id, secret)  # remembered by this worker
    _family(database, "f-app", client_id)
    _family(database, "f-other", other.app.client_id)
    disabled = registry.disable(client_id)
    assert disabled.disabled_at == NOW and not disabled.active
    with pytest.raises(NotFound):
        registry.get(client_id)
    with pytest.raises(InvalidClient):  # forgotten at once, then refused like an unknown app
        registry.authenticate_secret(client_id, secret)
    assert _revoked(database) == {"f-app": True, "f-other": False}
    assert registry.find(client_id) == disabled and registry.exists(client_id)
    assert {app.client_id: app.active for app in registry.list()} == {
        client_id: False,
        other.app.client_id: True,
    }
    assert registry.disable(client_id).disabled_at == NOW  # twice keeps the first time
    enabled = registry.enable(client_id)
    assert enabled.active and registry.get(client_id) == enabled
    assert registry.authenticate_secret(client_id, secret) == enabled
    assert _revoked(database)["f-app"]  # its revoked refresh tokens stay revoked
    with pytest.raises(NotFound):
        registry.disable("b" * 32)


def test_redirect_uris_are_replaced_under_the_rules_of_registration(
    registry: ClientRegistry,
) -> None:
    registration, _ = _with_secret(registry)
    client_id, sector = registration.app.client_id, registration.app.sector_identifier
    new = ["https://dinsos.example.go.id/v2/cb", "https://bansos.example.go.id/cb"]
    changed = registry.replace_redirect_uris(client_id, new)
    assert changed.redirect_uris == tuple(new) and registry.get(client_id) == changed
    assert changed.sector_identifier == sector  # the citizens' pairwise sub stays
    for refused in ([], ["http://dinsos.example.go.id/cb"], ["https://x.example/cb#frag"]):
        with pytest.raises(InvalidRedirectUri):
            registry.replace_redirect_uris(client_id, refused)
    assert registry.get(client_id).redirect_uris == tuple(new)  # nothing changed
    auditor = registry.register(
        name="BPK", scope="audit:read", grant_type=GrantType.CLIENT_CREDENTIALS
    )
    with pytest.raises(InvalidRedirectUri):
        registry.replace_redirect_uris(auditor.app.client_id, [CB])
    with pytest.raises(NotFound):
        registry.replace_redirect_uris("b" * 32, [CB])
