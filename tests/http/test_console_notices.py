"""An app's privacy notice in the console (issue 20, part 2): written in a form with every
UU PDP Art. 21(1) item in both languages, previewed as the citizens' own consent screen,
published as a new version (recorded under the operator), and compared with the version
before, word by word."""

from __future__ import annotations

import re
from typing import Any

import pytest

from audit.entry import decode_entry
from audit.records import EventFilter
from identity.staff.records import StaffMember
from tests.console_helpers import activate, add_staff, sign_in
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of

RETENTION = "items.retention.id"


@pytest.fixture
def operator(world: OidcWorld) -> StaffMember:
    member, code = add_staff(world, "operator", "ops@kominfo.example.go.id")
    secret = activate(world, member.email, code)
    assert sign_in(world, member.email, secret).status_code == 303
    return member


def _fields(page: str) -> dict[str, str]:
    """The form's fields as the page fills them (inputs and textareas)."""
    inputs = dict(re.findall(r'name="([a-z_.]+)"[^>]*?value="([^"]*)"', page))
    areas = dict(re.findall(r'name="([a-z_.]+)"[^>]*>([^<]*)</textarea>', page))
    return {**inputs, **areas}


def _post(world: OidcWorld, rp: Any, fields: dict[str, str], action: str) -> Any:
    return world.client.post(
        f"/console/apps/{rp.client_id}/notice", data={**fields, "action": action},
        follow_redirects=False,
    )  # fmt: skip


def test_an_operator_previews_and_publishes_a_new_version_of_the_notice(
    world: OidcWorld, rp: Any, operator: StaffMember
) -> None:
    ledger = world.ledger
    before = ledger.current_notice(rp.client_id)
    assert before is not None and before.version == 1
    form = world.client.get(f"/console/apps/{rp.client_id}/notice")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    fields = _fields(form.text)
    assert fields[RETENTION] == before.content.items["retention"].id  # the version in force
    assert fields["dpo.email"] == "ppd@dinsos.example.go.id" and "csrf_token" in fields
    fields[RETENTION] = "Dokumen disimpan 2 tahun (v1)"
    preview = _post(world, rp, fields, "preview")
    assert preview.status_code == 200
    text = preview.text
    assert "Pratinjau" in text and "Menilai kelayakan bantuan sosial" in text  # the screen
    assert re.search(r'value="submit" disabled>', text)  # its buttons do nothing here
    assert "<del>" in text and "<ins>" in text and "Dokumen disimpan 2 tahun" in text
    assert ledger.current_notice(rp.client_id) == before  # a preview publishes nothing
    hidden = dict(re.findall(r'type="hidden" name="([a-z_.]+)" value="([^"]*)"', text))
    assert hidden[RETENTION] == "Dokumen disimpan 2 tahun (v1)"
    published = _post(world, rp, {**hidden, "csrf_token": fields["csrf_token"]}, "publish")
    assert published.status_code == 303
    after = ledger.current_notice(rp.client_id)
    assert after is not None and after.version == 2
    assert after.content.items["retention"].id == "Dokumen disimpan 2 tahun (v1)"
    page = world.client.get(published.headers["location"]).text
    assert "Versi baru diterbitkan" in page and "Versi 2" in page and "Versi 1" in page
    again = _post(world, rp, {**hidden, "csrf_token": fields["csrf_token"]}, "publish")
    assert again.status_code == 303 and again.headers["location"].endswith("done=same")
    assert ledger.current_notice(rp.client_id) == after  # the same text: no version 3
    changes = world.client.get(f"/console/apps/{rp.client_id}/notice/changes/2")
    assert changes.status_code == 200
    assert re.search(r"<del>.*Teks retention.*</del>", changes.text)
    assert re.search(r"<ins>.*Dokumen disimpan 2 tahun.*</ins>", changes.text)
    first = world.client.get(f"/console/apps/{rp.client_id}/notice/changes/1")
    assert "Ini versi pertama." in first.text
    for missing in ("3", "0", "x", "99999999999"):
        path = f"/console/apps/{rp.client_id}/notice/changes/{missing}"
        assert world.client.get(path).status_code == 404
    world.app.state.services.audit_log.sequence(checkpoint=True)
    mine = [
        (e.action.value, e.outcome.value, e.request_id)
        for e in (decode_entry(leaf.entry) for leaf in world.app.state.services.audit_log.store
                  .query(EventFilter(actor_id=f"staff:{operator.id}:operator"), limit=100))
        if e.data_items == ("notice",)
    ]  # fmt: skip
    assert mine == [("create", "success", rp.client_id)]


def test_a_notice_missing_an_item_is_refused_naming_it_and_nothing_is_published(
    world: OidcWorld, rp: Any, operator: StaffMember
) -> None:
    fields = _fields(world.client.get(f"/console/apps/{rp.client_id}/notice").text)
    fields["items.legality.id"] = "  "
    fields["dpo.email"] = fields["dpo.phone"] = fields["dpo.url"] = ""
    for action in ("preview", "publish"):
        refused = _post(world, rp, fields, action)
        assert refused.status_code == 400, action
        assert "Pemberitahuan belum dapat dipakai" in refused.text
        assert "items.legality.id must not be empty" in refused.text
    fields["items.legality.id"] = "Pasal 20 ayat (2) huruf a"
    no_channel = _post(world, rp, fields, "publish")
    assert no_channel.status_code == 400 and "Art. 53" in no_channel.text
    assert world.ledger.current_notice(rp.client_id).version == 1
    edit = _post(world, rp, fields, "edit")  # back to the form with what was typed
    assert edit.status_code == 200 and "Pasal 20 ayat (2) huruf a" in edit.text


def test_the_notice_pages_are_the_operators_alone(world: OidcWorld, rp: Any) -> None:
    paths = [f"/console/apps/{rp.client_id}/notice",
             f"/console/apps/{rp.client_id}/notice/changes/1"]  # fmt: skip
    for path in paths:
        assert world.client.get(path).status_code == 401
    member, code = add_staff(world, "auditor", "pemeriksa@bpk.example.go.id")
    assert sign_in(world, member.email, activate(world, member.email, code)).status_code == 303
    token = csrf_of(world.client.get("/console").text)
    for path in paths:
        assert world.client.get(path).status_code == 403
    posted = world.client.post(paths[0], data={"csrf_token": token, "action": "publish"})
    assert posted.status_code == 403
    assert world.ledger.current_notice(rp.client_id).version == 1


def test_an_unknown_app_has_no_notice_page(world: OidcWorld, operator: StaffMember) -> None:
    token = csrf_of(world.client.get("/console").text)
    assert world.client.get("/console/apps/no-such-app/notice").status_code == 404
    posted = world.client.post("/console/apps/no-such-app/notice",
                               data={"csrf_token": token, "action": "preview"})  # fmt: skip
    assert posted.status_code == 404
