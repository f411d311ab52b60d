"""The auditor's console beyond the search by NIK (issue 20, part 4): the legal-basis filter,
and the Art. 46 breach report over any app, downloaded as CSV and never with contacts."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from audit.entry import decode_entry
from audit.records import EventFilter
from identity.staff.records import StaffMember
from tests.console_helpers import activate, add_staff, sign_in
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, submit_login
from tests.personal_data import SAMPLE


@pytest.fixture
def auditor(world: OidcWorld) -> StaffMember:
    member, code = add_staff(world, "auditor", "pemeriksa@bpk.example.go.id")
    secret = activate(world, member.email, code)
    assert sign_in(world, member.email, secret).status_code == 303
    return member


def _used_by_a_citizen(world: OidcWorld, rp: Any) -> None:
    assert submit_login(world).status_code == 303
    world.consent(rp)
    world.userinfo(world.tokens(rp)["access_token"])
    world.app.state.services.audit_log.sequence(checkpoint=True)


def _leaves(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/console/entry/(\d+)\?', page)]


def test_an_auditor_narrows_a_search_to_one_legal_basis(
    world: OidcWorld, rp: Any, auditor: StaffMember
) -> None:
    _used_by_a_citizen(world, rp)
    form = world.client.get("/console/search")
    assert '<option value="e">' in form.text  # every Art. 20(2) basis is a choice
    token = csrf_of(form.text)
    every = world.client.post("/console/search", data={"csrf_token": token, "nik": SAMPLE["nik"]})
    consented = world.client.post(
        "/console/search",
        data={"csrf_token": token, "nik": SAMPLE["nik"], "legal_basis": "a"},
    )
    assert consented.status_code == 200
    assert '<option value="a" selected>' in consented.text  # kept for the next search
    log = world.app.state.services.audit_log.store
    expected = [
        leaf.leaf_index for leaf in log.query(EventFilter(legal_basis="a"), limit=500)
        if leaf.leaf_index in _leaves(every.text)
    ]  # fmt: skip
    assert _leaves(consented.text) == expected and 0 < len(expected) < len(_leaves(every.text))
    refused = world.client.post(
        "/console/search",
        data={"csrf_token": token, "nik": SAMPLE["nik"], "legal_basis": "zz"},
    )
    assert refused.status_code == 400 and "Pilih dasar hukum dari daftar" in refused.text
    assert 'value="zz"' not in refused.text


def test_an_auditor_downloads_the_breach_report_of_any_app_without_contacts(
    world: OidcWorld, rp: Any, auditor: StaffMember
) -> None:
    other = world.register_app(name="JAKI", redirect_uri="https://jaki.example.go.id/cb")
    _used_by_a_citizen(world, rp)
    page = world.client.get("/console/breach")
    assert page.status_code == 200
    assert f'value="{rp.client_id}"' in page.text and f'value="{other.client_id}"' in page.text
    assert 'name="with_contact"' not in page.text
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    window = {"csrf_token": csrf_of(page.text), "since": today, "until": today}
    csv = world.client.post(
        "/console/breach", data={**window, "app": rp.client_id, "format": "csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert world.citizen_id in csv.text and SAMPLE["email"] not in csv.text
    asked = world.client.post(
        "/console/breach", data={**window, "app": rp.client_id, "with_contact": "yes"}
    )
    assert asked.status_code == 403 and SAMPLE["email"] not in asked.text
    unknown = world.client.post("/console/breach", data={**window, "app": "no-such-app"})
    assert unknown.status_code == 404
    world.app.state.services.audit_log.sequence(checkpoint=True)
    mine = [
        decode_entry(leaf.entry)
        for leaf in world.app.state.services.audit_log.store.query(
            EventFilter(actor_id=f"staff:{auditor.id}:auditor"), limit=100
        )
    ]
    assert [e.purpose for e in mine if e.action.value == "read"] == ["audit-query"]
    assert not any(e.purpose == "breach-notification" for e in mine)
