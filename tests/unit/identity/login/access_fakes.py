"""In-memory stores for the activation and recovery-code cores, and an audit appender that
writes into their transactions: a write commits its rows and entries together on success and
drops both on error, like the SQL stores (``tests/storage/test_activation_store.py`` runs the
same flows on the databases). Also what their tests share: the time, the citizen, the
pseudonymizer, and the check that an entry holds no code."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from audit.entry import AuditEntry, encode_entry
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.service import SELF
from identity.login.access_codes import code_hash, normalize
from identity.login.activation import ActivationRecord

Row = TypeVar("Row")
Tx = TypeVar("Tx", bound="MemoryTransaction[Any]")

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
CITIZEN = "c" * 32
#: The citizen acting on their own account, as the citizen service's entries name them.
CITIZEN_SELF = SELF
PSEUDONYMIZER = SubjectPseudonymizer(b"p" * 32)


def holds_no_code(entry: AuditEntry, codes: Sequence[str]) -> bool:
    """Whether the entry, as the log stores it, holds none of the codes in any form (as
    shown, normalized, or hashed)."""
    text = encode_entry(entry).decode()
    return not any(
        secret in text for code in codes for secret in (code, normalize(code), code_hash(code))
    )


@dataclass
class MemoryTransaction(Generic[Row]):
    """A copy of the rows, and the entries appended in this transaction."""

    rows: dict[Any, Row]
    entries: list[AuditEntry] = field(default_factory=list)

    @property
    def bind(self) -> MemoryTransaction[Row]:
        return self


class TransactionAudit:
    """:class:`audit.AuditAppender` appending into a memory transaction (its ``bind``)."""

    def append(
        self, bind: MemoryTransaction[Any], entry: AuditEntry, *, queued_at: datetime
    ) -> None:
        bind.entries.append(entry)


class MemoryStore(Generic[Row, Tx]):
    """Rows and committed entries; ``write()`` commits on success, rolls back on error."""

    def __init__(self, transaction: Callable[[dict[Any, Row]], Tx]) -> None:
        self.rows: dict[Any, Row] = {}
        self.entries: list[AuditEntry] = []
        self._transaction = transaction

    @contextmanager
    def write(self) -> Iterator[Tx]:
        tx = self._transaction(dict(self.rows))
        yield tx
        self.rows = tx.rows
        self.entries.extend(tx.entries)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        yield self._transaction(dict(self.rows))


# ---------------------------------------------------------------- activation codes


class MemoryActivationTransaction(MemoryTransaction[ActivationRecord]):
    def load(self, citizen_id: str) -> ActivationRecord | None:
        return self.rows.get(citizen_id)

    def replace(self, record: ActivationRecord) -> None:
        self.rows[record.citizen_id] = record

    def consume(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        found = self.rows.get(citizen_id)
        if found is None or found.code_hash != code_hash or found.expires_at <= now:
            return False
        del self.rows[citizen_id]
        return True

    def delete(self, citizen_id: str) -> None:
        self.rows.pop(citizen_id, None)


class MemoryActivationStore(MemoryStore[ActivationRecord, MemoryActivationTransaction]):
    def __init__(self) -> None:
        super().__init__(MemoryActivationTransaction)

    def joined(self, bind: Any) -> MemoryActivationTransaction:
        assert isinstance(bind, MemoryActivationTransaction)  # a write() of this store
        return bind


# ---------------------------------------------------------------- recovery codes


@dataclass(frozen=True)
class StoredRecoveryCode:
    created_at: datetime
    used_at: datetime | None = None


class MemoryRecoveryCodeTransaction(MemoryTransaction[StoredRecoveryCode]):
    """Rows keyed by (citizen id, code hash)."""

    def replace_all(self, citizen_id: str, code_hashes: Sequence[str], *, now: datetime) -> None:
        self.delete_all(citizen_id)
        for hashed in code_hashes:
            self.rows[citizen_id, hashed] = StoredRecoveryCode(created_at=now)

    def mark_used(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        found = self.rows.get((citizen_id, code_hash))
        if found is None or found.used_at is not None:
            return False
        self.rows[citizen_id, code_hash] = StoredRecoveryCode(found.created_at, now)
        return True

    def remaining(self, citizen_id: str) -> int:
        return sum(1 for (c, _), r in self.rows.items() if c == citizen_id and r.used_at is None)

    def is_unused(self, citizen_id: str, code_hash: str) -> bool:
        found = self.rows.get((citizen_id, code_hash))
        return found is not None and found.used_at is None

    def delete_all(self, citizen_id: str) -> None:
        for key in [key for key in self.rows if key[0] == citizen_id]:
            del self.rows[key]


class MemoryRecoveryCodeStore(MemoryStore[StoredRecoveryCode, MemoryRecoveryCodeTransaction]):
    def __init__(self) -> None:
        super().__init__(MemoryRecoveryCodeTransaction)
