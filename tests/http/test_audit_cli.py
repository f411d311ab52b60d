"""``jati audit ...`` as an operator or auditor runs it (real processes, DESIGN.md §4 "CLI").

Entries are put in the log in-process with the same settings the commands get from the
environment (the same database and master key), as the running service would.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from audit.checkpoint import open_checkpoint
from audit.cli import CSV_FIELDS
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, encode_entry
from audit.log import AuditLog
from audit.merkle.compact_range import CompactRange
from audit.merkle.tree_hash import hash_leaf
from audit.note import NoteVerifier
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.service.audit_verification import read_result
from identity.service.factories import build_audit_log
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import TEST_MASTER_KEY, ManualClock, append_entries
from tests.helpers import Operator, operator_env, run_jati

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@dataclass
class Deployment(Operator):
    """A migrated database, the environment of the ``jati`` command, the in-process log."""

    log: AuditLog
    pseudonymizer: SubjectPseudonymizer
    entries: list[AuditEntry]

    @property
    def store(self) -> SqlAuditStore:
        store = self.log.store
        assert isinstance(store, SqlAuditStore)
        return store

    def append(self, count: int, *, sequence: bool = True) -> None:
        """Append ``count`` entries, one committed transaction each, then sequence and sign."""
        new = []
        for n in range(len(self.entries), len(self.entries) + count):
            entry = AuditEntry(
                time=T0 + timedelta(minutes=n),
                actor=Actor(kind=ActorKind.RELYING_APP, id=("app-a", "app-b", "app-c")[n % 3]),
                action=Action.DISCLOSE,
                subject=self.pseudonymizer.pseudonym(f"citizen-{n % 4}"),
                data_items=("name", "address"),
                purpose=("social-aid", "tax")[n % 2],
                legal_basis=LegalBasis.CONSENT,
                consent_id=f"consent-{n}",
                request_id=f"req-{n}",
            )
            new.append(entry)
        append_entries(self.database, self.store, new, ManualClock(datetime.now(UTC)))
        self.entries.extend(new)
        if sequence:
            self.log.sequence(checkpoint=True)

    def events(self, keep: Any = None) -> list[dict[str, Any]]:
        return [
            {"leaf_index": i, **entry.to_json_dict()}
            for i, entry in enumerate(self.entries)
            if keep is None or keep(entry)
        ]

    def query(self, *args: str) -> list[dict[str, Any]]:
        code, out, err = self.jati("audit", "query", *args)
        assert code == 0, err
        return [json.loads(line) for line in out.splitlines()]


def test_db_upgrade_migrates_once(tmp_path: Path, database_url: str) -> None:
    env = operator_env(tmp_path, database_url)
    first = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("database upgraded to ")
    again = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("database already at ")


def test_audit_command_before_db_upgrade_fails_in_one_line(
    tmp_path: Path, database_url: str
) -> None:
    """An operator who forgot `jati db upgrade` gets one clear line, never a traceback."""
    result = run_jati("audit", "checkpoint", cwd=tmp_path, env=operator_env(tmp_path, database_url))
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.fixture
def deployment(tmp_path: Path, database_url: str, database: Database) -> Deployment:
    """The commands' environment and, in-process, the same log built from the same values.

    ``database`` is migrated in-process to keep the tests fast; ``jati db upgrade`` has its
    own test above.
    """
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        master_key=TEST_MASTER_KEY,
        issuer=None,
        audit_origin=None,
    )
    audit_log, pseudonymizer = build_audit_log(settings, database, settings.load_master_key()[0])
    audit_log.initialize()
    env = operator_env(tmp_path, database_url)
    return Deployment(tmp_path, env, database, audit_log, pseudonymizer, [])


def test_checkpoint_verifies_with_the_printed_key(deployment: Deployment) -> None:
    deployment.append(4)
    deployment.append(2, sequence=False)  # `jati audit checkpoint` integrates the queue

    code, vkey, err = deployment.jati("audit", "key")
    assert code == 0, err
    assert vkey.endswith("\n") and vkey.count("\n") == 1
    verifier = NoteVerifier.from_vkey(vkey.strip())
    assert vkey.strip() == deployment.log.vkey()
    assert verifier.name == "localhost/audit"

    code, note, err = deployment.jati("audit", "checkpoint")
    assert code == 0, err
    checkpoint = open_checkpoint(note, verifier, origin=verifier.name)
    tree = CompactRange()
    tree.extend(hash_leaf(encode_entry(e)) for e in deployment.entries)
    assert (checkpoint.size, checkpoint.root_hash) == (6, tree.root())
    stored = deployment.store.latest_checkpoint()
    assert stored is not None and stored.note == note


def test_verify_passes_on_an_intact_log_and_fails_on_an_edited_one(
    deployment: Deployment,
) -> None:
    deployment.append(20)
    code, out, err = deployment.jati("audit", "verify")
    assert code == 0, err
    assert out.startswith("OK")
    assert "20 entries" in out
    assert err == ""

    edited = AuditEntry(
        time=T0, actor=Actor(kind=ActorKind.SYSTEM, id="someone-else"), action=Action.READ
    )
    with deployment.database.write() as session:
        # Someone with DDL rights lifts the append-only triggers and rewrites an entry.
        if deployment.database.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_leaf DISABLE TRIGGER USER"))
        else:
            names = session.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": "audit_leaf"},
            ).scalars()
            for name in list(names):
                session.execute(text(f'DROP TRIGGER "{name}"'))
        session.execute(
            text("UPDATE audit_leaf SET entry = :entry WHERE leaf_index = 7"),
            {"entry": encode_entry(edited)},
        )
    code, out, err = deployment.jati("audit", "verify")
    assert code == 1
    assert "OK" not in out
    assert "FAIL" in err
    # the run is kept for the service (its /metrics, /readyz and the console)
    kept = read_result(Path(deployment.env["JATI_DATA_DIR"]))
    assert kept is not None and not kept.ok and kept.entries == 20 and kept.findings >= 1


def test_query_streams_every_event_as_json_lines(deployment: Deployment) -> None:
    deployment.append(12)
    deployment.append(1, sequence=False)  # queued, not yet in the log
    code, out, err = deployment.jati("audit", "query", "--format", "jsonl")
    assert code == 0, err
    assert out.endswith("\n") and len(out.splitlines()) == 12
    assert [json.loads(line) for line in out.splitlines()] == deployment.events()[:12]


def test_query_filters_by_subject_and_actor(deployment: Deployment) -> None:
    deployment.append(12)
    subject = deployment.pseudonymizer.pseudonym("citizen-1")
    # jsonl is the default format.
    by_id = deployment.query("--subject-id", "citizen-1")
    assert by_id == deployment.events(lambda e: e.subject == subject)
    assert [e["leaf_index"] for e in by_id] == [1, 5, 9]
    # Alone, the pseudonym would match 1, 5, 9 and the actor 2, 5, 8, 11.
    both = deployment.query("--subject-pseudonym", subject, "--actor", "app-c")
    assert [e["leaf_index"] for e in both] == [5]


def test_query_filters_by_time(deployment: Deployment) -> None:
    deployment.append(12)  # one per minute from 08:00Z
    # A time without a zone is UTC; 15:07 in Jakarta is 08:07Z. since is inclusive,
    # until exclusive.
    window = deployment.query("--since", "2026-11-28T08:03:00", "--until", "2026-11-28T15:07+07:00")
    assert window == deployment.events(
        lambda e: T0 + timedelta(minutes=3) <= e.time < T0 + timedelta(minutes=7)
    )
    assert [e["leaf_index"] for e in window] == [3, 4, 5, 6]


def test_query_as_csv(deployment: Deployment) -> None:
    deployment.append(7)
    code, out, err = deployment.jati("audit", "query", "--format", "csv", "--purpose", "tax")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == ",".join(CSV_FIELDS)
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = deployment.events(lambda e: e.purpose == "tax")
    assert len(rows) == len(expected) == 3
    assert len(lines) == 1 + len(rows)
    for row, event in zip(rows, expected, strict=True):
        assert row["leaf_index"] == str(event["leaf_index"])
        assert row["time"] == event["time"]
        assert (row["actor_kind"], row["actor_id"]) == ("relying_app", event["actor"]["id"])
        assert row["subject"] == event["subject"]
        assert row["action"] == "disclose"
        assert row["data_items"] == "address;name"
        assert row["purpose"] == "tax"
        assert row["legal_basis"] == "a"
        assert row["consent_id"] == event["consent_id"]
        assert row["outcome"] == "success"
        assert row["citizen_visible"] == "true"
        assert row["exception_basis"] == row["visible_after"] == ""


def test_query_as_csv_without_matches_is_the_header(deployment: Deployment) -> None:
    deployment.append(3)
    code, out, err = deployment.jati("audit", "query", "--format", "csv", "--actor", "app-z")
    assert code == 0, err
    assert out == ",".join(CSV_FIELDS) + "\n"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--since", "yesterday"), "--since"),
        (("--format", "xml"), "--format"),
    ],
    ids=["bad-since", "unknown-format"],
)
def test_bad_query_arguments_exit_2_with_one_line(
    tmp_path: Path, database_url: str, args: tuple[str, ...], option: str
) -> None:
    result = run_jati(
        "audit", "query", *args, cwd=tmp_path, env=operator_env(tmp_path, database_url)
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert option in lines[0]
