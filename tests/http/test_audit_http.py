"""The audit log over HTTP (DESIGN.md §4, "Jati's own"), as a third-party client uses it.

Entries are appended through the store, as writers do, and sequenced by hand; everything a
client checks (checkpoints, proofs, leaves, events) is fetched over HTTP and verified with the
client-side code of the audit package.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, encode_entry
from audit.errors import InconsistentLog, RootMismatch, UnverifiedNote
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_verification import verify_consistency, verify_inclusion
from audit.merkle.tree_hash import EMPTY_ROOT, hash_leaf
from audit.note import NoteSigner, NoteVerifier
from audit.storage.store import SqlAuditStore
from audit.witness import CheckpointTracker, MemoryWitnessState
from identity.errors import Unauthorized
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import ManualClock, append_entries
from tests.oidc_helpers import AppHarness

PROBLEM_JSON = "application/problem+json"
GOOD = {"Authorization": "Bearer good"}
T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
ORIGIN = "testserver/audit"  # the default origin for the issuer http://testserver


@dataclass
class Harness(AppHarness):
    """An app over a migrated database, a client, and the entries appended so far."""

    scopes: list[str] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)

    def entry(self, n: int, **overrides: Any) -> AuditEntry:
        values: dict[str, Any] = {
            "time": T0 + timedelta(minutes=n),
            "actor": Actor(kind=ActorKind.RELYING_APP, id=("app-a", "app-b", "app-c")[n % 3]),
            "action": Action.DISCLOSE,
            "subject": self.pseudonymizer.pseudonym(f"citizen-{n % 4}"),
            "data_items": ("address", "name"),
            "purpose": ("social-aid", "tax")[n % 2],
            "legal_basis": LegalBasis.PUBLIC_TASK if n % 5 == 4 else LegalBasis.CONSENT,
            "request_id": f"req-{n}",
        }
        values.update(overrides)
        return AuditEntry(**values)

    def append(self, count: int, *, sequence: bool = True) -> list[AuditEntry]:
        """Append ``count`` entries (one committed transaction each); sequence and sign."""
        new = [self.entry(len(self.entries) + i) for i in range(count)]
        append_entries(self.database, self.store, new, ManualClock(datetime.now(UTC)))
        self.entries.extend(new)
        if sequence:
            self.log.sequence(checkpoint=True)
        return new

    def verifier(self) -> NoteVerifier:
        response = self.client.get("/audit/checkpoint-key")
        assert response.status_code == 200
        return NoteVerifier.from_vkey(response.text.strip())

    def checkpoint(self) -> tuple[str, Checkpoint]:
        response = self.client.get("/audit/checkpoint")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return response.text, open_checkpoint(response.text, self.verifier(), origin=ORIGIN)

    def snapshot(self) -> tuple[object, ...]:
        """Everything a request could change in the log."""
        store = self.store
        return (
            store.tree_state(),
            store.recent_checkpoints(limit=10**6)[::-1],
            store.queue_status(),
        )


def expected_root(entries: list[AuditEntry]) -> bytes:
    tree = CompactRange()
    tree.extend(hash_leaf(encode_entry(e)) for e in entries)
    return tree.root()


def b64(text: object) -> bytes:
    """Decode standard, padded base64 of a 32-byte hash, refusing any other form."""
    assert isinstance(text, str)
    raw = base64.b64decode(text, validate=True)
    assert base64.b64encode(raw).decode() == text
    assert len(raw) == 32
    return raw


def is_problem(response: Any, status: int) -> bool:
    return bool(
        response.status_code == status
        and response.headers["content-type"] == PROBLEM_JSON
        and response.json()["status"] == status
    )


@pytest.fixture
def make_harness(
    make_settings: Callable[..., Settings], database: Database
) -> Iterator[Callable[..., Harness]]:
    clients: list[TestClient] = []

    def make(*, authorizer: bool = True) -> Harness:
        scopes: list[str] = []

        def authorize(request: Request, scope: str) -> None:
            scopes.append(scope)
            if request.headers.get("authorization") != "Bearer good":
                raise Unauthorized(f"an access token with scope {scope} is required")

        app = create_app(
            make_settings(),
            database=database,
            authorize_auditor=authorize if authorizer else None,
            run_background=False,
        )
        # What the sequencer does first when the app starts with run_background=True.
        app.state.services.audit_log.initialize()
        client = TestClient(app)
        clients.append(client)
        return Harness(app=app, client=client, database=database, scopes=scopes)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


# ------------------------------------------------------------------ checkpoint


def test_checkpoint_is_a_signed_note_of_the_tree(harness: Harness) -> None:
    harness.append(7)
    response = harness.client.get("/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    verifier = harness.verifier()
    assert verifier.name == ORIGIN
    checkpoint = open_checkpoint(response.text, verifier, origin=ORIGIN)
    assert checkpoint.size == 7
    assert checkpoint.root_hash == expected_root(harness.entries)
    lines = response.text.split("\n")
    assert lines[:3] == [ORIGIN, "7", base64.b64encode(checkpoint.root_hash).decode()]
    assert lines[4].startswith(f"— {ORIGIN} ")


def test_checkpoint_key_is_a_c2sp_vkey(harness: Harness) -> None:
    response = harness.client.get("/audit/checkpoint-key")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    verifier = NoteVerifier.from_vkey(response.text.strip())
    assert verifier.vkey() == response.text.strip() == harness.log.vkey()


def test_checkpoint_does_not_cover_queued_entries_until_sequenced(harness: Harness) -> None:
    harness.append(3)
    harness.append(2, sequence=False)
    _, checkpoint = harness.checkpoint()
    assert checkpoint.size == 3
    harness.log.sequence(checkpoint=True)
    _, checkpoint = harness.checkpoint()
    assert checkpoint.size == 5
    assert checkpoint.root_hash == expected_root(harness.entries)


def test_checkpoint_of_a_new_log_is_the_empty_tree(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    """The first request a fresh service answers may be for its checkpoint."""
    app = create_app(make_settings(), database=database, run_background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/audit/checkpoint")
        assert response.status_code == 200, response.text
        vkey = client.get("/audit/checkpoint-key").text.strip()
    checkpoint = open_checkpoint(response.text, NoteVerifier.from_vkey(vkey), origin=ORIGIN)
    assert (checkpoint.size, checkpoint.root_hash) == (0, EMPTY_ROOT)


def test_a_forged_checkpoint_does_not_verify(harness: Harness) -> None:
    harness.append(2)
    note, _ = harness.checkpoint()
    forged = note.replace(f"{ORIGIN}\n2\n", f"{ORIGIN}\n3\n")
    assert forged != note
    with pytest.raises(UnverifiedNote):
        open_checkpoint(forged, harness.verifier(), origin=ORIGIN)
    other_key = NoteSigner.generate(ORIGIN).verifier()
    with pytest.raises(UnverifiedNote):
        open_checkpoint(note, other_key, origin=ORIGIN)


# ------------------------------------------------------------------ proofs


def test_inclusion_proofs_verify_against_checkpoints(harness: Harness) -> None:
    harness.append(5)
    _, first = harness.checkpoint()
    harness.append(8)
    _, second = harness.checkpoint()
    assert (first.size, second.size) == (5, 13)
    for checkpoint in (first, second):
        for index in range(checkpoint.size):
            response = harness.client.get(
                "/audit/proof/inclusion",
                params={"leaf_index": index, "tree_size": checkpoint.size},
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            proof = response.json()
            assert set(proof) == {"leaf_index", "tree_size", "leaf_hash", "inclusion_path"}
            assert proof["leaf_index"] == index and proof["tree_size"] == checkpoint.size
            leaf_hash = b64(proof["leaf_hash"])
            assert leaf_hash == hash_leaf(encode_entry(harness.entries[index]))
            path = [b64(h) for h in proof["inclusion_path"]]
            verify_inclusion(
                leaf_index=index,
                tree_size=checkpoint.size,
                leaf_hash=leaf_hash,
                proof=path,
                root=checkpoint.root_hash,
            )
    # The proof is bound to its leaf: another entry's hash does not verify.
    proof = harness.client.get("/audit/proof/inclusion?leaf_index=3&tree_size=13").json()
    with pytest.raises(RootMismatch):
        verify_inclusion(
            leaf_index=3,
            tree_size=13,
            leaf_hash=hash_leaf(encode_entry(harness.entries[4])),
            proof=[b64(h) for h in proof["inclusion_path"]],
            root=second.root_hash,
        )


def test_consistency_proofs_verify_between_tree_sizes(harness: Harness) -> None:
    harness.append(5)
    _, first = harness.checkpoint()
    harness.append(8)
    _, second = harness.checkpoint()
    roots = {n: expected_root(harness.entries[:n]) for n in range(1, 14)}
    assert roots[5] == first.root_hash and roots[13] == second.root_hash
    for n in (5, 13):
        for m in range(1, n + 1):
            response = harness.client.get(
                "/audit/proof/consistency", params={"first": m, "second": n}
            )
            assert response.status_code == 200
            proof = response.json()
            assert set(proof) == {"first", "second", "consistency_path"}
            assert (proof["first"], proof["second"]) == (m, n)
            path = [b64(h) for h in proof["consistency_path"]]
            if m == n:
                assert path == []
            verify_consistency(
                first=m, second=n, proof=path, first_root=roots[m], second_root=roots[n]
            )


def test_third_party_client_follows_the_log(harness: Harness) -> None:
    """A monitor with only the vkey: trust on first use, then consistency and inclusion."""
    verifier = harness.verifier()
    tracker = CheckpointTracker(verifier=verifier, origin=verifier.name, state=MemoryWitnessState())
    harness.append(6)
    first_note = harness.client.get("/audit/checkpoint").text
    assert tracker.update(first_note).size == 6

    harness.append(9)
    second_note = harness.client.get("/audit/checkpoint").text
    consistency = harness.client.get("/audit/proof/consistency?first=6&second=15").json()
    accepted = tracker.update(second_note, [b64(h) for h in consistency["consistency_path"]])
    assert accepted.size == 15
    assert tracker.latest_note == second_note

    leaves = harness.client.get("/audit/leaves?start=0&end=15", headers=GOOD).json()
    assert [leaf["leaf_index"] for leaf in leaves] == list(range(15))
    for leaf in leaves:
        entry = base64.b64decode(leaf["entry"], validate=True)
        proof = harness.client.get(
            f"/audit/proof/inclusion?leaf_index={leaf['leaf_index']}&tree_size=15"
        ).json()
        path = [b64(h) for h in proof["inclusion_path"]]
        assert tracker.verify_inclusion(entry, leaf["leaf_index"], path) == accepted
        with pytest.raises(RootMismatch):
            tracker.verify_inclusion(entry + b" ", leaf["leaf_index"], path)

    # A rollback to the first checkpoint is refused.
    with pytest.raises(InconsistentLog):
        tracker.update(first_note)


def test_leaves_hash_to_the_proven_leaf_hashes(harness: Harness) -> None:
    harness.append(9)
    response = harness.client.get("/audit/leaves", params={"start": 2, "end": 7}, headers=GOOD)
    assert response.status_code == 200
    leaves = response.json()
    assert [set(leaf) for leaf in leaves] == [{"leaf_index", "entry"}] * 5
    assert [leaf["leaf_index"] for leaf in leaves] == [2, 3, 4, 5, 6]
    for leaf in leaves:
        entry = base64.b64decode(leaf["entry"], validate=True)
        assert base64.b64encode(entry).decode() == leaf["entry"]
        assert entry == encode_entry(harness.entries[leaf["leaf_index"]])
        proof = harness.client.get(
            "/audit/proof/inclusion", params={"leaf_index": leaf["leaf_index"], "tree_size": 9}
        ).json()
        assert hashlib.sha256(b"\x00" + entry).digest() == b64(proof["leaf_hash"])


def test_leaves_are_served_up_to_1000_at_a_time(harness: Harness) -> None:
    entries = [harness.entry(n) for n in range(1001)]
    with harness.database.write() as session:
        harness.store.append_encoded(
            session, [encode_entry(e) for e in entries], queued_at=datetime.now(UTC)
        )
    harness.log.sequence(checkpoint=True)
    full = harness.client.get("/audit/leaves?start=1&end=1001", headers=GOOD)
    assert full.status_code == 200
    assert [leaf["leaf_index"] for leaf in full.json()] == list(range(1, 1001))
    before = harness.snapshot()
    too_many = harness.client.get("/audit/leaves?start=0&end=1001", headers=GOOD)
    assert is_problem(too_many, 400)
    assert harness.snapshot() == before


# ------------------------------------------------------------------ malformed requests


def _check_bad_requests(harness: Harness, cases: list[str], *, headers: dict[str, str]) -> None:
    before = harness.snapshot()
    wrong = []
    for url in cases:
        response = harness.client.get(url, headers=headers)
        if not is_problem(response, 400):
            wrong.append(f"{url}: {response.status_code} {response.text[:200]}")
    assert wrong == []
    assert harness.snapshot() == before


@pytest.fixture
def busy_harness(harness: Harness) -> Harness:
    """Five integrated entries under a checkpoint and two waiting in the queue."""
    harness.append(5)
    harness.append(2, sequence=False)
    return harness


HUGE = str(2**70)


def test_bad_inclusion_proof_requests_answer_400(busy_harness: Harness) -> None:
    path = "/audit/proof/inclusion"
    cases = [
        f"{path}?leaf_index=5&tree_size=5",  # leaf_index >= tree_size
        f"{path}?leaf_index=7&tree_size=5",
        f"{path}?leaf_index=0&tree_size=0",
        f"{path}?leaf_index=0&tree_size=6",  # > size (queued entries are not in the tree)
        f"{path}?leaf_index=0&tree_size=7",
        f"{path}?leaf_index=-1&tree_size=5",
        f"{path}?leaf_index=0&tree_size=-5",
        f"{path}?leaf_index=a&tree_size=5",
        f"{path}?leaf_index=1.5&tree_size=5",
        f"{path}?leaf_index=0&tree_size=5e0",
        f"{path}?leaf_index=0&tree_size=",
        f"{path}?leaf_index={HUGE}&tree_size=5",
        f"{path}?leaf_index=0&tree_size={HUGE}",
        f"{path}?leaf_index=0",
        f"{path}?tree_size=5",
        path,
    ]
    _check_bad_requests(busy_harness, cases, headers={})


def test_bad_consistency_proof_requests_answer_400(busy_harness: Harness) -> None:
    path = "/audit/proof/consistency"
    cases = [
        f"{path}?first=4&second=3",  # first > second
        f"{path}?first=0&second=3",
        f"{path}?first=0&second=0",
        f"{path}?first=1&second=6",  # second > size
        f"{path}?first=6&second=6",
        f"{path}?first=-1&second=3",
        f"{path}?first=x&second=3",
        f"{path}?first=1&second=3.5",
        f"{path}?first={HUGE}&second=3",
        f"{path}?first=1&second={HUGE}",
        f"{path}?first=1",
        f"{path}?second=3",
        path,
    ]
    _check_bad_requests(busy_harness, cases, headers={})


def test_bad_leaves_requests_answer_400(busy_harness: Harness) -> None:
    path = "/audit/leaves"
    cases = [
        f"{path}?start=3&end=3",  # start >= end
        f"{path}?start=4&end=2",
        f"{path}?start=0&end=6",  # end > size
        f"{path}?start=5&end=6",
        f"{path}?start=0&end=1001",  # more than 1000 leaves
        f"{path}?start=0&end=0",
        f"{path}?start=-1&end=2",
        f"{path}?start=a&end=2",
        f"{path}?start=0&end={HUGE}",
        f"{path}?start={HUGE}&end={HUGE}",
        f"{path}?start=0&end={2**63 - 1}",
        f"{path}?start=0",
        f"{path}?end=2",
        path,
    ]
    _check_bad_requests(busy_harness, cases, headers=GOOD)


def test_bad_events_requests_answer_400(busy_harness: Harness) -> None:
    path = "/audit/events"
    cases = [
        f"{path}?since=2026-11-28T08:00:00",  # naive
        f"{path}?until=2026-11-28T08:00:00",  # naive
        f"{path}?since=2026-11-28",  # a date is naive too
        f"{path}?since=yesterday",
        f"{path}?until=2026-13-01T00:00:00Z",
        f"{path}?after=-2",
        f"{path}?after=x",
        f"{path}?after={HUGE}",
        f"{path}?limit=0",
        f"{path}?limit=1001",
        f"{path}?limit=-1",
        f"{path}?subject={'a' * 44}",
        f"{path}?actor={'a' * 129}",
        f"{path}?purpose={'a' * 65}",
    ]
    _check_bad_requests(busy_harness, cases, headers=GOOD)


# ------------------------------------------------------------------ auditor access


@pytest.mark.parametrize("url", ["/audit/leaves?start=0&end=1", "/audit/events"])
def test_auditor_endpoints_refuse_without_credentials(
    make_harness: Callable[..., Harness], url: str
) -> None:
    harness = make_harness(authorizer=False)
    harness.append(1)
    for headers in ({}, GOOD):
        response = harness.client.get(url, headers=headers)
        assert is_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "entry" not in response.text and "events" not in response.text


@pytest.mark.parametrize("url", ["/audit/leaves?start=0&end=1", "/audit/events"])
def test_auditor_endpoints_answer_an_authorized_auditor(harness: Harness, url: str) -> None:
    harness.append(1)
    for headers in ({}, {"Authorization": "Bearer bad"}, {"Authorization": "good"}):
        response = harness.client.get(url, headers=headers)
        assert is_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    response = harness.client.get(url, headers=GOOD)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert harness.scopes == ["audit:read"] * 4


def test_public_endpoints_need_no_credentials(harness: Harness) -> None:
    harness.append(3)
    for url in (
        "/audit/checkpoint",
        "/audit/checkpoint-key",
        "/audit/proof/inclusion?leaf_index=0&tree_size=3",
        "/audit/proof/consistency?first=1&second=3",
    ):
        assert harness.client.get(url).status_code == 200, url
    assert harness.scopes == []


# ------------------------------------------------------------------ events


def _events(harness: Harness, **params: str | int) -> list[dict[str, Any]]:
    response = harness.client.get("/audit/events", params=params, headers=GOOD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"events", "next_after"}
    assert body["next_after"] is None
    events: list[dict[str, Any]] = body["events"]
    return events


def _expected(harness: Harness, keep: Callable[[AuditEntry], bool]) -> list[dict[str, Any]]:
    return [
        {"leaf_index": i, **entry.to_json_dict()}
        for i, entry in enumerate(harness.entries)
        if keep(entry)
    ]


def test_events_are_the_decoded_entries(harness: Harness) -> None:
    harness.append(12)
    harness.append(1, sequence=False)  # queued, not yet in the log
    assert _events(harness) == _expected(harness, lambda e: e in harness.entries[:12])


def test_events_filter_by_subject_actor_and_purpose(harness: Harness) -> None:
    harness.append(12)
    subject = harness.pseudonymizer.pseudonym("citizen-1")
    by_subject = _events(harness, subject=subject)
    assert by_subject == _expected(harness, lambda e: e.subject == subject)
    assert [e["leaf_index"] for e in by_subject] == [1, 5, 9]
    assert _events(harness, actor="app-b") == _expected(harness, lambda e: e.actor.id == "app-b")
    assert _events(harness, purpose="tax") == _expected(harness, lambda e: e.purpose == "tax")
    both = _events(harness, subject=subject, actor="app-c", purpose="tax")
    assert [e["leaf_index"] for e in both] == [5]
    assert _events(harness, subject=subject, purpose="social-aid") == []
    assert _events(harness, subject=harness.pseudonymizer.pseudonym("citizen-99")) == []
    assert _events(harness, actor="app-z") == []


def test_events_filter_by_legal_basis(harness: Harness) -> None:
    harness.append(12)
    public_task = _events(harness, legal_basis="e")
    assert [e["leaf_index"] for e in public_task] == [4, 9]
    assert public_task == _expected(harness, lambda e: e.legal_basis is LegalBasis.PUBLIC_TASK)
    assert len(_events(harness, legal_basis="a")) == 10
    assert [e["leaf_index"] for e in _events(harness, legal_basis="e", actor="app-a")] == [9]
    assert _events(harness, legal_basis="c") == []
    for wrong in ("x", "Z", "consent"):
        refused = harness.client.get(f"/audit/events?legal_basis={wrong}", headers=GOOD)
        assert is_problem(refused, 400) and wrong not in refused.json()["detail"]


def test_events_filter_by_time_in_any_time_zone(harness: Harness) -> None:
    harness.append(12)  # one per minute from 08:00Z

    def between(start: datetime, end: datetime) -> Callable[[AuditEntry], bool]:
        return lambda e: start <= e.time < end

    # 15:03 in Jakarta is 08:03Z; since is inclusive, until exclusive.
    window = _events(harness, since="2026-11-28T15:03:00+07:00", until="2026-11-28T08:07:00Z")
    assert [e["leaf_index"] for e in window] == [3, 4, 5, 6]
    assert window == _expected(
        harness, between(T0 + timedelta(minutes=3), T0 + timedelta(minutes=7))
    )
    since = _events(harness, since="2026-11-28T03:09:30-05:00")
    assert [e["leaf_index"] for e in since] == [10, 11]
    until = _events(harness, until="2026-11-28T08:02:00.000001+00:00")
    assert [e["leaf_index"] for e in until] == [0, 1, 2]
    assert _events(harness, since="2026-11-28T09:00:00Z") == []


def test_events_page_with_after_and_next_after(harness: Harness) -> None:
    harness.append(11)
    cases: list[dict[str, str | int]] = [{}, {"actor": "app-a"}, {"purpose": "social-aid"}]
    for params in cases:
        pages: list[list[dict[str, Any]]] = []
        after = -1
        while True:
            response = harness.client.get(
                "/audit/events", params={**params, "limit": 2, "after": after}, headers=GOOD
            )
            assert response.status_code == 200
            body = response.json()
            assert len(body["events"]) <= 2
            pages.append(body["events"])
            if body["next_after"] is None:
                break
            assert body["next_after"] == body["events"][-1]["leaf_index"]
            after = body["next_after"]
            assert len(pages) < 20
        flat = [event for page in pages for event in page]
        assert flat == _events(harness, **params), params
        assert all(len(page) == 2 for page in pages[:-1])


# ------------------------------------------------------------------ maximum merge delay


def test_an_appended_entry_is_covered_within_the_maximum_merge_delay(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    settings = make_settings()
    assert settings.audit_max_merge_delay == 5.0
    app = create_app(settings, database=database, run_background=True)
    store = app.state.services.audit_log.store
    assert isinstance(store, SqlAuditStore)
    with TestClient(app) as client:
        deadline = time.monotonic() + 5
        first = client.get("/audit/checkpoint")
        while first.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            first = client.get("/audit/checkpoint")
        verifier = NoteVerifier.from_vkey(client.get("/audit/checkpoint-key").text.strip())
        size_before = open_checkpoint(first.text, verifier, origin=ORIGIN).size

        entry = AuditEntry(
            time=datetime.now(UTC),
            actor=Actor(kind=ActorKind.SYSTEM, id="merge-delay-test"),
            action=Action.READ,
        )
        with database.write() as session:
            store.append(session, entry, queued_at=datetime.now(UTC))
        appended = time.monotonic()
        covered: Checkpoint | None = None
        while time.monotonic() - appended < 6:
            checkpoint = open_checkpoint(
                client.get("/audit/checkpoint").text, verifier, origin=ORIGIN
            )
            if checkpoint.size > size_before:
                covered = checkpoint
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - appended
        assert covered is not None, "the entry was not covered by a checkpoint within 6 s"
        proof = client.get(
            f"/audit/proof/inclusion?leaf_index={size_before}&tree_size={covered.size}"
        )
    assert elapsed < 5
    assert covered.size == size_before + 1
    verify_inclusion(
        leaf_index=size_before,
        tree_size=covered.size,
        leaf_hash=hash_leaf(encode_entry(entry)),
        proof=[b64(h) for h in proof.json()["inclusion_path"]],
        root=covered.root_hash,
    )
