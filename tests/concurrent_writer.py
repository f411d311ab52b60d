"""A writer process for the concurrency tests: appends entries, each in its own transaction,
and takes turns at sequencing, as a web worker does. Run: python -m tests.concurrent_writer
URL WRITER_ID COUNT."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.entry import Action, Actor, ActorKind, AuditEntry
from audit.log import AuditLog
from audit.storage.store import SqlAuditStore
from identity.storage.database import Database

ORIGIN = "jati.test/audit"
SEED = bytes(range(32))


def build(url: str) -> tuple[Database, SqlAuditStore, AuditLog]:
    database = Database(url, pool_size=2)
    store = SqlAuditStore(engine=database.engine)
    log = AuditLog(
        store=store,
        signing_key=Ed25519PrivateKey.from_private_bytes(SEED),
        clock=lambda: datetime.now(UTC),
        origin=ORIGIN,
        batch_size=50,
    )
    return database, store, log


def main(url: str, writer: int, count: int) -> None:
    database, store, log = build(url)
    log.initialize()
    for n in range(count):
        entry = AuditEntry(
            time=datetime.now(UTC),
            actor=Actor(kind=ActorKind.SYSTEM, id=f"writer-{writer}"),
            action=Action.READ,
            request_id=f"w{writer}-{n}",
        )
        with database.write() as session:
            store.append(session, entry, queued_at=datetime.now(UTC))
        if n % 7 == 0:
            log.sequence(checkpoint=True, drain=False)
    database.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
