"""A release the consent gate refuses is recorded (UU PDP Art. 20(2), 22, 31, 41): nothing is
read, the attempt is a ``read`` with outcome ``denied`` and no legal basis, the citizen's log
says that Jati refused, and it is neither a use of the app nor an exposure in a breach report."""

from __future__ import annotations

from typing import Any

from audit.entry import ActorKind, Outcome, decode_entry
from audit.records import EventFilter
from identity.citizens.activity import last_use
from tests.consent_helpers import notice_content
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import submit_login


def test_a_release_under_a_changed_notice_is_refused_recorded_and_told_to_the_citizen(
    world: OidcWorld, rp: Any
) -> None:
    assert submit_login(world).status_code == 303
    world.consent(rp)
    tokens = world.tokens(rp)
    services = world.app.state.services
    # a new notice: the consents given under the old one no longer count (Art. 21(2))
    world.ledger.publish_notice(
        rp.client_id, notice_content(controller="Dinas Sosial", rights="v2")
    )
    answer = world.userinfo(tokens["access_token"])
    assert answer.status_code == 200 and set(answer.json()) == {"sub"}
    services.audit_log.sequence(checkpoint=True)
    subject = services.pseudonymizer.pseudonym(world.citizen_id)
    entries = [
        decode_entry(leaf.entry)
        for leaf in services.audit_log.store.query(EventFilter(subject=subject), limit=500)
    ]
    refused = [e for e in entries if e.outcome is Outcome.DENIED]
    assert {(e.purpose, e.data_items) for e in refused} == {
        ("bansos-eligibility", ("birthdate", "name")),
        ("newsletter", ("email",)),
    }
    for entry in refused:
        assert entry.actor.kind is ActorKind.RELYING_APP and entry.actor.id == rp.client_id
        assert entry.action.value == "read" and entry.legal_basis is None
    denied = services.audit_log.store.query(EventFilter(subject=subject), limit=500)
    assert [leaf.outcome for leaf in denied].count("denied") == 2  # the query column
    page = world.client.get("/account/activity")
    assert "tetapi Jati menolak dan tidak memberikan apa pun" in page.text
    used = last_use(services.audit_log, services.pseudonymizer, world.citizen_id, rp.client_id)
    granted = [e for e in entries if e.actor.id == rp.client_id and e.outcome is Outcome.SUCCESS]
    assert used is not None and used == max(e.time for e in granted if e.action.value == "read")
