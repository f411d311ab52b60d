"""Consent check throughput / token issuance throughput (consent issue, target >= 20): the
gate identity calls before releasing any claim never dominates a token request.

Setup: a SQLite ledger with one app (purposes on consent and on public task, a notice) and
1,000 citizens who each granted the consent purpose; the gate uses the shared generations
file as in ``jati serve``. The figure cycles through the citizens (each check reads the
citizen's generation from shared memory and decides from the cached view); the cold rate
(every check reloading from the database, as after a change) is printed for orientation.
The baseline is EdDSA access-token issuance in the same process.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from bench.common import Figure
from bench.tokens import _compare, _setup
from consent.gate import ConsentGate, SharedGenerations
from consent.ledger import ConsentLedger
from consent.storage.ledger import SqlLedgerStore
from identity.service.database import migrate
from identity.storage.database import Database
from tests.consent_helpers import APP, PURPOSES, ConsentWorld, notice_content

CITIZENS = 1000


def run(*, quick: bool = False) -> list[Figure]:
    rounds, seconds = (3, 0.3) if quick else (5, 1.0)
    with tempfile.TemporaryDirectory(prefix="jati-bench-consent-") as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'jati.db'}")
        migrate.upgrade(database.engine)
        generations = SharedGenerations(Path(tmp) / "consent-generations")
        store = SqlLedgerStore(database=database)
        ledger = ConsentLedger(
            store=store,
            clock=lambda: datetime.now(UTC),
            audit=SqlAuditStore(engine=database.engine),
            pseudonymizer=SubjectPseudonymizer(bytes(range(32))),
            notifier=generations,
        )
        for purpose in PURPOSES:
            ledger.register_purpose(purpose)
        notice = ledger.publish_notice(APP, notice_content())
        world = ConsentWorld(ledger=ledger, store=store, notice=notice, generations=None)  # type: ignore[arg-type]
        citizens = [f"citizen-{i:04d}" for i in range(CITIZENS)]
        for citizen in citizens:
            ledger.record(world.attempt(citizen))
        gate = ConsentGate(
            source=store, generations=generations, clock=lambda: datetime.now(UTC), max_age=3600
        )
        cycle = itertools.cycle(citizens)
        items = ("name", "birthdate")

        def check() -> object:
            decision = gate.check(next(cycle), APP, "bansos-eligibility", items)
            assert decision.allowed
            return decision

        for citizen in citizens:  # warm: every view loaded once
            gate.check(citizen, APP, "bansos-eligibility", items)
        _, _, issuer, _ = _setup("EdDSA")

        def issue() -> object:
            return issuer.access_token(
                client_id="layanan",
                scope=["openid", "profile"],
                subject_id="3f1c9a8e-7b2d-4c55-9e0a-1d2b3c4d5e6f",
                sector_identifier="kependudukan.jakarta.go.id",
            )

        checks, issued = _compare(check, issue, rounds, seconds)
        cold_gate = ConsentGate(
            source=store, generations=generations, clock=lambda: datetime.now(UTC), max_age=0
        )
        start = time.perf_counter()
        cold = 0
        while time.perf_counter() - start < (0.5 if quick else 2.0):
            cold_gate.check(next(cycle), APP, "bansos-eligibility", items)
            cold += 1
        cold_rate = cold / (time.perf_counter() - start)
        generations.close()
        database.dispose()
    return [
        Figure(
            "consent checks/s (1,000 citizens, cached views) / token issuance/s",
            checks,
            issued,
            "per second",
            target=20,
            note=f"cold check after a change (database read): {cold_rate:,.0f}/s",
        )
    ]
