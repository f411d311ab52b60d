"""Claims leave for a relying app only through the consent gate and the audited read:
consented claims are released and recorded; withdrawn, unconsented, uncovered or restricted
processing releases nothing (UU PDP Art. 20(2), 22, 41, 31)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from audit.entry import Action, Actor, ActorKind, Outcome, decode_entry
from consent.errors import ConsentRequired
from consent.grants import GrantStatus
from consent.ledger import ConsentLedger
from consent.storage.tables import ConsentRestriction
from identity.oidc.claims_release import ClaimRelease
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import APP, ConsentWorld, consent_world
from tests.personal_data import SAMPLE

ALLOWED = ("name", "birthdate", "email", "nik")


@dataclass
class Setup:
    app: FastAPI
    release: ClaimRelease
    ledger: ConsentLedger
    world: ConsentWorld
    citizen_id: str
    database: Database

    def read_entries(self) -> list[object]:
        with self.database.read() as session:
            rows = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).all()
        return [decode_entry(bytes(r[0])) for r in rows]


@pytest.fixture
def setup(make_settings: Callable[..., Settings], database: Database) -> Setup:
    app = create_app(make_settings(), database=database, run_background=False)
    ledger: ConsentLedger = app.state.services.consent_ledger
    world = consent_world(ledger)
    citizen_id = app.state.services.citizens.register(
        nik=SAMPLE["nik"],
        name=SAMPLE["name"],
        birthdate=date.fromisoformat(SAMPLE["birthdate"]),
        password="kata sandi yang panjang",
        email=SAMPLE["email"],
        actor=Actor(ActorKind.OFFICIAL, "dukcapil"),
    )
    return Setup(app, app.state.services.claim_release, ledger, world, citizen_id, database)


def _release(setup: Setup, purpose: str, claims: tuple[str, ...]) -> dict[str, str]:
    return setup.release.release(
        citizen_id=setup.citizen_id,
        app_id=APP,
        purpose=purpose,
        claims=claims,
        allowed_claims=ALLOWED,
    )


def test_consented_claims_are_released_and_recorded(setup: Setup) -> None:
    grants = setup.ledger.record(setup.world.attempt(setup.citizen_id))
    grant = next(g for g in grants if g.status is GrantStatus.ACTIVE)
    released = _release(setup, "bansos-eligibility", ("name", "birthdate", "phone_number"))
    assert released == {"name": SAMPLE["name"], "birthdate": SAMPLE["birthdate"]}
    reads = [e for e in setup.read_entries() if e.action is Action.READ]  # type: ignore[attr-defined]
    assert reads[-1].actor == Actor(ActorKind.RELYING_APP, APP)  # type: ignore[attr-defined]
    assert reads[-1].consent_id == grant.grant_id  # type: ignore[attr-defined]
    assert reads[-1].outcome is Outcome.SUCCESS  # type: ignore[attr-defined]


def test_public_task_purposes_release_without_consent(setup: Setup) -> None:
    assert _release(setup, "population-admin", ("nik", "name")) == {
        "nik": SAMPLE["nik"],
        "name": SAMPLE["name"],
    }


@pytest.mark.parametrize(
    ("purpose", "claims"),
    [
        ("bansos-eligibility", ("name",)),  # no consent given
        ("newsletter", ("email",)),  # refused on the consent screen
        ("bansos-eligibility", ("email",)),  # consented purpose does not cover email
        ("marketing", ("name",)),  # not a registered purpose
    ],
    ids=["no-consent", "refused", "items-not-covered", "unknown-purpose"],
)
def test_no_basis_releases_nothing_and_records_the_refusal(
    setup: Setup, purpose: str, claims: tuple[str, ...]
) -> None:
    if purpose != "bansos-eligibility" or claims != ("name",):
        setup.ledger.record(setup.world.attempt(setup.citizen_id))
    before = len(setup.read_entries())
    with pytest.raises(ConsentRequired):
        _release(setup, purpose, claims)
    reads = [e for e in setup.read_entries()[before:] if e.action is Action.READ]  # type: ignore[attr-defined]
    # nothing was read: the attempt is recorded as refused, under no legal basis
    assert [(e.actor, e.outcome, e.legal_basis, e.purpose) for e in reads] == [  # type: ignore[attr-defined]
        (Actor(ActorKind.RELYING_APP, APP), Outcome.DENIED, None, purpose)
    ]


def test_withdrawal_stops_release_at_once(setup: Setup) -> None:
    grants = setup.ledger.record(setup.world.attempt(setup.citizen_id))
    grant = next(g for g in grants if g.status is GrantStatus.ACTIVE)
    assert _release(setup, "bansos-eligibility", ("name",))
    setup.ledger.withdraw(setup.citizen_id, grant.grant_id)
    with pytest.raises(ConsentRequired, match="no_consent"):
        _release(setup, "bansos-eligibility", ("name",))


def test_restriction_stops_every_release(setup: Setup) -> None:
    setup.ledger.record(setup.world.attempt(setup.citizen_id))
    assert _release(setup, "population-admin", ("name",))
    from datetime import UTC, datetime

    with setup.database.write() as session:
        session.add(
            ConsentRestriction(subject_id=setup.citizen_id, restricted_at=datetime.now(UTC))
        )
    setup.app.state.services.consent_ledger.notifier.changed(setup.citizen_id)
    for purpose in ("population-admin", "bansos-eligibility"):
        with pytest.raises(ConsentRequired, match="restricted"):
            _release(setup, purpose, ("name",))


def test_claims_the_app_may_not_receive_are_never_read(setup: Setup) -> None:
    before = len(setup.read_entries())
    released = setup.release.release(
        citizen_id=setup.citizen_id,
        app_id=APP,
        purpose="population-admin",
        claims=("nik", "address"),
        allowed_claims=("name",),
    )
    assert released == {}
    assert setup.read_entries()[before:] == []
