"""The consent ledger on SQLite and PostgreSQL: Art. 22 refusals that record nothing,
guardian consent (Art. 25), withdrawal (Art. 9, 40), notices (Art. 21), expiry, the gate,
audit entries, append-only events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import exc, func, select, text

from audit.entry import Action, LegalBasis, decode_entry
from audit.pseudonym import SubjectPseudonymizer
from consent.errors import GrantNotFound, InvalidConsent, InvalidPurpose, NoticeChanged
from consent.grants import EventKind, GivenBy, GrantStatus
from consent.storage.ledger import ConsentEventRow
from identity.storage.database import Database
from tests.conftest import ManualClock
from tests.consent_helpers import APP, PURPOSES, ConsentWorld, notice_content


def _event_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEventRow)) or 0)


def test_one_choice_per_purpose_is_recorded_with_the_notice_hash(world: ConsentWorld) -> None:
    grants = world.ledger.record(world.attempt("citizen-1"))
    by_purpose = {g.purpose_code: g for g in grants}
    assert by_purpose["bansos-eligibility"].status is GrantStatus.ACTIVE
    assert by_purpose["newsletter"].status is GrantStatus.REFUSED
    assert "population-admin" not in by_purpose  # public task: shown, not asked
    assert {g.notice_hash for g in grants} == {world.notice.content_hash}
    assert all(g.given_by is GivenBy.SUBJECT for g in grants)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"act": "  "}, "explicit act"),
        ({"choices": {"bansos-eligibility": True}}, "one explicit choice per purpose"),
        ({"choices": {"all": True}}, "unknown purpose"),
        (
            {"choices": {"bansos-eligibility": True, "newsletter": True, "population-admin": True}},
            "another legal basis",
        ),
        ({"choices": {"bansos-eligibility": 1, "newsletter": False}}, "explicit yes or no"),
        ({"notice_hash": "sha-256:not-the-one-shown"}, "current notice"),
        ({"subject_birthdate": date(2015, 6, 1)}, "under 18"),
        ({"guardian_id": "parent-1"}, "adult gives consent themselves"),
    ],
    ids=[
        "no-act",
        "bundled-missing-choice",
        "bundled-all",
        "asked-non-consent-purpose",
        "not-a-boolean",
        "stale-notice",
        "child-without-guardian",
        "adult-with-guardian",
    ],
)
def test_attempts_that_break_article_22_are_refused_and_record_nothing(
    world: ConsentWorld, database: Database, overrides: dict[str, object], message: str
) -> None:
    before = _event_count(database)
    with pytest.raises(InvalidConsent, match=message):
        world.ledger.record(world.attempt("citizen-1", **overrides))
    assert _event_count(database) == before
    assert world.ledger.grants_of("citizen-1") == []


def test_an_app_without_a_notice_cannot_collect_consent(world: ConsentWorld) -> None:
    attempt = world.attempt("citizen-1", app_id="no-notice-app")
    with pytest.raises(InvalidConsent, match="no published notice"):
        world.ledger.record(attempt)


def test_guardian_consent_for_a_child_needs_reconfirmation_at_majority(
    world: ConsentWorld, clock: ManualClock
) -> None:
    birthdate = (clock() - timedelta(days=17 * 365)).date()  # 17 years old
    (grant, _) = sorted(
        world.ledger.record(
            world.attempt("child-1", subject_birthdate=birthdate, guardian_id="parent-1")
        ),
        key=lambda g: g.purpose_code,
    )
    assert grant.given_by is GivenBy.GUARDIAN and grant.guardian_id == "parent-1"
    assert grant.reconfirm_at is not None
    gate = world.gate()
    assert gate.check("child-1", APP, "bansos-eligibility", ["name"]).allowed
    clock.advance((grant.reconfirm_at - clock()).total_seconds() + 1)
    decision = gate.check("child-1", APP, "bansos-eligibility", ["name"])
    assert not decision.allowed and decision.reason == "needs_reconfirmation"
    # now an adult, the citizen re-confirms themselves: the same grant, renewed
    renewed = world.ledger.record(world.attempt("child-1", subject_birthdate=birthdate))
    again = next(g for g in renewed if g.purpose_code == "bansos-eligibility")
    assert again.grant_id == grant.grant_id and again.given_by is GivenBy.SUBJECT
    assert again.reconfirm_at is None
    assert gate.check("child-1", APP, "bansos-eligibility", ["name"]).allowed


def test_withdrawal_takes_effect_at_once_and_keeps_its_times(
    world: ConsentWorld, clock: ManualClock
) -> None:
    grant = next(
        g for g in world.ledger.record(world.attempt("citizen-1")) if g.status is GrantStatus.ACTIVE
    )
    gate = world.gate()
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["income"]).allowed
    received = clock() - timedelta(minutes=3)
    withdrawn = world.ledger.withdraw("citizen-1", grant.grant_id, received_at=received)
    assert withdrawn.status is GrantStatus.WITHDRAWN
    event = withdrawn.withdrawal
    assert event is not None
    assert event.received_at == received
    assert event.due_by == received + timedelta(hours=72)
    assert event.effective_at == clock()
    assert not gate.check("citizen-1", APP, "bansos-eligibility", ["income"]).allowed
    assert not world.ledger.is_grant_active(grant.grant_id)
    # withdrawing again changes nothing
    assert world.ledger.withdraw("citizen-1", grant.grant_id).withdrawal == event


def test_a_citizen_cannot_touch_another_citizens_grant(world: ConsentWorld) -> None:
    grant = world.ledger.record(world.attempt("citizen-1"))[0]
    with pytest.raises(GrantNotFound):
        world.ledger.withdraw("citizen-2", grant.grant_id)
    with pytest.raises(GrantNotFound):
        world.ledger.grant("citizen-2", grant.grant_id)
    assert world.ledger.grant("citizen-1", grant.grant_id).grant_id == grant.grant_id


def test_a_new_notice_version_asks_for_fresh_consent(world: ConsentWorld) -> None:
    world.ledger.record(world.attempt("citizen-1"))
    gate = world.gate()
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    newer = world.ledger.publish_notice(APP, notice_content(rights="v2"))
    assert newer.version == 2 and newer.content_hash != world.notice.content_hash
    decision = gate.check("citizen-1", APP, "bansos-eligibility", ["name"])
    assert not decision.allowed and decision.reason == "notice_changed"
    with pytest.raises(NoticeChanged):
        world.ledger.record(world.attempt("citizen-1"))  # still showing the old notice
    world.ledger.record(world.attempt("citizen-1", notice_hash=newer.content_hash))
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    assert world.ledger.publish_notice(APP, notice_content(rights="v2")).version == 2


def test_expiry_ends_a_grant_and_is_recorded(world: ConsentWorld, clock: ManualClock) -> None:
    world.ledger.record(world.attempt("citizen-1", expires_at=clock() + timedelta(days=30)))
    gate = world.gate()
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    clock.advance(31 * 86400)
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).reason == "consent_expired"
    assert world.ledger.expire_due() == 1
    assert world.ledger.expire_due() == 0
    (grant,) = [
        g for g in world.ledger.grants_of("citizen-1") if g.purpose_code == "bansos-eligibility"
    ]
    assert grant.status is GrantStatus.EXPIRED
    assert [e.kind for e in grant.events] == [EventKind.GIVEN, EventKind.EXPIRED]


def test_the_gate_checks_purpose_items_and_basis(world: ConsentWorld) -> None:
    gate = world.gate()
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).reason == "no_consent"
    public = gate.check("citizen-1", APP, "population-admin", ["nik"])
    assert public.allowed and public.legal_basis is LegalBasis.PUBLIC_TASK
    world.ledger.record(world.attempt("citizen-1"))
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["email"]).reason == (
        "data_items_not_covered"
    )
    assert gate.check("citizen-1", APP, "marketing", ["name"]).reason == "unknown_purpose"
    assert gate.check("citizen-1", "other-app", "bansos-eligibility", ["name"]).reason == (
        "unknown_purpose"
    )
    assert gate.check("citizen-1", APP, "newsletter", ["email"]).reason == "no_consent"


def test_consent_events_are_audited_in_the_same_transaction(
    world: ConsentWorld, database: Database, pseudonymizer: SubjectPseudonymizer
) -> None:
    grants = world.ledger.record(world.attempt("citizen-1"))
    with database.read() as session:
        entries = [
            decode_entry(bytes(row[0]))
            for row in session.execute(text("SELECT entry FROM audit_queue ORDER BY id"))
        ]
    consent_entries = [
        e for e in entries if e.action in (Action.CONSENT_GIVEN, Action.CONSENT_REFUSED)
    ]
    assert {e.consent_id for e in consent_entries} == {g.grant_id for g in grants}
    assert {e.subject for e in consent_entries} == {pseudonymizer.pseudonym("citizen-1")}
    assert all(e.legal_basis is LegalBasis.CONSENT for e in consent_entries)
    given = next(e for e in consent_entries if e.action is Action.CONSENT_GIVEN)
    assert given.purpose == "bansos-eligibility" and "income" in given.data_items


def test_consent_events_and_notices_are_append_only(
    world: ConsentWorld, database: Database
) -> None:
    world.ledger.record(world.attempt("citizen-1"))
    for statement in (
        "UPDATE consent_event SET kind = 'given'",
        "DELETE FROM consent_event",
        "UPDATE consent_notice SET content = '{}'",
        "DELETE FROM consent_notice",
    ):
        with pytest.raises(exc.DBAPIError, match="refused"), database.write() as session:
            session.execute(text(statement))


def test_purposes_are_validated_and_registered_once(world: ConsentWorld) -> None:
    with pytest.raises(InvalidPurpose, match="already registered"):
        world.ledger.register_purpose(PURPOSES[0])
    assert [p.code for p in world.ledger.purposes(APP)] == sorted(p.code for p in PURPOSES)


def test_a_gate_in_another_worker_sees_a_withdrawal_on_its_next_check(
    world: ConsentWorld, tmp_path: object
) -> None:
    from pathlib import Path

    from consent.gate import ConsentGate, SharedGenerations

    path = Path(str(tmp_path)) / "consent-generations"
    worker_a, worker_b = SharedGenerations(path), SharedGenerations(path)  # two mappings
    world.ledger.notifier = worker_a
    gate_b = ConsentGate(
        source=world.store, generations=worker_b, clock=world.ledger.clock, max_age=3600
    )
    grant = next(
        g for g in world.ledger.record(world.attempt("citizen-1")) if g.status is GrantStatus.ACTIVE
    )
    assert gate_b.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed  # now cached
    world.ledger.withdraw("citizen-1", grant.grant_id)  # in "worker A"
    assert not gate_b.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    worker_a.close()
    worker_b.close()


def test_expired_grants_are_not_scanned_again(world: ConsentWorld, clock: ManualClock) -> None:
    world.ledger.record(world.attempt("citizen-1", expires_at=clock() + timedelta(days=1)))
    clock.advance(2 * 86400)
    with world.store.read() as tx:
        assert len(tx.grants_due_to_expire(clock())) == 1
    world.ledger.expire_due()
    with world.store.read() as tx:
        assert tx.grants_due_to_expire(clock()) == []


def test_a_ledger_holding_events_cannot_be_downgraded(
    world: ConsentWorld, database: Database
) -> None:
    from alembic import command

    from identity.service.database import migrate

    world.ledger.record(world.attempt("citizen-1"))
    config = migrate.alembic_config()
    with pytest.raises(RuntimeError, match="proof of consent"), database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006_consent_requests")
    assert world.ledger.grants_of("citizen-1")


def test_cached_consent_records_follow_withdrawal_and_new_purposes(
    world: ConsentWorld, clock: ManualClock
) -> None:
    from consent.gate import CachedConsentRecords
    from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity

    records = CachedConsentRecords(ledger=world.ledger, gate=world.gate(max_age=3600))
    grant = next(
        g for g in world.ledger.record(world.attempt("citizen-1")) if g.status is GrantStatus.ACTIVE
    )
    assert records.is_grant_active(grant.grant_id)
    assert not records.is_grant_active("no-such-grant")
    world.ledger.withdraw("citizen-1", grant.grant_id)
    assert not records.is_grant_active(grant.grant_id)  # the same answer as the ledger's
    assert not world.ledger.is_grant_active(grant.grant_id)

    expiring = next(
        g
        for g in world.ledger.record(
            world.attempt("citizen-2", expires_at=clock() + timedelta(days=1))
        )
        if g.status is GrantStatus.ACTIVE
    )
    assert records.is_grant_active(expiring.grant_id)
    clock.advance(2 * 86400)
    assert not records.is_grant_active(expiring.grant_id)

    before = {p.code for p in records.purposes(APP)}
    world.ledger.register_purpose(
        Purpose(
            app_id=APP,
            code="survey",
            description=LocalizedText("Survei kepuasan"),
            legal_basis=LegalBasis.CONSENT,
            data_items=(DataItem("email", Sensitivity.GENERAL),),
            retention_days=30,
        )
    )
    assert {p.code for p in records.purposes(APP)} == before | {"survey"}
