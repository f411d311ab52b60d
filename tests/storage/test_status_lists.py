"""Status lists in the database (SQLite, and PostgreSQL with JATI_TEST_DATABASE_URL):
random unique indices, even under concurrent allocation; status changes; and a change made
by one worker served by another (draft-ietf-oauth-status-list §12.4, §13.3)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from identity.credentials.status_list_token import Status, StatusList
from identity.credentials.status_registry import StatusLists, StatusReference
from identity.errors import Conflict, NotFound
from identity.oidc.tokens import JwsSigner
from identity.storage.database import Database
from identity.storage.status_lists import SqlStatusListStore
from tests.conftest import ManualClock
from tests.token_helpers import Key

ISSUER = "https://id.example.go.id"
SIZE = 1024

KEY = Key.new("EdDSA")


def signer() -> JwsSigner:
    return JwsSigner(KEY.kid, "EdDSA", KEY.private)


@pytest.fixture
def make_lists(database: Database, clock: ManualClock) -> Iterator[Callable[..., StatusLists]]:
    """A status list service, as one worker holds it: ``own_engine`` gives it its own
    connection pool, as a second process would have."""
    engines: list[Database] = []

    def factory(*, own_engine: bool = False, **options: Any) -> StatusLists:
        db = database
        if own_engine:
            db = Database(database.url)
            engines.append(db)
        values: dict[str, Any] = {"size": SIZE}
        values.update(options)
        return StatusLists(
            store=SqlStatusListStore(database=db),
            signer=signer,
            issuer=ISSUER,
            clock=clock,
            **values,
        )

    yield factory
    for db in engines:
        db.dispose()


def served_statuses(lists: StatusLists, list_id: str) -> StatusList:
    token = lists.token(list_id).token
    body = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["sub"] == lists.uri(list_id)
    return StatusList.decode(claims["status_list"]["lst"], claims["status_list"]["bits"], SIZE)


def test_allocation_gives_unique_random_indices_and_closes_a_quarter_full_list(
    make_lists: Callable[..., StatusLists], database: Database
) -> None:
    lists = make_lists()
    refs = [lists.allocate() for _ in range(SIZE // 4)]
    indices = [r.idx for r in refs]
    assert len(set(indices)) == len(indices)
    assert indices != sorted(indices)
    assert max(indices) > SIZE // 2  # spread over the list, not packed at its start
    assert {r.list_id for r in refs} == {refs[0].list_id}
    following = lists.allocate()  # the first list is a quarter full: a new one opens
    assert following.list_id != refs[0].list_id
    with SqlStatusListStore(database=database).read() as tx:
        first = tx.get_list(refs[0].list_id)
        second = tx.get_list(following.list_id)
    assert first is not None and (first.allocated, first.open) == (SIZE // 4, False)
    assert second is not None and (second.allocated, second.open) == (1, True)
    assert (first.bits, first.size) == (2, SIZE)


def test_concurrent_allocations_never_share_an_entry(
    make_lists: Callable[..., StatusLists], database: Database
) -> None:
    workers = [make_lists(own_engine=True) for _ in range(4)]
    found: list[StatusReference] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def allocate(lists: StatusLists) -> None:
        try:
            for _ in range(25):
                ref = lists.allocate()
                with lock:
                    found.append(ref)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=allocate, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({(r.list_id, r.idx) for r in found}) == 100
    with SqlStatusListStore(database=database).read() as tx:
        counted = {lid: tx.get_list(lid) for lid in {r.list_id for r in found}}
    assert sum(r.allocated for r in counted.values() if r is not None) == 100


def test_status_changes_are_stored_and_revocation_is_final(
    make_lists: Callable[..., StatusLists],
) -> None:
    lists = make_lists()
    ref = lists.allocate()
    lists.set_status(ref, Status.SUSPENDED)
    assert lists.status_of(ref.list_id, ref.idx) is Status.SUSPENDED
    lists.set_status(ref.list_id, ref.idx, Status.VALID)  # reinstated
    assert lists.status_of(ref.list_id, ref.idx) is Status.VALID
    lists.set_status(ref, Status.INVALID)
    with pytest.raises(Conflict):
        lists.set_status(ref, Status.VALID)
    assert lists.status_of(ref.list_id, ref.idx) is Status.INVALID
    with pytest.raises(NotFound):
        lists.set_status(ref.list_id, (ref.idx + 1) % SIZE, Status.INVALID)


def test_a_change_by_one_worker_is_served_by_another_at_once(
    make_lists: Callable[..., StatusLists],
) -> None:
    first, second = make_lists(), make_lists(own_engine=True)
    ref = first.allocate()
    before = second.token(ref.list_id)  # the second worker caches the list
    assert served_statuses(second, ref.list_id).get(ref.idx) == Status.VALID
    first.set_status(ref, Status.INVALID)  # the first worker revokes
    after = second.token(ref.list_id)
    assert after.version == before.version + 1 and after.etag != before.etag
    assert served_statuses(second, ref.list_id).get(ref.idx) == Status.INVALID


def test_the_token_holds_exactly_the_non_valid_entries(
    make_lists: Callable[..., StatusLists], database: Database, clock: ManualClock
) -> None:
    lists = make_lists()
    refs = [lists.allocate() for _ in range(6)]
    lists.set_status(refs[0], Status.INVALID)
    lists.set_status(refs[1], Status.SUSPENDED)
    lists.set_status(refs[2], Status.SUSPENDED)
    lists.set_status(refs[2], Status.VALID)
    served = served_statuses(lists, refs[0].list_id)
    expected = {refs[0].idx: 1, refs[1].idx: 2}
    assert {i: served.get(i) for i in range(SIZE) if served.get(i)} == expected
    with SqlStatusListStore(database=database).read() as tx:
        assert sorted(tx.non_valid_entries(refs[0].list_id)) == sorted(expected.items())


def test_many_entries_change_in_one_transaction(database: Database, clock: ManualClock) -> None:
    """An erasure revokes every credential of a citizen: more indices than one SQL IN list."""
    lists = StatusLists(
        store=SqlStatusListStore(database=database),
        signer=signer,
        issuer=ISSUER,
        clock=clock,
        size=4096,
    )
    first = lists.allocate()
    now = datetime.now(UTC)
    indices = sorted({first.idx} | {i for i in range(0, 4096, 3)})[:700]
    with SqlStatusListStore(database=database).write() as tx:
        for idx in indices:
            if idx != first.idx:
                assert tx.claim_index(first.list_id, idx, now=now)
        assert not tx.claim_index(first.list_id, first.idx, now=now)  # taken: refused
    lists.set_statuses(first.list_id, indices, Status.INVALID)
    with SqlStatusListStore(database=database).read() as tx:
        assert len(list(tx.non_valid_entries(first.list_id))) == len(indices)
        record = tx.get_list(first.list_id)
    assert record is not None and record.version == 1  # one change, one version
