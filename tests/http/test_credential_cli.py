"""``jati credential list|revoke|suspend|reinstate`` as an operator runs them, against the
database a running service issued the credential from: the status list changes, the audit
log records it, and mistakes answer one line with a non-zero exit and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from identity.credentials.issuer import CredentialState
from tests.credential_helpers import served_status, wallet
from tests.helpers import operator_env, run_jati
from tests.oidc_helpers import ISSUER, OidcWorld


@pytest.fixture
def jati(tmp_path: Path, database_url: str) -> Callable[..., tuple[int, str, str]]:
    env = operator_env(tmp_path, database_url, JATI_ISSUER=ISSUER)

    def run(*args: str) -> tuple[int, str, str]:
        result = run_jati(*args, cwd=tmp_path, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, result.stdout, result.stderr

    return run


def test_list_suspend_reinstate_revoke(
    world: OidcWorld, jati: Callable[..., tuple[int, str, str]]
) -> None:
    compact = wallet(world).credential()
    code, out, _ = jati("credential", "list", "--citizen", world.citizen_id, "--json")
    assert code == 0
    (listed,) = json.loads(out)["credentials"]
    assert listed["state"] == "valid"
    assert set(listed) >= {"id", "client_id", "claims", "issued_at", "expires_at"}
    credential_id = listed["id"]

    assert jati("credential", "suspend", credential_id)[0] == 0
    assert served_status(world, compact) == 2
    code, out, _ = jati("credential", "reinstate", credential_id, "--json")
    assert code == 0 and json.loads(out)["state"] == "valid"
    assert served_status(world, compact) == 0
    code, out, _ = jati("credential", "revoke", credential_id)
    assert code == 0 and "revoked" in out
    assert served_status(world, compact) == 1
    state = world.app.state.services.credentials.get(credential_id).state
    assert state is CredentialState.REVOKED


def test_a_revoked_credential_cannot_be_reinstated(
    world: OidcWorld, jati: Callable[..., tuple[int, str, str]]
) -> None:
    wallet(world).credential()
    (credential,) = world.app.state.services.credentials.of_citizen(world.citizen_id)
    assert jati("credential", "revoke", credential.id)[0] == 0
    code, out, err = jati("credential", "reinstate", credential.id)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "revoked" in err


def test_an_unknown_credential_is_one_line(jati: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = jati("credential", "revoke", "no-such-credential")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1


def test_cli_erasure_revokes_the_citizens_credentials(
    world: OidcWorld, jati: Callable[..., tuple[int, str, str]]
) -> None:
    compact = wallet(world).credential()
    assert jati("citizen", "erase", world.citizen_id)[0] == 0
    assert served_status(world, compact) == 1
