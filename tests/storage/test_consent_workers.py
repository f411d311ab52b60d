"""A withdrawal made by one worker process is seen by another worker's gate on its very next
check (consent issue: "a change in one worker is seen by the others on their next check")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from consent.gate import SharedGenerations
from consent.grants import GrantStatus
from identity.storage.database import Database
from tests.consent_helpers import APP, ConsentWorld

WORKER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from consent.gate import ConsentGate, SharedGenerations
    from consent.storage.ledger import SqlLedgerStore
    from identity.storage.database import Database

    url, path, app = sys.argv[1:4]
    gate = ConsentGate(
        source=SqlLedgerStore(database=Database(url)),
        generations=SharedGenerations(Path(path)),
        clock=lambda: datetime.now(UTC),
        max_age=3600,  # only the shared generations can tell this worker of a change
    )
    for line in sys.stdin:
        decision = gate.check("citizen-1", app, "bansos-eligibility", ["name"])
        print(decision.allowed, decision.reason, flush=True)
    """
)


def test_a_second_worker_process_sees_a_withdrawal_on_its_next_check(
    world: ConsentWorld, database: Database, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "consent-generations"
    generations = SharedGenerations(path)
    world.ledger.notifier = generations
    grant = next(
        g for g in world.ledger.record(world.attempt("citizen-1")) if g.status is GrantStatus.ACTIVE
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, database_url, str(path), APP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin and worker.stdout
    try:
        worker.stdin.write("check\n")
        worker.stdin.flush()
        assert worker.stdout.readline().split() == ["True", "consent"]
        world.ledger.withdraw("citizen-1", grant.grant_id)  # this worker
        worker.stdin.write("check\n")
        worker.stdin.flush()
        assert worker.stdout.readline().split() == ["False", "no_consent"]
    finally:
        worker.stdin.close()
        worker.wait(timeout=10)
        generations.close()
