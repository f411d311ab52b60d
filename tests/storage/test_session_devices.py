"""Sessions as devices on SQLite and PostgreSQL (issue 18): the browser summary and the
restricted flag round-trip, the citizen's list, ending one by id (only the citizen's own)
or all others, each audited once in the same transaction; migration 0016 keeps existing
sessions (not restricted, no summary) and downgrades."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from audit.entry import Action, decode_entry
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from audit.storage.tables import AuditQueue
from identity.login.sessions import SessionService
from identity.service.database import migrate
from identity.storage.database import Database
from identity.storage.oidc import SqlOidcStore
from tests.conftest import ManualClock
from tests.storage.test_migrations import _downgrade

NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
CITIZEN = "c4mq7uhz2kqlxw3tn5vbr6ys2e"
OTHER = "d7xk2pnr4tq5vw6yz3ab8cd9ef"
PSEUDONYMIZER = SubjectPseudonymizer(b"p" * 32)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def sessions(database: Database, clock: ManualClock) -> SessionService:
    return SessionService(
        store=SqlOidcStore(database=database), clock=clock, secure=False,
        audit=SqlAuditStore(engine=database.engine), pseudonymizer=PSEUDONYMIZER,
    )  # fmt: skip


def _start(
    sessions: SessionService,
    citizen: str = CITIZEN,
    *,
    restricted: bool = False,
    user_agent: str | None = None,
) -> str:
    _cookie, session = sessions.create(
        citizen, auth_time=NOW, amr=["pwd"], acr="acr", restricted=restricted,
        user_agent=user_agent,
    )  # fmt: skip
    return session.id


def _queued(database: Database) -> list[tuple[Action, tuple[str, ...], str | None]]:
    with database.read() as session:
        rows = session.scalars(select(AuditQueue.entry).order_by(AuditQueue.id))
        entries = [decode_entry(bytes(row)) for row in rows]
    return [(e.action, tuple(e.data_items), e.purpose) for e in entries]


def test_summary_and_restricted_round_trip_and_list_newest_first(
    sessions: SessionService, clock: ManualClock
) -> None:
    first = _start(sessions, user_agent="Firefox/Windows")
    clock.advance(60)
    second = _start(sessions, restricted=True)
    _start(sessions, OTHER, user_agent="Chrome/Android")
    listed = sessions.list_for(CITIZEN)
    assert [s.id for s in listed] == [second, first]
    newest, oldest = listed
    assert (oldest.browser, oldest.system, oldest.restricted) == ("Firefox", "Windows", False)
    assert (newest.browser, newest.system, newest.restricted) == (None, None, True)
    assert oldest.created_at == NOW and not oldest.current
    clock.advance(8 * 3600 - 30)  # the first has expired, the second not yet
    assert [s.id for s in sessions.list_for(CITIZEN)] == [second]


def test_a_restricted_session_is_read_back_restricted(sessions: SessionService) -> None:
    cookie, _ = sessions.create(CITIZEN, auth_time=NOW, amr=["pwd"], acr="a", restricted=True)
    found = sessions.get(cookie)
    assert found is not None and found.restricted and found.user_agent is None


def test_end_by_id_ends_only_the_citizens_own_and_is_audited(
    sessions: SessionService, database: Database
) -> None:
    mine = _start(sessions)
    theirs = _start(sessions, OTHER)
    assert not sessions.end_by_id(CITIZEN, theirs)  # another citizen's: nothing happens
    assert not sessions.end_by_id(CITIZEN, "0" * 64)
    assert _queued(database) == []
    assert sessions.end_by_id(CITIZEN, mine)
    assert sessions.list_for(CITIZEN) == [] and len(sessions.list_for(OTHER)) == 1
    assert _queued(database) == [(Action.ERASE, ("sessions",), "account-security")]
    assert not sessions.end_by_id(CITIZEN, mine)  # once
    assert len(_queued(database)) == 1


def test_end_others_keeps_one_and_audits_once(sessions: SessionService, database: Database) -> None:
    keep = _start(sessions)
    for _ in range(3):
        _start(sessions)
    theirs = _start(sessions, OTHER)
    assert sessions.end_others(CITIZEN, keep) == 3
    assert [s.id for s in sessions.list_for(CITIZEN)] == [keep]
    assert [s.id for s in sessions.list_for(OTHER)] == [theirs]
    assert sessions.end_others(CITIZEN, keep) == 0  # nothing more: no second entry
    assert _queued(database) == [(Action.ERASE, ("sessions",), "account-security")]


def test_a_summary_is_short(sessions: SessionService) -> None:
    with pytest.raises(ValueError, match="user_agent"):
        _start(sessions, user_agent="x" * 121)
    with pytest.raises(ValueError, match="user_agent"):
        _start(sessions, user_agent="")


# -- 0016: session devices ------------------------------------------------------------

BEFORE_0016 = "0015_passkeys"


@pytest.fixture
def at_0015(database_url: str) -> Iterator[Database]:
    """A database at 0015 holding one session."""
    db = Database(database_url)
    migrate.upgrade(db.engine, BEFORE_0016)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO identity_session (id, citizen_id, auth_time, amr, acr, created_at,"
                " expires_at, last_seen) VALUES ('s1', 'c1', :at, '[\"pwd\"]', 'acr', :at,"
                " :later, :at)"
            ),
            {"at": NOW, "later": NOW + timedelta(hours=8)},
        )
    try:
        yield db
    finally:
        db.dispose()


def test_0016_keeps_sessions_unrestricted_and_downgrades(at_0015: Database) -> None:
    engine = at_0015.engine
    migrate.upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, user_agent, restricted FROM identity_session")).one()
    assert (row[0], row[1], bool(row[2])) == ("s1", None, False)
    _downgrade(at_0015, BEFORE_0016)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("identity_session")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("identity_session")}
        assert conn.execute(text("SELECT id FROM identity_session")).scalars().all() == ["s1"]
    assert "restricted" not in columns and "user_agent" not in columns
    assert indexes == {"ix_identity_session_citizen_id", "ix_identity_session_expires_at"}
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
