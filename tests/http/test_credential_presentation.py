"""A credential from Jati's credential endpoint, presented by a wallet to a relying app that
verifies it with the SDK over real HTTP (issuer metadata, JWKS and the Token Status List
read from Jati on a loopback port), and by the PyPI ``sd-jwt`` reference verifier: the app
learns only what the holder chose to show ("over 18" and the city, not the birth date or
the NIK), and a revoked or suspended credential is refused once the cached list expires."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from identity.credentials.issuer import ChangeReason
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.errors import Reason
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.credential_helpers import Wallet, wallet
from tests.helpers import free_port
from tests.oidc_helpers import OidcWorld, oidc_world
from tests.personal_data import SAMPLE
from tests.sd_jwt_helpers import present

VERIFIER = "https://layanan.example.go.id"
SHOWN = ("given_name", "locality", "18")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(
    make_settings: Callable[..., Settings], database: Database
) -> Iterator[tuple[OidcWorld, str]]:
    """The service on a loopback port (its issuer is that address) and its test world."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with oidc_world(make_settings(issuer=issuer), database) as world:
        server = uvicorn.Server(
            uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        try:
            yield world, issuer
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _presentation(w: Wallet, compact: str, nonce: str = "n-7f3a", at: float | None = None) -> str:
    iat = int(at if at is not None else time.time())
    return present(compact, w.holder, SHOWN, aud=VERIFIER, nonce=nonce, iat=iat)


def test_an_app_verifies_what_the_holder_chose_to_show(served: tuple[OidcWorld, str]) -> None:
    world, issuer = served
    w = wallet(world, nik=True)
    compact = w.credential()
    verifier = TokenVerifier(issuer=issuer, audience="layanan")
    disclosed = verifier.verify_presentation(
        _presentation(w, compact), audience=VERIFIER, nonce="n-7f3a"
    )
    assert disclosed["iss"] == issuer
    assert disclosed["vct"] == issuer + "/vct/identity/v1"
    assert disclosed["age_equal_or_over"] == {"18": True}
    assert disclosed["address"] == {"locality": "Jakarta Pusat"}
    assert "given_name" in disclosed
    shown = json.dumps(disclosed)
    for hidden in (SAMPLE["nik"], SAMPLE["birthdate"], "birthdate", "nik", "family_name"):
        assert hidden not in shown
    # a replayed presentation for another verifier or another nonce is refused
    with pytest.raises(InvalidToken) as refused:
        verifier.verify_presentation(_presentation(w, compact), audience=VERIFIER, nonce="other")
    assert refused.value.reason is Reason.BAD_KEY_BINDING


def test_revocation_and_suspension_reach_the_app_after_the_lists_ttl(
    served: tuple[OidcWorld, str],
) -> None:
    world, issuer = served
    w = wallet(world)
    compact = w.credential()
    clock = Clock()
    verifier = TokenVerifier(issuer=issuer, audience="layanan", clock=clock)
    verifier.verify_presentation(_presentation(w, compact), audience=VERIFIER, nonce="n-7f3a")
    (credential,) = world.app.state.services.credentials.of_citizen(world.citizen_id)
    service = world.app.state.services.credentials

    service.suspend(credential.id, reason=ChangeReason.OPERATOR)
    # the app may keep the list it read for its ttl (draft-ietf-oauth-status-list §13.7)
    ttl = world.app.state.services.status_lists.ttl
    clock.now += ttl + 1
    with pytest.raises(InvalidToken) as refused:
        verifier.verify_presentation(
            _presentation(w, compact, at=clock.now), audience=VERIFIER, nonce="n-7f3a"
        )
    assert refused.value.reason is Reason.SUSPENDED

    service.reinstate(credential.id, reason=ChangeReason.OPERATOR)
    clock.now += ttl + 1
    shown = _presentation(w, compact, at=clock.now)
    verifier.verify_presentation(shown, audience=VERIFIER, nonce="n-7f3a")

    for grant_id in w.grant_ids:  # withdrawing the consent revokes it (UU PDP Art. 40)
        world.ledger.withdraw(world.citizen_id, grant_id)
    clock.now += ttl + 1
    with pytest.raises(InvalidToken) as refused:
        verifier.verify_presentation(
            _presentation(w, compact, at=clock.now), audience=VERIFIER, nonce="n-7f3a"
        )
    assert refused.value.reason is Reason.REVOKED


def test_the_sd_jwt_reference_verifier_accepts_the_served_credential(
    served: tuple[OidcWorld, str],
) -> None:
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    world, issuer = served
    w = wallet(world)
    compact = w.credential()
    keys = {k["kid"]: k for k in world.client.get("/jwks.json").json()["keys"]}

    def issuer_key(iss: str, header: dict[str, Any]) -> Any:
        assert iss == issuer
        return JWK.from_json(json.dumps(keys[header["kid"]]))

    verified = SDJWTVerifier(
        _presentation(w, compact), issuer_key, expected_aud=VERIFIER, expected_nonce="n-7f3a"
    ).get_verified_payload()
    assert verified["age_equal_or_over"] == {"18": True}
    assert verified["address"]["locality"] == "Jakarta Pusat"
    tampered = _presentation(w, compact).replace("~", "~x", 1)
    with pytest.raises(Exception):  # the reference raises plain errors of several kinds
        SDJWTVerifier(tampered, issuer_key, expected_aud=VERIFIER, expected_nonce="n-7f3a")
