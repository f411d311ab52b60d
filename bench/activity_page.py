"""The "who used my data" page against the length of a citizen's history (issue 19): the
time to answer ``GET /account/activity`` (the first page, newest first) for a citizen with
:data:`LONG` audit entries, against the same for a citizen with :data:`SHORT` entries, in the
same run, requests of the two interleaved, each time the median of :data:`REQUESTS`.

Target <= 2: the page reads at most a page of entries backwards from the newest through the
``(subject, leaf_index)`` index, so its cost does not grow with the history. Both histories
are made of the same events (an app's release to the citizen every three minutes: a token
and a userinfo read for each of two purposes, so that each event is four entries, as in a
sign-in), integrated and covered by a signed checkpoint; the long one is mixed with other
citizens' entries (one of theirs for each of this citizen's), as in a shared log. The app
runs in-process (Starlette's test client: no socket), on SQLite, or on PostgreSQL when
``JATI_BENCH_DATABASE_URL`` (or ``JATI_TEST_DATABASE_URL``) is set.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis
from bench.audit_fixtures import PG_URL, bench_database
from bench.common import Figure
from identity.oidc.tokens import ACR_PASSWORD
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.oidc_helpers import OidcWorld, oidc_world
from tests.personal_data import SAMPLE

MASTER_KEY = "q3J8m2cVQ2yG4xYk9zWv0tP7nR5sH1bL6eD3fA8uJ0o"
LONG = 10_000
SHORT = 10
REQUESTS = 60
_BATCH = 2_000


def _history(world: OidcWorld, app_id: str, citizen_id: str, count: int) -> Iterator[AuditEntry]:
    """``count`` entries about the citizen, four per release, three minutes apart, oldest
    first, ending now."""
    subject = world.app.state.services.pseudonymizer.pseudonym(citizen_id)
    actor = Actor(ActorKind.RELYING_APP, app_id)
    start = datetime.now(UTC) - timedelta(minutes=3 * (count // 4 + 1))
    bansos, news = "bansos-eligibility", "newsletter"
    steps = (
        (Action.TOKEN_ISSUED, ("birthdate", "name", "token:access", "token:id"), bansos),
        (Action.TOKEN_ISSUED, ("email", "token:access", "token:id"), news),
        (Action.READ, ("birthdate", "name"), bansos),
        (Action.READ, ("email",), news),
    )
    for n in range(count):
        action, items, purpose = steps[n % 4]
        yield AuditEntry(
            time=start + timedelta(minutes=3 * (n // 4), seconds=n % 4),
            actor=actor, action=action, subject=subject, data_items=items,
            purpose=purpose, legal_basis=LegalBasis.CONSENT,
        )  # fmt: skip


def _append(world: OidcWorld, database: Database, entries: Iterator[AuditEntry]) -> None:
    store = world.app.state.services.audit_log.store
    batch: list[AuditEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == _BATCH:
            with database.write() as session:
                store.append_many(session, batch, queued_at=datetime.now(UTC))
            batch = []
    if batch:
        with database.write() as session:
            store.append_many(session, batch, queued_at=datetime.now(UTC))


def _interleaved(long: Iterator[AuditEntry], others: Iterator[AuditEntry]) -> Iterator[AuditEntry]:
    for mine, theirs in zip(long, others, strict=True):
        yield theirs
        yield mine


def _page_time(world: OidcWorld, cookie: str) -> float:
    world.client.cookies.set("jati_session", cookie)
    start = time.perf_counter()
    response = world.client.get("/account/activity")
    elapsed = time.perf_counter() - start
    assert response.status_code == 200 and "Dinas Sosial menerima" in response.text
    return elapsed


def _measure(database: Database, data_dir: Path, requests: int) -> tuple[float, float]:
    url = database.engine.url.render_as_string(hide_password=False)
    settings = Settings(
        data_dir=data_dir, database_url=url, master_key=MASTER_KEY,
        issuer="http://testserver", password_profile="test-only-cheapest",
    )  # fmt: skip
    with oidc_world(settings, database) as world:
        app = world.register_app()
        short_id = world.citizen_id
        long_id = world.register_citizen({**SAMPLE, "nik": "3171014101900004"})
        other_id = world.register_citizen({**SAMPLE, "nik": "3171014101900005"})
        _append(world, database, _history(world, app.client_id, short_id, SHORT))
        _append(
            world, database,
            _interleaved(
                _history(world, app.client_id, long_id, LONG),
                _history(world, app.client_id, other_id, LONG),
            ),
        )  # fmt: skip
        world.app.state.services.audit_log.sequence(checkpoint=True)
        sessions = world.app.state.services.sessions
        now = datetime.now(UTC)
        cookies = {
            name: sessions.create(citizen_id, auth_time=now, amr=("pwd",), acr=ACR_PASSWORD)[0]
            for name, citizen_id in (("short", short_id), ("long", long_id))
        }
        for cookie in cookies.values():  # warm both paths
            _page_time(world, cookie)
        times: dict[str, list[float]] = {"short": [], "long": []}
        for _ in range(requests):
            for name, cookie in cookies.items():
                times[name].append(_page_time(world, cookie))
    return statistics.median(times["long"]), statistics.median(times["short"])


def run(*, quick: bool = False) -> list[Figure]:
    kind = "postgresql" if PG_URL else "sqlite"
    with bench_database(kind) as database, tempfile.TemporaryDirectory() as tmp:
        long, short = _measure(database, Path(tmp), REQUESTS // 3 if quick else REQUESTS)
    return [
        Figure(
            f"activity page, {LONG:,} entries / {SHORT} entries ({kind})",
            long * 1000,
            short * 1000,
            "ms",
            target=2.0,
            higher_is_better=False,
            note="first page, newest first; medians of interleaved requests",
        )
    ]
