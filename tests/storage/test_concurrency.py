"""Several processes append and sequence at once: one gap-free log, consistent checkpoints."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.checkpoint import open_checkpoint
from audit.merkle.proof_verification import verify_consistency
from audit.storage.verification import verify_stored_log
from tests.concurrent_writer import build

pytestmark = pytest.mark.slow

WRITERS = 4
PER_WRITER = 60
ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_writers_and_sequencers_make_one_linear_log(
    database_url: str, database: object
) -> None:
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.concurrent_writer",
                database_url,
                str(w),
                str(PER_WRITER),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    db, store, log = build(database_url)
    try:
        log.initialize()
        log.sequence(checkpoint=True)
        total = WRITERS * PER_WRITER
        assert store.queue_status().length == 0
        leaves = store.leaves(0, total)
        assert [index for index, _ in leaves] == list(range(total))  # dense, no gaps
        request_ids = [json.loads(entry)["request_id"] for _, entry in leaves]
        assert sorted(request_ids) == sorted(
            f"w{w}-{n}" for w in range(WRITERS) for n in range(PER_WRITER)
        )  # every committed entry exactly once
        for w in range(WRITERS):  # each writer's own order is kept
            mine = [r for r in request_ids if r.startswith(f"w{w}-")]
            assert mine == [f"w{w}-{n}" for n in range(PER_WRITER)]
        checkpoints = [
            open_checkpoint(c.note, log.verifier, origin=log.origin)
            for c in store.recent_checkpoints(limit=10**6)[::-1]
        ]
        assert len(checkpoints) >= 2
        for older, newer in itertools.pairwise(checkpoints):
            verify_consistency(
                first=older.size,
                second=newer.size,
                proof=log.consistency_proof(older.size, newer.size),
                first_root=older.root_hash,
                second_root=newer.root_hash,
            )
        report = verify_stored_log(log, store)
        assert report.ok, report.findings
        assert report.tree_size == total
    finally:
        db.dispose()
