"""The data protection officer's requests (issue 20, part 3): a citizen addresses an access
or a correction to an app's controller; that controller's DPO sees it with the hours left,
overdue ones first and marked, and completes it; the platform's DPO lifts a restriction.
Each act is recorded under the officer and told in the citizen's log; another controller's
request answers 404 and a wrong role 403."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from audit.entry import decode_entry
from audit.records import EventFilter
from consent.storage.tables import ConsentRequest
from identity.staff.records import StaffMember
from tests.console_helpers import OPERATOR, activate, sign_in, steady
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, submit_login, totp_code
from tests.personal_data import SAMPLE


def _me(world: OidcWorld) -> dict[str, str]:
    issued = world.app.state.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=world.citizen_id, scope=["me"], auth_time=None
    )
    return {"Authorization": f"Bearer {issued.token}"}


def _dpo(world: OidcWorld, apps: tuple[str, ...], email: str) -> tuple[StaffMember, bytes]:
    member, code = world.app.state.services.staff.add(
        name="Pejabat PD", email=email, role="dpo", apps=apps, actor=OPERATOR
    )
    secret = activate(world, member.email, code)
    assert sign_in(world, member.email, secret).status_code == 303
    return member, secret


def _age(world: OidcWorld, request_id: str, hours: int) -> None:
    """Move a request's receipt (and due time) back, as days passing would."""
    found = world.app.state.services.subject_requests.request_of(world.citizen_id, request_id)
    assert found.due_by is not None
    with world.app.state.services.database.write() as session:
        session.execute(
            update(ConsentRequest)
            .where(ConsentRequest.id == request_id)
            .values(received_at=found.received_at - timedelta(hours=hours),
                    due_by=found.due_by - timedelta(hours=hours))
        )  # fmt: skip


def test_a_dpo_completes_an_overdue_access_request_of_their_app(world: OidcWorld, rp: Any) -> None:
    other = world.register_app(name="JAKI", redirect_uri="https://jaki.example.go.id/cb")
    assert submit_login(world).status_code == 303
    world.consent(rp)
    refused = world.client.post("/me/requests", json={"kind": "access",
                                "client_id": other.client_id}, headers=_me(world))  # fmt: skip
    assert refused.status_code == 400  # an app the citizen never used
    asked = world.client.post("/me/requests", json={"kind": "access", "client_id": rp.client_id},
                              headers=_me(world))  # fmt: skip
    assert asked.status_code == 201
    request = asked.json()
    assert request["status"] == "received" and request["client_id"] == rp.client_id
    early = world.client.get(f"/me/export?request_id={request['id']}", headers=_me(world))
    assert early.status_code == 400  # not answered yet
    later = world.client.post("/me/requests", json={"kind": "access", "client_id": rp.client_id},
                              headers=_me(world)).json()  # fmt: skip
    _age(world, request["id"], 80)  # past its 72 hours
    member, _secret = _dpo(world, (rp.client_id,), "ppd@dinsos.example.go.id")
    page = world.client.get("/console/requests")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Terlambat 8 jam" in page.text and "Sisa 72 jam" in page.text
    assert page.text.index(request["id"]) < page.text.index(later["id"])  # overdue first
    assert SAMPLE["name"] not in page.text and SAMPLE["nik"] not in page.text
    token = csrf_of(page.text)
    done = world.client.post(f"/console/requests/{request['id']}/complete",
                             data={"csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    again = world.client.post(f"/console/requests/{request['id']}/complete",
                              data={"csrf_token": token})  # fmt: skip
    assert again.status_code == 409
    mine = world.client.get(f"/me/requests/{request['id']}", headers=_me(world)).json()
    assert mine["status"] == "completed" and mine["outcome"]["action"] == "exported"
    export = world.client.get(f"/me/export?request_id={request['id']}", headers=_me(world))
    assert export.status_code == 200 and SAMPLE["name"] in export.text
    services = world.app.state.services
    services.audit_log.sequence(checkpoint=True)
    acts = [decode_entry(leaf.entry) for leaf in services.audit_log.store.query(
        EventFilter(actor_id=f"staff:{member.id}:dpo"), limit=50)]  # fmt: skip
    answered = [e for e in acts if e.request_id == request["id"]]
    assert [(e.action.value, e.purpose) for e in answered] == [("update", "data-subject-access")]
    assert answered[0].subject == services.pseudonymizer.pseudonym(world.citizen_id)
    story = world.client.get("/account/activity")  # the citizen reads it in their log
    assert f"staff:{member.id}:dpo" in story.text


def test_another_controllers_request_is_not_found_and_other_roles_are_refused(
    world: OidcWorld, rp: Any
) -> None:
    other = world.register_app(name="JAKI", redirect_uri="https://jaki.example.go.id/cb")
    assert submit_login(world).status_code == 303
    world.consent(rp)
    asked = world.client.post("/me/requests", json={"kind": "access", "client_id": rp.client_id},
                              headers=_me(world)).json()  # fmt: skip
    assert world.client.get("/console/requests").status_code == 401
    _dpo(world, (other.client_id,), "ppd@jaki.example.go.id")
    page = world.client.get("/console/requests")
    assert page.status_code == 200 and asked["id"] not in page.text
    token = csrf_of(page.text)
    for act in ("complete", "lift"):
        answer = world.client.post(f"/console/requests/{asked['id']}/{act}",
                                   data={"csrf_token": token, "code": "000000"})  # fmt: skip
        assert answer.status_code == 404, act
    status = world.client.get(f"/me/requests/{asked['id']}", headers=_me(world)).json()["status"]
    assert status == "received"


def test_the_platforms_dpo_lifts_a_restriction_behind_a_fresh_code(
    world: OidcWorld, rp: Any
) -> None:
    restricted = world.client.post("/me/requests", json={"kind": "restriction"},
                                   headers=_me(world)).json()  # fmt: skip
    services = world.app.state.services
    assert services.subject_requests.restrictions.is_restricted(world.citizen_id)
    member, secret = _dpo(world, (), "ppd@kominfo.example.go.id")
    page = world.client.get("/console/requests")
    assert "Cabut pembatasan" in page.text and restricted["id"] in page.text
    token = csrf_of(page.text)
    wrong = world.client.post(f"/console/requests/{restricted['id']}/lift",
                              data={"csrf_token": token, "code": "000000"})  # fmt: skip
    assert wrong.status_code == 400
    assert services.subject_requests.restrictions.is_restricted(world.citizen_id)
    steady()
    lifted = world.client.post(
        f"/console/requests/{restricted['id']}/lift",
        data={"csrf_token": token, "code": totp_code(secret, time.time() + 30)},
        follow_redirects=False,
    )
    assert lifted.status_code == 303
    assert not services.subject_requests.restrictions.is_restricted(world.citizen_id)
    after = world.client.get("/console/requests").text
    assert "pembatasan dicabut" in after and "Cabut pembatasan" not in after
    services.audit_log.sequence(checkpoint=True)
    acts = [decode_entry(leaf.entry) for leaf in services.audit_log.store.query(
        EventFilter(actor_id=f"staff:{member.id}:dpo"), limit=50)]  # fmt: skip
    assert [(e.action.value, e.purpose) for e in acts if e.request_id == restricted["id"]] == [
        ("update", "data-subject-restriction")
    ]


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_the_requests_page_is_the_dpos_alone(world: OidcWorld, role: str) -> None:
    member, code = world.app.state.services.staff.add(
        name="Staf", email=f"{role}@kominfo.example.go.id", role=role, apps=(), actor=OPERATOR
    )
    assert sign_in(world, member.email, activate(world, member.email, code)).status_code == 303
    assert world.client.get("/console/requests").status_code == 403


def test_a_citizen_addresses_a_request_to_an_app_from_the_account_page(
    world: OidcWorld, rp: Any
) -> None:
    assert submit_login(world).status_code == 303
    world.consent(rp)
    page = world.client.get("/account")
    assert 'name="to"' in page.text and f'value="{rp.client_id}"' in page.text
    sent = world.client.post(
        "/account/requests",
        data={"csrf_token": csrf_of(page.text), "kind": "access", "to": rp.client_id},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    [request] = world.app.state.services.subject_requests.requests_of(world.citizen_id)
    assert request.client_id == rp.client_id and request.status.value == "received"
    assert "kepada Dinas Sosial" in world.client.get("/account").text
    wrong = world.client.post(
        "/account/requests",
        data={"csrf_token": csrf_of(page.text), "kind": "restriction", "to": rp.client_id},
    )
    assert wrong.status_code == 400  # an app's controller is asked for access or a correction
