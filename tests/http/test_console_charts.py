"""The auditor's charts (issue 20, part 4): the apps' accesses, the consent gate's refusals,
withdrawals and data-subject requests, counted in the database, drawn as SVG with a table of
the same numbers; the page is the auditors' alone and opening it is recorded."""

from __future__ import annotations

import re
from typing import Any

import pytest

from audit.entry import decode_entry
from audit.records import EventFilter
from identity.staff.records import StaffMember
from tests.consent_helpers import notice_content
from tests.console_helpers import activate, add_staff, sign_in
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import submit_login


@pytest.fixture
def auditor(world: OidcWorld) -> StaffMember:
    member, code = add_staff(world, "auditor", "pemeriksa@bpk.example.go.id")
    assert sign_in(world, member.email, activate(world, member.email, code)).status_code == 303
    return member


def _table(page: str, chart: str) -> list[list[str]]:
    """The rows of a chart's table: the category, the counts, the total."""
    section = page.split(f'id="{chart}-heading"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in body.split("</tr>")[:-1]]


def test_an_auditor_sees_the_days_counts_as_charts_and_tables(
    world: OidcWorld, rp: Any, auditor: StaffMember
) -> None:
    assert submit_login(world).status_code == 303
    grants = world.consent(rp)
    tokens = world.tokens(rp)
    assert world.userinfo(tokens["access_token"]).status_code == 200
    world.ledger.publish_notice(
        rp.client_id, notice_content(controller="Dinas Sosial", rights="v2")
    )
    assert world.userinfo(tokens["access_token"]).status_code == 200  # refused, recorded
    world.ledger.withdraw(world.citizen_id, grants[0].grant_id)
    services = world.app.state.services
    services.audit_log.sequence(checkpoint=True)
    every = [decode_entry(leaf.entry) for leaf in services.audit_log.store.query(
        EventFilter(actor_id=rp.client_id), limit=1000)]  # fmt: skip
    reads = sum(e.action.value in ("read", "disclose") and e.outcome.value == "success"
                for e in every)  # fmt: skip
    refused = sum(e.outcome.value == "denied" for e in every)
    assert reads > 0 and refused == 2
    page = world.client.get("/console/charts")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.text.count('role="img"') == 4 and "<script" not in page.text
    accesses = _table(page.text, "accesses")
    assert len(accesses) == 14  # the default window, a row a day, today last
    assert accesses[-1][1:] == [str(reads), str(reads)] and "Dinas Sosial" in page.text
    assert _table(page.text, "refusals")[-1][1:] == ["2", "2"]
    assert _table(page.text, "withdrawals")[-1][-1] == "1"
    requests = {row[0]: row[-1] for row in _table(page.text, "requests")}
    assert set(requests) == {"Akses", "Koreksi", "Pembatasan", "Penghapusan"}
    assert len(_table(world.client.get("/console/charts?days=7").text, "accesses")) == 7
    odd = world.client.get("/console/charts?days=<b>5</b>")
    assert len(_table(odd.text, "accesses")) == 14 and "<b>5</b>" not in odd.text
    services.audit_log.sequence(checkpoint=True)
    mine = [decode_entry(leaf.entry) for leaf in services.audit_log.store.query(
        EventFilter(actor_id=f"staff:{auditor.id}:auditor"), limit=100)]  # fmt: skip
    assert [e.data_items for e in mine if e.action.value == "read"] == [("audit:statistics",)] * 3


def test_the_charts_are_the_auditors_alone(world: OidcWorld) -> None:
    assert world.client.get("/console/charts").status_code == 401
    member, code = add_staff(world, "operator", "ops@kominfo.example.go.id")
    assert sign_in(world, member.email, activate(world, member.email, code)).status_code == 303
    assert world.client.get("/console/charts").status_code == 403
