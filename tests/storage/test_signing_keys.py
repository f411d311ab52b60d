"""Token signing keys: sealed at rest, one active and one next per algorithm, rotation,
and the JWKS that publishes public keys only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import JWKRegistry
from sqlalchemy import text

from identity.keys.jwk import jwk_thumbprint
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS, KeyError_, KeySealer, KeyState, jwks
from identity.oidc.tokens import JwsSigner
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore
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


EVERY_ALGORITHM = {alg: ["active", "next"] for alg in ("EdDSA", "Ed25519", "ES256", "RS256")}


def test_ensure_makes_one_active_and_one_next_key_per_algorithm(store: SqlKeyStore) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)  # idempotent
    assert _states(store) == EVERY_ALGORITHM


def test_workers_starting_at_once_agree_on_the_keys(store: SqlKeyStore) -> None:
    threads = [
        threading.Thread(target=store.ensure, args=(SUPPORTED_ALGORITHMS,), kwargs={"now": NOW})
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _states(store) == EVERY_ALGORITHM


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_the_active_key_signs_and_its_published_jwk_verifies(store: SqlKeyStore, alg: str) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    active = store.active(alg)
    assert active is not None
    info, private_key = active
    assert info.kid == jwk_thumbprint(info.public_jwk) == info.public_jwk["kid"]
    published = {k["kid"]: k for k in jwks(store.list_keys(), now=NOW)["keys"]}
    assert published[info.kid]["alg"] == info.alg == alg  # one key, one algorithm
    # Jati's signer, checked by joserfc (which knows RFC 9864's Ed25519; PyJWT does not)
    token = JwsSigner(info.kid, alg, private_key).sign({"sub": "x"}, typ="JWT")
    public_key = JWKRegistry.import_key(published[info.kid])
    assert jws.deserialize_compact(token, public_key, algorithms=[alg]).payload == b'{"sub":"x"}'
    if alg != "Ed25519":
        token = jwt.encode({"sub": "x"}, private_key, algorithm=alg, headers={"kid": info.kid})
        public = jwt.PyJWK(published[info.kid]).key
        assert jwt.decode(token, public, algorithms=[alg]) == {"sub": "x"}


def test_rs256_keys_are_3072_bit_rsa_keys_sealed_like_the_others(
    store: SqlKeyStore, database: Database
) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    rsa_keys = [k for k in store.list_keys() if k.alg == "RS256"]
    assert sorted(k.state.value for k in rsa_keys) == ["active", "next"]
    for key in rsa_keys:
        assert set(key.public_jwk) == {"kty", "n", "e", "kid", "alg", "use"}
        assert key.public_jwk["kty"] == "RSA" and key.public_jwk["e"] == "AQAB"  # 65537
    active = store.active("RS256")
    assert active is not None
    assert isinstance(active[1], rsa.RSAPrivateKey) and active[1].key_size == 3072
    with database.read() as session:
        kid, sealed = session.execute(
            text("SELECT kid, private_key FROM identity_signing_key WHERE alg = 'RS256'")
        ).first()  # type: ignore[misc]
    assert b"BEGIN" not in sealed and sealed[0] == 1  # sealed, not PEM or bare DER
    with pytest.raises(KeyError_):
        KeySealer(bytes(32)).open(kid, sealed)


def test_rotation_covers_every_algorithm_rs256_included(store: SqlKeyStore) -> None:
    store.ensure(SUPPORTED_ALGORITHMS, now=NOW)
    before = {(k.alg, k.state): k.kid for k in store.list_keys()}
    store.rotate(SUPPORTED_ALGORITHMS, now=NOW, publish_for=timedelta(minutes=11))
    after = {k.kid: k for k in store.list_keys()}
    for alg in SUPPORTED_ALGORITHMS:
        assert after[before[alg, KeyState.NEXT]].state is KeyState.ACTIVE
        assert after[before[alg, KeyState.ACTIVE]].state is KeyState.RETIRED
        mine = [k for k in after.values() if k.alg == alg]
        assert sorted(k.state.value for k in mine) == ["active", "next", "retired"]
    active = store.active("RS256")
    assert active is not None and active[0].kid == before["RS256", KeyState.NEXT]


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
    assert {k["alg"] for k in published} == {"EdDSA", "Ed25519", "ES256", "RS256"}
    assert all("d" not in k and "p" not in k for k in published)


def test_keys_cli_lists_and_rotates(tmp_path: Path, database_url: str, database: Database) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url, JATI_MASTER_KEY=TEST_MASTER_KEY)
    listed = run_jati("keys", "list", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    import json

    keys = json.loads(listed.stdout)["keys"]
    assert sorted(k["state"] for k in keys) == ["active"] * 4 + ["next"] * 4
    rotated = run_jati("keys", "rotate", cwd=tmp_path, env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert sorted(line.split()[1] for line in rotated.stdout.splitlines()) == [
        "ES256", "Ed25519", "EdDSA", "RS256"
    ]  # fmt: skip
    after = json.loads(run_jati("keys", "list", "--json", cwd=tmp_path, env=env).stdout)["keys"]
    assert sorted(k["alg"] for k in after if k["state"] == "retired") == [
        "ES256", "Ed25519", "EdDSA", "RS256"
    ]  # fmt: skip
    assert all(k["published"] for k in after)
