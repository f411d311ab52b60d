"""The citizen API's consent routes and "who used my data", over HTTP with real tokens:
listing, signed receipts verified offline against the JWKS, withdrawal seen by the gate at
once, the access log with leaf indices and withheld entries, isolation between citizens."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis
from consent.grants import GrantStatus
from consent.ledger import ConsentLedger
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import APP, ConsentWorld, consent_world, notice_content
from tests.oidc_helpers import make_app

ISSUER = "http://testserver"


@dataclass
class Harness:
    app: FastAPI
    client: TestClient
    ledger: ConsentLedger
    world: ConsentWorld

    def token(self, citizen_id: str, scope: str = "me") -> dict[str, str]:
        issued = self.app.state.services.token_issuer.citizen_api_token(
            client_id="kota-app", subject_id=citizen_id, scope=[scope], auth_time=None
        )
        return {"Authorization": f"Bearer {issued.token}"}

    def grant_for(self, citizen_id: str) -> str:
        grants = self.ledger.record(self.world.attempt(citizen_id))
        return next(g.grant_id for g in grants if g.status is GrantStatus.ACTIVE)


@pytest.fixture
def harness(make_settings: Callable[..., Settings], database: Database) -> Iterator[Harness]:
    app = make_app(make_settings(), database)
    ledger: ConsentLedger = app.state.services.consent_ledger
    world = consent_world(ledger)
    with TestClient(app) as client:
        yield Harness(app=app, client=client, ledger=ledger, world=world)


def test_a_citizen_lists_their_consents_and_nobody_elses(harness: Harness) -> None:
    grant_id = harness.grant_for("citizen-1")
    harness.grant_for("citizen-2")
    response = harness.client.get("/me/consents", headers=harness.token("citizen-1"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    consents = response.json()["consents"]
    assert {c["purpose"]["code"] for c in consents} == {"bansos-eligibility", "newsletter"}
    active = next(c for c in consents if c["id"] == grant_id)
    assert active["status"] == "active" and active["purpose"]["legal_basis"] == "a"
    assert {i["name"] for i in active["purpose"]["data_items"]} == {"name", "birthdate", "income"}
    others = harness.client.get("/me/consents", headers=harness.token("citizen-3")).json()
    assert others == {"consents": []}


def test_the_receipt_is_a_jws_that_verifies_offline_against_the_jwks(harness: Harness) -> None:
    grant_id = harness.grant_for("citizen-1")
    response = harness.client.get(
        f"/me/consents/{grant_id}/receipt", headers=harness.token("citizen-1")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/consent-receipt+jwt")
    token = response.text
    jwks = harness.client.get("/jwks.json").json()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "consent-receipt+jwt"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])

    def verified(receipt: str) -> dict[str, Any]:
        """The receipt's claims, verified against the published key (any audience)."""
        decoded: dict[str, Any] = jwt.decode(
            receipt,
            key=jwt.PyJWK(key).key,
            algorithms=[header["alg"]],
            options={"verify_aud": False},
        )
        return decoded

    claims = verified(token)
    assert claims["iss"] == ISSUER
    consent = claims["consent"]
    assert consent["id"] == grant_id and consent["status"] == "active"
    assert consent["notice"]["hash"] == harness.world.notice.content_hash
    assert consent["purpose"]["legal_basis"] == "a"
    assert {"name": "income", "sensitivity": "specific"} in consent["data_items"]
    assert consent["withdraw"]["url"] == f"{ISSUER}/me/consents/{grant_id}/withdraw"
    assert claims["controller"]["dpo"]["email"].startswith("ppd@")
    assert "citizen-1" not in token and "citizen-1" not in str(claims)
    # a tampered receipt does not verify: its signature altered, or its payload
    head, body, sig = token.split(".")
    signature = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    signature[0] ^= 0x01
    altered = base64.urlsafe_b64encode(bytes(signature)).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verified(f"{head}.{body}.{altered}")
    with pytest.raises(jwt.InvalidTokenError):
        verified(f"{head}.{body[:-2]}AA.{sig}")


def test_withdrawal_takes_effect_at_once_for_the_gate(harness: Harness) -> None:
    grant_id = harness.grant_for("citizen-1")
    gate = harness.app.state.services.consent_gate
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    response = harness.client.post(
        f"/me/consents/{grant_id}/withdraw", headers=harness.token("citizen-1")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "withdrawn"
    received = datetime.fromisoformat(body["withdrawal"]["received_at"])
    due = datetime.fromisoformat(body["withdrawal"]["due_by"])
    assert due - received == timedelta(hours=72)
    assert body["withdrawal"]["effective_at"] is not None
    assert not gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    receipt = harness.client.get(
        f"/me/consents/{grant_id}/receipt", headers=harness.token("citizen-1")
    ).text
    withdrawn = jwt.decode(receipt, options={"verify_signature": False})["consent"]
    assert withdrawn["status"] == "withdrawn" and "withdrawn" in withdrawn


@pytest.mark.parametrize("action", ["receipt", "withdraw"])
def test_another_citizens_consent_id_is_not_found(harness: Harness, action: str) -> None:
    grant_id = harness.grant_for("citizen-1")
    url = f"/me/consents/{grant_id}/{action}"
    call = harness.client.post if action == "withdraw" else harness.client.get
    response = call(url, headers=harness.token("citizen-2"))
    assert response.status_code == 404
    assert harness.app.state.services.consent_gate.check(
        "citizen-1", APP, "bansos-eligibility", ["name"]
    ).allowed


def test_the_access_log_shows_who_used_my_data_with_leaf_indices(harness: Harness) -> None:
    harness.grant_for("citizen-1")
    harness.grant_for("citizen-2")
    pseudonym = harness.app.state.services.pseudonymizer.pseudonym("citizen-1")
    now = datetime.now(UTC)
    store = harness.app.state.services.audit_log.store
    with harness.app.state.services.database.write() as session:
        store.append(
            session,
            AuditEntry(
                time=now,
                actor=Actor(ActorKind.RELYING_APP, APP),
                action=Action.DISCLOSE,
                subject=pseudonym,
                data_items=("name",),
                purpose="bansos-eligibility",
                legal_basis=LegalBasis.CONSENT,
            ),
            queued_at=now,
        )
        store.append(
            session,
            AuditEntry(
                time=now,
                actor=Actor(ActorKind.OFFICIAL, "kepolisian"),
                action=Action.READ,
                subject=pseudonym,
                data_items=("name",),
                purpose="investigation",
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                exception_basis="law-enforcement",
                visible_after=now + timedelta(days=90),
            ),
            queued_at=now,
        )
    harness.app.state.services.audit_log.sequence()
    response = harness.client.get("/me/access-log", headers=harness.token("citizen-1"))
    assert response.status_code == 200
    entries = response.json()["entries"]
    purposes = [e["purpose"] for e in entries]
    assert "bansos-eligibility" in purposes and "investigation" not in purposes
    disclose = next(e for e in entries if e["action"] == "disclose")
    assert disclose["actor"] == {"kind": "relying_app", "id": APP}
    proof = harness.client.get(
        f"/audit/proof/inclusion?leaf_index={disclose['leaf_index']}"
        f"&tree_size={harness.app.state.services.audit_log.checkpoint().tree_size}"
    )
    assert proof.status_code == 200
    # citizen-2's log holds only citizen-2's consent events
    other = harness.client.get("/me/access-log", headers=harness.token("citizen-2")).json()
    assert all(e["action"].startswith("consent") for e in other["entries"])
    assert {e["leaf_index"] for e in other["entries"]}.isdisjoint(e["leaf_index"] for e in entries)


def test_the_access_log_pages(harness: Harness) -> None:
    for _ in range(3):
        harness.ledger.publish_notice(APP, notice_content(rights=str(_)))
        harness.world.notice = harness.ledger.current_notice(APP)  # type: ignore[assignment]
        harness.grant_for("citizen-1")
    harness.app.state.services.audit_log.sequence()
    headers = harness.token("citizen-1")
    seen: list[int] = []
    after = -1
    while True:
        page = harness.client.get(f"/me/access-log?after={after}&limit=2", headers=headers).json()
        seen += [e["leaf_index"] for e in page["entries"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 6


def test_me_routes_need_a_citizen_token(harness: Harness) -> None:
    auditor = harness.app.state.services.token_issuer.access_token(
        client_id="auditor", scope=["audit:read"], audience=ISSUER
    )
    for url in ("/me/consents", "/me/access-log"):
        assert harness.client.get(url).status_code == 401
        response = harness.client.get(url, headers={"Authorization": f"Bearer {auditor.token}"})
        assert response.status_code == 403


def test_the_export_carries_the_citizens_consents(harness: Harness) -> None:
    from datetime import date

    from audit.entry import Actor, ActorKind
    from tests.personal_data import SAMPLE

    citizen = harness.app.state.services.citizens.register(
        nik=SAMPLE["nik"],
        name=SAMPLE["name"],
        birthdate=date.fromisoformat(SAMPLE["birthdate"]),
        password="kata sandi yang panjang",
        actor=Actor(ActorKind.OFFICIAL, "dukcapil"),
    )
    grant_id = harness.grant_for(citizen)
    harness.grant_for("citizen-2")
    response = harness.client.get("/me/export", headers=harness.token(citizen))
    assert response.status_code == 200, response.text
    consents = response.json()["consents"]
    assert grant_id in {c["id"] for c in consents}
    assert {c["purpose"]["code"] for c in consents} == {"bansos-eligibility", "newsletter"}
