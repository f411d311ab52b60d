"""A credential's life after issuance, on SQLite and PostgreSQL: its status list entry as
``GET /statuslists/{id}`` serves it, revoked when the consent it rests on is withdrawn, when
the citizen is erased, or by the citizen on the account page (a lost phone); suspended and
reinstated by the operator; every change in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from audit.entry import Action, decode_entry
from audit.storage.tables import AuditQueue
from identity.credentials.issuer import ChangeReason, CredentialState, CredentialStateError
from identity.errors import NotFound
from tests.credential_helpers import Wallet, served_status, wallet
from tests.oidc_helpers import BUDI, OidcWorld
from tests.pages_helpers import post_account


def _issued(world: OidcWorld) -> tuple[Wallet, str, str]:
    w = wallet(world)
    compact = w.credential()
    (credential,) = world.app.state.services.credentials.of_citizen(world.citizen_id)
    return w, compact, credential.id


def _state(world: OidcWorld, credential_id: str) -> CredentialState:
    state: CredentialState = world.app.state.services.credentials.get(credential_id).state
    return state


def _changes(world: OidcWorld) -> list[Any]:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry)).all()
    entries = [decode_entry(row) for row in rows]
    return [e for e in entries if e.action is Action.CREDENTIAL_REVOKED]


def test_a_new_credential_is_valid_in_its_list(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    assert served_status(world, compact) == 0
    assert _state(world, credential_id) is CredentialState.VALID


def test_withdrawing_the_consent_revokes_the_credential_at_once(world: OidcWorld) -> None:
    w, compact, credential_id = _issued(world)
    for grant_id in w.grant_ids:
        world.ledger.withdraw(world.citizen_id, grant_id)
    assert served_status(world, compact) == 1
    credential = world.app.state.services.credentials.get(credential_id)
    assert credential.state is CredentialState.REVOKED
    assert credential.reason is ChangeReason.CONSENT
    (entry,) = _changes(world)
    assert entry.purpose == "credential-consent"


def test_withdrawal_on_the_account_page_reaches_the_credential(world: OidcWorld) -> None:
    w, compact, _id = _issued(world)
    response = post_account(world, f"/account/consents/{w.grant_ids[0]}/withdraw")
    assert response.status_code == 303
    assert served_status(world, compact) == 1


def test_the_sweep_revokes_what_no_notifier_saw(world: OidcWorld) -> None:
    w, compact, _id = _issued(world)
    ledger = world.ledger
    notifier, ledger.notifier = ledger.notifier, None  # e.g. a worker stopped mid-way
    try:
        ledger.withdraw(world.citizen_id, w.grant_ids[0])
    finally:
        ledger.notifier = notifier
    world.app.state.services.consent_gate.generations.changed(world.citizen_id)
    assert served_status(world, compact) == 0
    assert world.app.state.services.credentials.reconcile(None) == 1
    assert served_status(world, compact) == 1


def test_erasure_revokes_every_credential_of_the_citizen(world: OidcWorld) -> None:
    w, compact, _id = _issued(world)
    second = w.credential()
    world.app.state.services.subject_requests.submit(world.citizen_id, "erasure")
    assert served_status(world, compact) == 1
    assert served_status(world, second) == 1
    assert all(
        c.state is CredentialState.REVOKED and c.reason is ChangeReason.ERASURE
        for c in world.app.state.services.credentials.of_citizen(world.citizen_id)
    )


def test_the_citizen_revokes_a_credential_on_the_account_page(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    page = world.client.get("/account")
    assert f'action="/account/credentials/{credential_id}/revoke"' in page.text
    assert "Kredensial saya" in page.text
    response = post_account(world, f"/account/credentials/{credential_id}/revoke")
    assert response.status_code == 303
    assert served_status(world, compact) == 1
    after = world.client.get("/account")
    assert f'action="/account/credentials/{credential_id}/revoke"' not in after.text
    assert world.app.state.services.credentials.get(credential_id).reason is ChangeReason.CITIZEN


def test_the_account_page_refuses_a_revocation_without_csrf(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    response = world.client.post(
        f"/account/credentials/{credential_id}/revoke", data={}, follow_redirects=False
    )
    assert response.status_code == 403
    assert served_status(world, compact) == 0


def test_another_citizens_credential_answers_404_and_stays_valid(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    budi = world.register_citizen(BUDI)
    world.login(budi)
    response = post_account(world, f"/account/credentials/{credential_id}/revoke")
    assert response.status_code == 404
    assert served_status(world, compact) == 0


def test_suspend_and_reinstate(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    service = world.app.state.services.credentials
    service.suspend(credential_id, reason=ChangeReason.OPERATOR)
    assert served_status(world, compact) == 2
    service.reinstate(credential_id, reason=ChangeReason.OPERATOR)
    assert served_status(world, compact) == 0
    assert len(_changes(world)) == 2


def test_a_revoked_credential_stays_revoked(world: OidcWorld) -> None:
    _w, compact, credential_id = _issued(world)
    service = world.app.state.services.credentials
    service.revoke(credential_id, reason=ChangeReason.OPERATOR)
    with pytest.raises(CredentialStateError):
        service.reinstate(credential_id, reason=ChangeReason.OPERATOR)
    with pytest.raises(CredentialStateError):
        service.suspend(credential_id, reason=ChangeReason.OPERATOR)
    assert served_status(world, compact) == 1
    with pytest.raises(NotFound):
        service.revoke("no-such-credential", reason=ChangeReason.OPERATOR)
