"""Token signing keys: sealed at rest, one active and one next per algorithm, rotation,
and the JWKS that publishes public keys only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from identity.app import create_app
from identity.jwk import jwk_thumbprint
from identity.settings import Settings
from identity.signing_keys import SUPPORTED_ALGORITHMS, KeyError_, KeySealer, KeyState
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore, jwks
from tests.conftest import TEST_MASTER_KEY
from tests.helpers import clean_env, run_jati

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
MASTER = bytes(range(32))


@pytest.fixture
def store(database: Database) -> SqlKeyStore:
    return SqlKeyStore(database=database, sealer=KeySealer(MASTER))


def _states(store: SqlKeyStore) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in store.list_keys():
        found.setdefault(key.alg, []).append(key.state.value)
    return {alg: sorted(states) for alg, states in found.items()}


def test_ensure_makes_one_active_and_one_next_key_per_algorithm(store: SqlKeyStore) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)  # idempotent
    assert _states(store) == {"EdDSA": ["active", "next"], "ES256": ["active", "next"]}


def test_workers_starting_at_once_agree_on_the_keys(store: SqlKeyStore) -> None:
    threads = [
        threading.Thread(target=store.ensure, args=(SUPPORTED_ALGORITHMS,), kwargs={"now": NOW})
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _states(store) == {"EdDSA": ["active", "next"], "ES256": ["active", "next"]}


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_the_active_key_signs_and_its_published_jwk_verifies(store: SqlKeyStore, alg: str) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    active = store.active(alg)
    assert active is not None
    info, private_key = active
    assert info.kid == jwk_thumbprint(info.public_jwk) == info.public_jwk["kid"]
    token = jwt.encode({"sub": "x"}, private_key, algorithm=alg, headers={"kid": info.kid})
    published = {k["kid"]: k for k in jwks(store.list_keys(), now=NOW)["keys"]}
    public = jwt.PyJWK(published[info.kid]).key
    assert jwt.decode(token, public, algorithms=[alg]) == {"sub": "x"}


def test_private_keys_are_sealed_and_never_published(
    store: SqlKeyStore, database: Database
) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    for key in jwks(store.list_keys(), now=NOW)["keys"]:
        assert "d" not in key and key["use"] == "sig"
    with database.read() as session:
        kid, sealed = session.execute(
            text("SELECT kid, private_key FROM identity_signing_key WHERE alg = 'EdDSA'")
        ).first()  # type: ignore[misc]
    with pytest.raises(KeyError_):
        KeySealer(bytes(32)).open(kid, sealed)  # another master key
    with pytest.raises(KeyError_):
        KeySealer(MASTER).open("another-kid", sealed)  # moved to another key's row


def test_rotation_promotes_next_and_keeps_the_retired_key_published_for_a_while(
    store: SqlKeyStore,
) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    before = {k.state: k.kid for k in store.list_keys() if k.alg == "EdDSA"}
    store.rotate(SUPPORTED_ALGORITHMS, now=NOW, publish_for=timedelta(minutes=11))
    after = [k for k in store.list_keys() if k.alg == "EdDSA"]
    by_kid = {k.kid: k for k in after}
    assert by_kid[before[KeyState.NEXT]].state is KeyState.ACTIVE
    retired = by_kid[before[KeyState.ACTIVE]]
    assert retired.state is KeyState.RETIRED
    assert retired.publish_until == NOW + timedelta(minutes=11)
    assert sorted(k.state.value for k in after) == ["active", "next", "retired"]
    published = {k["kid"] for k in jwks(after, now=NOW + timedelta(minutes=10))["keys"]}
    assert retired.kid in published
    later = {k["kid"] for k in jwks(after, now=NOW + timedelta(minutes=12))["keys"]}
    assert retired.kid not in later and len(later) == 2


def test_discovery_and_jwks_endpoints(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    client = TestClient(
        create_app(make_settings(issuer="https://id.example.go.id"), database=database)
    )
    config = client.get("/.well-known/openid-configuration")
    assert config.status_code == 200
    body = config.json()
    assert body["issuer"] == "https://id.example.go.id"
    assert body["jwks_uri"] == "https://id.example.go.id/jwks.json"
    assert "pairwise" in body["subject_types_supported"]
    keys = client.get("/jwks.json")
    assert keys.status_code == 200
    assert keys.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age" in keys.headers["cache-control"]
    published = keys.json()["keys"]
    assert {k["alg"] for k in published} == {"EdDSA", "ES256"}
    assert all("d" not in k for k in published)


def test_keys_cli_lists_and_rotates(tmp_path: Path, database_url: str, database: Database) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url, JATI_MASTER_KEY=TEST_MASTER_KEY)
    listed = run_jati("keys", "list", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    import json

    keys = json.loads(listed.stdout)["keys"]
    assert sorted(k["state"] for k in keys) == ["active", "active", "next", "next"]
    rotated = run_jati("keys", "rotate", cwd=tmp_path, env=env)
    assert rotated.returncode == 0, rotated.stderr
    after = json.loads(run_jati("keys", "list", "--json", cwd=tmp_path, env=env).stdout)["keys"]
    assert sorted(k["state"] for k in after).count("retired") == 2
    assert all(k["published"] for k in after)
