"""The refresh grant (RFC 6749 §6, RFC 9700 §4.14.2) as one write transaction, on SQLite and
PostgreSQL: simultaneous uses of one token have exactly one winner and revoke the family; a
replay revokes the family and issues nothing; every other refusal changes nothing; the audit
entries commit with the rotation (UU PDP Art. 31)."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from audit.entry import Action, decode_entry
from audit.storage.tables import AuditQueue
from consent.grants import GrantStatus
from identity.errors import TokenError
from identity.oidc.codes import hash_secret
from identity.oidc.refresh_families import KnownFamilies, family_named_by
from identity.storage.database import Database
from identity.storage.token_families import IdentityRefreshToken, IdentityTokenFamily
from tests.oidc_helpers import BUDI, OidcWorld, RelyingApp


def _tokens(world: OidcWorld, rp: RelyingApp, **choices: bool) -> dict[str, Any]:
    world.login()
    world.consent(rp, **choices)
    return world.tokens(rp)


def _issued(world: OidcWorld) -> int:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry)).all()
    return sum(decode_entry(row).action is Action.TOKEN_ISSUED for row in rows)


def _refresh_rows(world: OidcWorld) -> list[tuple[str, datetime | None]]:
    with world.app.state.services.database.read() as session:
        rows = session.execute(
            select(IdentityRefreshToken.token_hash, IdentityRefreshToken.used_at).order_by(
                IdentityRefreshToken.token_hash
            )
        ).all()
    return [(row[0], row[1]) for row in rows]


def _family_revoked(world: OidcWorld, refresh_token: str) -> bool:
    with world.app.state.services.database.read() as session:
        revoked = session.scalar(
            select(IdentityTokenFamily.revoked_at)
            .join(IdentityRefreshToken, IdentityRefreshToken.family_id == IdentityTokenFamily.id)
            .where(IdentityRefreshToken.token_hash == hash_secret(refresh_token))
        )
    return revoked is not None


def test_simultaneous_uses_of_one_refresh_token_have_one_winner_and_revoke_the_family(
    world: OidcWorld, rp: RelyingApp
) -> None:
    body = _tokens(world, rp)
    service = world.app.state.services.token_service
    app = world.app.state.services.clients.get(rp.client_id)
    form = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    barrier = threading.Barrier(4)
    outcomes: list[dict[str, Any] | str] = []
    lock = threading.Lock()

    def use() -> None:
        barrier.wait()
        try:
            outcome: dict[str, Any] | str = service.token(app, form)
        except TokenError as exc:
            outcome = exc.error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert (
        len(winners) == 1
        and sorted(o for o in outcomes if isinstance(o, str)) == ["invalid_grant"] * 3
    )
    # the losers saw a used token: two parties hold it, so the whole family is revoked
    assert _family_revoked(world, body["refresh_token"])
    assert world.refresh(rp, winners[0]["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.introspect(rp, winners[0]["access_token"]) == {"active": False}
    assert world.userinfo(winners[0]["access_token"]).status_code == 401


def test_a_replayed_refresh_token_revokes_the_family_and_issues_nothing(
    world: OidcWorld, rp: RelyingApp
) -> None:
    first = _tokens(world, rp)
    second = world.refresh(rp, first["refresh_token"]).json()
    rows, issued = _refresh_rows(world), _issued(world)
    replay = world.refresh(rp, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "access_token" not in replay.json()
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)  # no token, no entry
    assert _family_revoked(world, second["refresh_token"])
    assert world.refresh(rp, second["refresh_token"]).json()["error"] == "invalid_grant"


def _refusals(world: OidcWorld, rp: RelyingApp, token: str) -> list[Any]:
    other = world.register_app(name="Dinas Lain", redirect_uri="https://lain.example.go.id/cb")
    return [
        world.token(rp, {"grant_type": "refresh_token", "refresh_token": token, "scope": "nik"}),
        world.token(
            rp, {"grant_type": "refresh_token", "refresh_token": token, "scope": "profile"}
        ),  # openid dropped
        world.refresh(other, token),  # another client's token
        world.refresh(rp, token[:-1] + ("A" if token[-1] != "A" else "B")),  # unknown
        world.refresh(rp, "x" * 200),  # too long
    ]


def test_a_refused_refresh_changes_nothing(world: OidcWorld, rp: RelyingApp) -> None:
    body = _tokens(world, rp)
    rows, issued = _refresh_rows(world), _issued(world)
    refusals = _refusals(world, rp, body["refresh_token"])
    assert [r.json()["error"] for r in refusals] == [
        "invalid_scope",
        "invalid_scope",
        "invalid_grant",
        "invalid_grant",
        "invalid_grant",
    ]
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)
    assert not _family_revoked(world, body["refresh_token"])
    assert world.refresh(rp, body["refresh_token"]).status_code == 200  # still usable


def test_an_expired_refresh_token_is_refused_and_left_as_it_was(
    world: OidcWorld, rp: RelyingApp
) -> None:
    body = _tokens(world, rp)
    rows = _refresh_rows(world)
    service = world.app.state.services.token_service
    grant = service.refresh_grant
    grant.clock = lambda: datetime.now(UTC) + grant.refresh_lifetime + timedelta(seconds=1)
    expired = world.refresh(rp, body["refresh_token"])
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert _refresh_rows(world) == rows and not _family_revoked(world, body["refresh_token"])


def test_a_withdrawn_consent_revokes_the_family_without_rotating(
    world: OidcWorld, rp: RelyingApp
) -> None:
    body = _tokens(world, rp, newsletter=False)
    granted = next(
        g.grant_id
        for g in world.ledger.grants_of(world.citizen_id)
        if g.status is GrantStatus.ACTIVE
    )
    world.ledger.withdraw(world.citizen_id, granted)
    rows, issued = _refresh_rows(world), _issued(world)
    refused = world.refresh(rp, body["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)  # rolled back
    assert _family_revoked(world, body["refresh_token"])


def test_each_refresh_commits_its_audit_entries_with_its_token(
    world: OidcWorld, rp: RelyingApp
) -> None:
    token = _tokens(world, rp)["refresh_token"]
    with world.app.state.services.database.read() as session:
        tokens_before = session.scalar(select(func.count()).select_from(IdentityRefreshToken))
    issued = _issued(world)
    for _ in range(3):
        token = world.refresh(rp, token).json()["refresh_token"]
    with world.app.state.services.database.read() as session:
        tokens_after = session.scalar(select(func.count()).select_from(IdentityRefreshToken))
    # two consent purposes granted: one TOKEN_ISSUED entry each, per refresh
    assert (tokens_after - tokens_before, _issued(world) - issued) == (3, 6)


def test_the_form_is_parsed_as_rfc_6749_says(world: OidcWorld, rp: RelyingApp) -> None:
    """application/x-www-form-urlencoded (RFC 6749 §3.2, Appendix B): ``+`` is a space,
    percent-escapes are decoded, and a repeated parameter is refused (§3.2)."""
    body = _tokens(world, rp)
    headers, _ = rp.auth()
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    token = body["refresh_token"].replace("-", "%2D")
    form = f"grant_type=refresh_token&refresh_token={token}&scope=openid+profile"
    answer = world.client.post("/token", content=form, headers=headers)
    assert answer.status_code == 200 and answer.json()["scope"] == "openid profile"
    again = f"grant_type=refresh_token&refresh_token={answer.json()['refresh_token']}"
    repeated = world.client.post(
        "/token", content=again + "&scope=openid&scope=openid", headers=headers
    )
    assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_request"


def _transactions(world: OidcWorld, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rotation transactions the token endpoint opens."""
    store = world.app.state.services.token_service.refresh_grant.store
    opened: list[int] = []
    original = store.refresh_write

    def counting() -> Any:
        opened.append(1)
        return original()

    monkeypatch.setattr(store, "refresh_write", counting)
    return opened


def test_a_valid_refresh_is_one_conditional_write_and_a_refusal_a_transaction(
    world: OidcWorld, rp: RelyingApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _tokens(world, rp)["refresh_token"]
    service = world.app.state.services.token_service
    opened = _transactions(world, monkeypatch)
    service.refresh_grant.families = KnownFamilies()  # a worker that never met the family reads it
    for _ in range(2):
        body = world.refresh(rp, token).json()
        assert family_named_by(body["refresh_token"]) == family_named_by(token)
        token = body["refresh_token"]
    assert opened == []  # no lock read, no rotation transaction
    # a refusal goes through the transaction, which tells it apart
    assert world.refresh(rp, "x" * 43).json()["error"] == "invalid_grant"
    assert len(opened) == 1


def test_a_refresh_token_issued_before_it_named_its_family_still_rotates(
    world: OidcWorld, rp: RelyingApp
) -> None:
    body = _tokens(world, rp)
    family_id = family_named_by(body["refresh_token"])
    assert family_id is not None
    legacy = secrets.token_urlsafe(32)  # the old form: 256 random bits, nothing else
    now = datetime.now(UTC)
    with world.app.state.services.database.write() as session:
        session.add(
            IdentityRefreshToken(
                token_hash=hash_secret(legacy), family_id=family_id, client_id=rp.client_id,
                created_at=now, expires_at=now + timedelta(days=1), used_at=None,
            )
        )  # fmt: skip
    issued = _issued(world)
    rotated = world.refresh(rp, legacy)
    assert rotated.status_code == 200, rotated.text
    assert family_named_by(rotated.json()["refresh_token"]) == family_id  # the new form
    assert _issued(world) == issued + 2
    replay = world.refresh(rp, legacy)  # and a replay of it still revokes the family
    assert replay.json()["error"] == "invalid_grant"
    assert _family_revoked(world, body["refresh_token"])


def test_a_family_revoked_elsewhere_is_refused_by_a_worker_that_remembers_it(
    world: OidcWorld, rp: RelyingApp
) -> None:
    """Each worker remembers the families it met; their revocation is checked in the
    database by the rotation itself, so a revocation through any worker holds at once."""
    token = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    family_id = family_named_by(token)
    assert family_id is not None
    assert world.app.state.services.token_service.refresh_grant.families.get(family_id) is not None
    with world.app.state.services.database.write() as session:
        session.execute(
            update(IdentityTokenFamily)
            .where(IdentityTokenFamily.id == family_id)
            .values(revoked_at=datetime.now(UTC))
        )  # as another worker's revocation does
    rows, issued = _refresh_rows(world), _issued(world)
    refused = world.refresh(rp, token)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)


def test_a_token_naming_another_family_is_refused_and_changes_nothing(
    world: OidcWorld, rp: RelyingApp
) -> None:
    """The family id in a token is only a hint: the rotation matches the stored hash, the
    family and the client together."""
    mine = _tokens(world, rp)["refresh_token"]
    budi = world.register_citizen(BUDI)
    world.login(budi)
    world.consent(rp, budi)
    theirs = world.tokens(rp)["refresh_token"]
    secret = mine.partition(".")[2]
    forged = f"{family_named_by(theirs)}.{secret}"
    rows, issued = _refresh_rows(world), _issued(world)
    refused = world.refresh(rp, forged)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)
    assert not _family_revoked(world, mine) and not _family_revoked(world, theirs)


def _entries_since(world: OidcWorld, count: int) -> list[dict[str, Any]]:
    with world.app.state.services.database.read() as session:
        rows = session.scalars(select(AuditQueue.entry).order_by(AuditQueue.id.desc())).all()
    return [decode_entry(row).to_json_dict() for row in rows[:count]]


def test_a_worker_records_each_refresh_as_the_first_one(world: OidcWorld, rp: RelyingApp) -> None:
    """The entries of a family's refreshes are made once per worker, then stamped with each
    refresh's time: they say exactly what freshly made ones say."""
    token = _tokens(world, rp)["refresh_token"]
    records = []
    for _ in range(3):
        token = world.refresh(rp, token).json()["refresh_token"]
        records.append(_entries_since(world, 2))  # two purposes: two entries a refresh
    grant = world.app.state.services.token_service.refresh_grant
    grant._refresh_templates.clear()  # a worker that never saw it
    token = world.refresh(rp, token).json()["refresh_token"]
    records.append(_entries_since(world, 2))
    times = [[e.pop("time") for e in record] for record in records]
    assert all(record == records[0] for record in records)
    assert all(t[0] == t[1] for t in times) and len({t[0] for t in times}) == 4
    assert {e["purpose"] for e in records[0]} == {"bansos-eligibility", "newsletter"}


def _count_thread_path(world: OidcWorld, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the token requests answered by TokenService.token (in a worker thread)."""
    service = world.app.state.services.token_service
    calls: list[int] = []
    original = service.token

    def counting(app: Any, form: Any) -> Any:
        calls.append(1)
        return original(app, form)

    monkeypatch.setattr(service, "token", counting)
    return calls


def test_a_known_familys_refresh_stays_on_the_event_loop_on_postgresql(
    world: OidcWorld, rp: RelyingApp, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything the common case needs is in the worker's memory after a first refresh,
    and on PostgreSQL the rotation is one statement on the event loop: no thread hand-off.
    It rotates exactly as the thread path does: the token used, its successor stored, the
    audit entries queued with it."""
    monkeypatch.setattr("identity.oidc.grants.authorization_code.purge_due", lambda: False)
    monkeypatch.setattr("identity.oidc.grants.refresh_token.purge_due", lambda: False)
    token = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    calls = _count_thread_path(world, monkeypatch)
    rows, issued = len(_refresh_rows(world)), _issued(world)
    response = world.refresh(rp, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "id_token", "refresh_token"} <= body.keys()
    assert calls == ([] if database.dialect == "postgresql" else [1])
    assert (len(_refresh_rows(world)), _issued(world)) == (rows + 1, issued + 2)
    assert dict(_refresh_rows(world))[hash_secret(token)] is not None  # used
    replay = world.refresh(rp, token)  # a replay is told apart in the thread
    assert replay.json()["error"] == "invalid_grant"
    assert _family_revoked(world, body["refresh_token"])


def _cold_family(world: OidcWorld, _: pytest.MonkeyPatch) -> None:
    world.app.state.services.token_service.refresh_grant.families = KnownFamilies()


def _consent_changed(world: OidcWorld, _: pytest.MonkeyPatch) -> None:
    world.app.state.services.consent_gate.generations.changed(None)


@pytest.mark.parametrize("make_cold", [_cold_family, _consent_changed])
def test_what_memory_cannot_answer_leaves_the_event_loop_having_changed_nothing(
    world: OidcWorld,
    rp: RelyingApp,
    make_cold: Callable[[OidcWorld, pytest.MonkeyPatch], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    service = world.app.state.services.token_service
    app = world.app.state.services.clients.get(rp.client_id)
    form = {"grant_type": "refresh_token", "refresh_token": token}
    make_cold(world, monkeypatch)
    rows, issued = _refresh_rows(world), _issued(world)
    assert asyncio.run(service.refresh_grant.refresh_on_loop(app, form)) is None
    assert (_refresh_rows(world), _issued(world)) == (rows, issued)
    assert world.refresh(rp, token).status_code == 200  # the thread path answers it


@pytest.mark.parametrize("purge_fails", [False, True])
def test_a_purge_due_runs_after_the_rotation_and_never_fails_the_refresh(
    world: OidcWorld,
    rp: RelyingApp,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    purge_fails: bool,
) -> None:
    """About one refresh in 64 also deletes expired refresh tokens: after its rotation has
    committed, never on the event loop, and a failed purge is logged, not answered (the
    client already holds the only valid successor)."""
    monkeypatch.setattr("identity.oidc.grants.authorization_code.purge_due", lambda: False)
    monkeypatch.setattr("identity.oidc.grants.refresh_token.purge_due", lambda: False)
    stale = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    with world.app.state.services.database.write() as session:  # that family's token has expired
        session.execute(
            update(IdentityRefreshToken)
            .where(IdentityRefreshToken.token_hash == hash_secret(stale))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    token = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    store = world.app.state.services.token_service.refresh_grant.store
    on_a_loop: list[bool] = []
    original = store.write

    def write() -> Any:
        try:
            asyncio.get_running_loop()
            on_a_loop.append(True)
        except RuntimeError:
            on_a_loop.append(False)
        if purge_fails:
            raise RuntimeError("database gone")
        return original()

    monkeypatch.setattr(store, "write", write)
    monkeypatch.setattr("identity.oidc.grants.refresh_token.purge_due", lambda: True)
    calls = _count_thread_path(world, monkeypatch)
    response = world.refresh(rp, token)
    assert response.status_code == 200, response.text
    assert calls == ([] if database.dialect == "postgresql" else [1])
    assert on_a_loop == [False]  # once, in a thread
    hashes = {row[0] for row in _refresh_rows(world)}
    assert (hash_secret(stale) in hashes) is purge_fails
    assert hash_secret(response.json()["refresh_token"]) in hashes


def test_a_signing_key_due_for_its_re_read_is_read_off_the_event_loop(
    world: OidcWorld, rp: RelyingApp, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("identity.oidc.grants.authorization_code.purge_due", lambda: False)
    monkeypatch.setattr("identity.oidc.grants.refresh_token.purge_due", lambda: False)
    token = world.refresh(rp, _tokens(world, rp)["refresh_token"]).json()["refresh_token"]
    service = world.app.state.services.token_service
    signer = service.refresh_grant.tokens._signer
    read_on: list[threading.Thread] = []
    active_key = signer._active_key

    def reading(kty: str) -> Any:
        read_on.append(threading.current_thread())
        return active_key(kty)

    monkeypatch.setattr(signer, "_active_key", reading)
    signer._until = float("-inf")  # due for the periodic re-read
    app = world.app.state.services.clients.get(rp.client_id)
    form = {"grant_type": "refresh_token", "refresh_token": token}
    body = asyncio.run(service.refresh_grant.refresh_on_loop(app, form))
    if database.dialect == "postgresql":
        assert body is not None and family_named_by(body["refresh_token"]) == family_named_by(token)
        assert read_on and threading.main_thread() not in read_on  # not on the loop
        assert service.refresh_grant.tokens.signs_from_memory()
    else:
        assert body is None and read_on == []
