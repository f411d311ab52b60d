"""The migrations build exactly the schema the models declare (names included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome, encode_entry
from audit.merkle.tree_hash import hash_leaf
from audit.storage.verification import column_mismatches
from identity.service.database import migrate
from identity.service.database.schema import all_metadata
from identity.storage.database import Database


def test_migrated_schema_matches_the_models(database: Database) -> None:
    merged = MetaData()  # every package's tables, as one schema
    for metadata in all_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, merged)
    assert differences == []


# -- 0012: RS256 and Ed25519 keys, an app's ID token algorithm ---------------------------

BEFORE_0012 = "0011_credentials"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _key(kid: str, alg: str, state: str = "active") -> dict[str, object]:
    return {"kid": kid, "alg": alg, "state": state, "jwk": "{}", "key": b"\x01", "at": T0}


def _insert_key(conn: Connection, row: dict[str, object]) -> None:
    conn.execute(
        text(
            "INSERT INTO identity_signing_key (kid, alg, state, public_jwk, private_key,"
            " created_at) VALUES (:kid, :alg, :state, :jwk, :key, :at)"
        ),
        row,
    )


def _refused(engine: Engine, statement: str, params: dict[str, object]) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    except IntegrityError:
        return True
    return False


def _downgrade(database: Database, revision: str) -> None:
    config = migrate.alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


@pytest.fixture
def at_0011(database_url: str) -> Iterator[Database]:
    """A database at 0011 holding an EdDSA key and a relying app with a purpose."""
    db = Database(database_url)
    migrate.upgrade(db.engine, BEFORE_0012)
    with db.engine.begin() as conn:
        _insert_key(conn, _key("old-eddsa", "EdDSA"))
        conn.execute(
            text(
                "INSERT INTO identity_client (client_id, client_name, grant_types,"
                " token_endpoint_auth_method, redirect_uris, scope, allowed_claims,"
                " client_secret_hash, created_at) VALUES ('app', 'App', '[\"authorization_code\"]',"
                " 'client_secret_basic', '[]', 'openid', '[]', 'hash', :at)"
            ),
            {"at": T0},
        )
        conn.execute(
            text(
                "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
                " VALUES ('app', 'bansos', 'a')"
            )
        )
    try:
        yield db
    finally:
        db.dispose()


def test_0012_keeps_keys_and_apps_and_admits_ed25519_and_rs256(at_0011: Database) -> None:
    engine = at_0011.engine
    insert_key = (
        "INSERT INTO identity_signing_key (kid, alg, state, public_jwk, private_key, created_at)"
        " VALUES (:kid, :alg, :state, :jwk, :key, :at)"
    )
    assert _refused(engine, insert_key, _key("early", "RS256"))  # before: EdDSA, ES256 only
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kid, alg FROM identity_signing_key")).all() == [
            ("old-eddsa", "EdDSA")
        ]
        assert conn.execute(
            text("SELECT client_id, id_token_signed_response_alg FROM identity_client")
        ).all() == [("app", None)]  # an existing app follows the service's algorithm
        assert conn.execute(text("SELECT code FROM identity_client_purpose")).all() == [("bansos",)]
    for alg in ("Ed25519", "RS256", "ES256"):
        assert not _refused(engine, insert_key, _key(f"new-{alg}", alg))
    for alg in ("RS384", "PS256", "HS256", "none"):
        assert _refused(engine, insert_key, _key(f"bad-{alg}", alg))
    assert _refused(engine, insert_key, {**_key("bad-state", "RS256"), "state": "spare"})
    set_alg = "UPDATE identity_client SET id_token_signed_response_alg = :alg"
    assert not _refused(engine, set_alg, {"alg": "RS256"})
    assert _refused(engine, set_alg, {"alg": "none"})
    assert _refused(engine, set_alg, {"alg": "HS256"})


def test_0012_downgrades_dropping_only_what_the_older_code_cannot_hold(
    at_0011: Database,
) -> None:
    engine = at_0011.engine
    migrate.upgrade(engine)
    with engine.begin() as conn:
        _insert_key(conn, _key("new-rs256", "RS256"))
        _insert_key(conn, _key("new-ed25519", "Ed25519"))
        conn.execute(text("UPDATE identity_client SET id_token_signed_response_alg = 'RS256'"))
    _downgrade(at_0011, BEFORE_0012)
    assert migrate.current_revisions(engine) == {BEFORE_0012}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kid FROM identity_signing_key")).all() == [("old-eddsa",)]
        columns = {c["name"] for c in inspect(conn).get_columns("identity_client")}
        assert "id_token_signed_response_alg" not in columns
        assert conn.execute(text("SELECT code FROM identity_client_purpose")).all() == [("bansos",)]
    assert _refused(
        engine,
        "INSERT INTO identity_signing_key (kid, alg, state, public_jwk, private_key, created_at)"
        " VALUES (:kid, :alg, :state, :jwk, :key, :at)",
        _key("again", "RS256"),
    )
    migrate.upgrade(engine)  # and up again
    assert migrate.is_current(engine)


# -- 0013: client_secret_post ----------------------------------------------------------

BEFORE_0013 = "0012_rs256_and_ed25519_keys"
_INSERT_APP = (
    "INSERT INTO identity_client (client_id, client_name, grant_types,"
    " token_endpoint_auth_method, redirect_uris, scope, allowed_claims, client_secret_hash,"
    " jwks, created_at) VALUES (:id, 'App', '[\"authorization_code\"]', :method, '[]',"
    " 'openid', '[]', :hash, :jwks, :at)"
)


def _app_row(client_id: str, method: str, *, secret: bool = True) -> dict[str, object]:
    return {
        "id": client_id,
        "method": method,
        "hash": "hash" if secret else None,
        "jwks": None if secret else '{"keys": []}',
        "at": T0,
    }


@pytest.fixture
def at_0012(database_url: str) -> Iterator[Database]:
    """A database at 0012 holding a Basic app (with a purpose and an ID token algorithm)
    and a private_key_jwt app."""
    db = Database(database_url)
    migrate.upgrade(db.engine, BEFORE_0013)
    with db.engine.begin() as conn:
        conn.execute(text(_INSERT_APP), _app_row("basic", "client_secret_basic"))
        conn.execute(text(_INSERT_APP), _app_row("jwt", "private_key_jwt", secret=False))
        conn.execute(text("UPDATE identity_client SET id_token_signed_response_alg = 'RS256'"
                          " WHERE client_id = 'basic'"))  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
                " VALUES ('basic', 'bansos', 'a')"
            )
        )
    try:
        yield db
    finally:
        db.dispose()


def _apps(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT client_id, token_endpoint_auth_method, id_token_signed_response_alg"
                    " FROM identity_client ORDER BY client_id"
                )
            )
        ]


def test_0013_keeps_apps_and_purposes_and_admits_client_secret_post(at_0012: Database) -> None:
    """Fails before 0013 existed: client_secret_post broke the auth_method check."""
    engine = at_0012.engine
    assert _refused(engine, _INSERT_APP, _app_row("early", "client_secret_post"))
    migrate.upgrade(engine)
    assert _apps(engine) == [
        ("basic", "client_secret_basic", "RS256"),
        ("jwt", "private_key_jwt", None),
    ]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT client_id, code FROM identity_client_purpose")).all() == [
            ("basic", "bansos")
        ]
    assert not _refused(engine, _INSERT_APP, _app_row("post", "client_secret_post"))
    # the material still matches the method; the other checks survived the rebuild
    assert _refused(engine, _INSERT_APP, _app_row("post-jwks", "client_secret_post", secret=False))
    assert _refused(engine, _INSERT_APP, _app_row("none", "none"))
    assert _refused(engine, _INSERT_APP, _app_row("jwt-secret", "private_key_jwt"))
    assert _refused(engine, "UPDATE identity_client SET id_token_signed_response_alg = 'HS256'", {})
    assert _refused(  # the purposes' foreign key still holds
        engine,
        "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
        " VALUES ('nobody', 'x', 'a')",
        {},
    )


def test_0013_downgrades_post_apps_to_basic(at_0012: Database) -> None:
    engine = at_0012.engine
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(_INSERT_APP), _app_row("post", "client_secret_post"))
    _downgrade(at_0012, BEFORE_0013)
    assert migrate.current_revisions(engine) == {BEFORE_0013}
    assert _apps(engine) == [
        ("basic", "client_secret_basic", "RS256"),
        ("jwt", "private_key_jwt", None),
        ("post", "client_secret_basic", None),  # same secret hash, sent by Basic from now on
    ]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM identity_client_purpose")).all() == [("bansos",)]
    assert _refused(engine, _INSERT_APP, _app_row("again", "client_secret_post"))
    migrate.upgrade(engine)
    assert migrate.is_current(engine)


# -- 0019: the legal basis and the outcome as query columns of the audit log --------------

BEFORE_0019 = "0018_staff"


def _audit_row(entry: AuditEntry, **extra: object) -> dict[str, object]:
    data = encode_entry(entry)
    return {
        "entry": data, "leaf_hash": hash_leaf(data), "event_at": entry.time,
        "subject": entry.subject, "actor_kind": entry.actor.kind.value,
        "actor_id": entry.actor.id, "action": entry.action.value, "purpose": entry.purpose,
        "queued_at": T0, **extra,
    }  # fmt: skip


def test_0019_fills_basis_and_outcome_from_each_entry_and_keeps_the_log_append_only(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        engine = db.engine
        migrate.upgrade(engine, BEFORE_0019)
        actor = Actor(kind=ActorKind.RELYING_APP, id="dinsos")
        consented = AuditEntry(
            time=T0, actor=actor, action=Action.READ, subject="p" * 43, purpose="bansos",
            legal_basis=LegalBasis.CONSENT, data_items=("name",),
        )  # fmt: skip
        basis_free = AuditEntry(time=T0, actor=actor, action=Action.CREATE, outcome=Outcome.DENIED)
        columns = "entry, leaf_hash, event_at, subject, actor_kind, actor_id, action, purpose"
        values = (
            ":entry, :leaf_hash, :event_at, :subject, :actor_kind, :actor_id, :action, :purpose"
        )
        with engine.begin() as conn:
            for index, entry in enumerate((consented, basis_free)):
                conn.execute(
                    text(
                        f"INSERT INTO audit_leaf (leaf_index, {columns}, queued_at,"
                        f" integrated_at) VALUES (:i, {values}, :queued_at, :queued_at)"
                    ),
                    _audit_row(entry, i=index),
                )
            conn.execute(
                text(
                    f"INSERT INTO audit_queue ({columns}, queued_at) VALUES ({values}, :queued_at)"
                ),
                _audit_row(replace(consented, legal_basis=LegalBasis.LEGAL_OBLIGATION)),
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            leaves = conn.execute(
                text("SELECT leaf_index, legal_basis, outcome FROM audit_leaf ORDER BY leaf_index")
            ).all()
            queued = conn.execute(text("SELECT legal_basis, outcome FROM audit_queue")).all()
        assert [tuple(row) for row in leaves] == [(0, "a", "success"), (1, None, "denied")]
        assert [tuple(row) for row in queued] == [("c", "success")]
        assert column_mismatches(engine) == []
        for table in ("audit_leaf", "audit_queue"):  # the triggers are back
            with pytest.raises(DBAPIError), engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET legal_basis = 'f'"))
    finally:
        db.dispose()
