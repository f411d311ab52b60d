"""Status lists of Jati's credentials: allocate an entry, change its status, serve the list.

What the rest of the service calls (draft-ietf-oauth-status-list;
:mod:`identity.credentials.status_list_token` holds the encoding):

- :meth:`StatusLists.allocate` gives a new credential its entry: a RANDOM index
  (``secrets.randbelow``) in the open list, retried on collision (the store's unique key
  decides), so that neither the index nor the list reveals how many credentials were issued
  or in which order (§12.4, §12.5.1: "choose non-sequential, pseudo-random or random
  indices"). A list is closed to allocation once a quarter full (so a random pick collides
  with probability below 1/4, and at least three quarters of every list are never-issued
  entries that look exactly like valid ones, §13.3) and a new one opened under a random id
  (ids must not reveal order either). An index is never allocated twice (§13.3).
- :meth:`StatusLists.set_status` revokes (INVALID), suspends or reinstates. INVALID is final:
  a revoked credential is never reinstated nor suspended (a lost phone stays revoked).
  Setting the status it already has changes nothing.
- :meth:`StatusLists.token` is the signed Status List Token (§5.1) a ``GET /statuslists/{id}``
  answers. It is built from the list's non-VALID entries only, kept in memory, and rebuilt
  when the list's version in the database moved (any worker's change bumps it, so every
  worker serves a change on its next request), when it is older than ``ttl``, or when the
  signing key rotated.

Freshness and UU PDP: a relying party may keep a list for ``ttl`` seconds (§13.7), and for
at most ``max-age`` in HTTP caches (never more than ``ttl``). A withdrawal of consent or an
erasure revokes credentials, and must take effect everywhere within 72 hours: ``ttl`` and the
token lifetime (``exp - iat``) are therefore both bounded by 72 hours by the settings; the
default ``ttl`` of 5 minutes makes it minutes in practice.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, overload

from identity.credentials.status_list_token import (
    InvalidStatusList,
    Status,
    StatusList,
    sign_status_list,
    status_list_claims,
)
from identity.errors import Conflict, NotFound
from identity.oidc.tokens import JwsSigner
from identity.relying_party.encoding import check_issuer

__all__ = [
    "ListRecord",
    "ServedList",
    "StatusListStore",
    "StatusLists",
    "StatusReference",
    "is_list_id",
    "new_list_id",
]

#: Bits per entry: 2, so that SUSPENDED (2) fits (§4.1, §7.1).
BITS = 2
#: A list stops taking new entries once this share of it is allocated.
FILL_THRESHOLD = 0.25
#: Random picks per allocation before giving up (each collides with probability < 1/4).
MAX_PICKS = 64
#: Path segment of a list's URI (its ``sub``).
PATH = "/statuslists/"
_LIST_ID_BYTES = 16
_LIST_ID_LENGTH = 22  # base64url of 16 bytes
_ID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_list_id() -> str:
    """128 random bits, base64url: ids reveal neither order nor count."""
    return secrets.token_urlsafe(_LIST_ID_BYTES)


def is_list_id(value: str) -> bool:
    """True for a string of the shape :func:`new_list_id` makes (checked before any query)."""
    return len(value) == _LIST_ID_LENGTH and _ID_ALPHABET.issuperset(value)


@dataclass(frozen=True, slots=True)
class StatusReference:
    """Where a credential's status lives: the ``status.status_list`` claim (§6.2)."""

    list_id: str
    idx: int
    uri: str

    def claim(self) -> dict[str, dict[str, object]]:
        """The ``status`` claim value of the Referenced Token (§6.1, §6.2)."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


@dataclass(frozen=True, slots=True)
class ListRecord:
    """A stored list: its shape, how many entries are allocated, and its version (bumped
    by every status change)."""

    id: str
    bits: int
    size: int
    allocated: int
    version: int
    open: bool


@dataclass(frozen=True, slots=True)
class ServedList:
    """A signed Status List Token and how to serve it.

    ``max_age`` is the HTTP ``Cache-Control: max-age`` (never above ``ttl``); ``etag`` a
    strong validator of exactly these bytes (RFC 9110 §8.8.3).
    """

    list_id: str
    token: str
    etag: str
    ttl: int
    max_age: int
    issued_at: int
    expires_at: int
    version: int


class StatusListTransaction(Protocol):
    def open_list(self) -> ListRecord | None:
        """The open list allocations go to, locked until the end of the transaction."""

    def create_list(self, record: ListRecord, *, now: datetime) -> None: ...

    def claim_index(self, list_id: str, idx: int, *, now: datetime) -> bool:
        """Allocate ``idx`` (status VALID); False if it already is (the unique key)."""

    def count_allocation(self, list_id: str, *, close: bool, now: datetime) -> None: ...

    def get_list(self, list_id: str) -> ListRecord | None: ...

    def statuses(self, list_id: str, indices: Sequence[int], *, lock: bool) -> dict[int, int]:
        """The statuses of those of ``indices`` that are allocated."""

    def update_statuses(
        self, list_id: str, indices: Sequence[int], status: int, *, now: datetime
    ) -> None: ...

    def bump_version(self, list_id: str, *, now: datetime) -> None: ...

    def non_valid_entries(self, list_id: str) -> Iterable[tuple[int, int]]:
        """(idx, status) of the list's entries whose status is not VALID."""


class StatusListStore(Protocol):
    def write(self) -> AbstractContextManager[StatusListTransaction]: ...

    def read(self) -> AbstractContextManager[StatusListTransaction]: ...


@dataclass(slots=True)
class _Built:
    served: ServedList
    kid: str
    rebuild_at: float


@dataclass(kw_only=True, eq=False, repr=False)
class StatusLists:
    """The credentials' status lists (see the module docstring), built with keywords.

    Attributes:
        store: where lists and entries live (:mod:`identity.storage.status_lists`).
        signer: the current token signer (``ActiveSigner.current``).
        issuer: the issuer; a list's URI is ``{issuer}/statuslists/{id}``.
        clock: UTC now.
        size: entries per list (a multiple of 8; 2**20 by default).
        ttl: seconds a relying party may cache a list (§5.1 ``ttl``).
        lifetime: seconds from ``iat`` to ``exp`` of a token (at least ``ttl``).
    """

    store: StatusListStore
    signer: Callable[[], JwsSigner]
    issuer: str
    clock: Callable[[], datetime]
    size: int = 2**20
    ttl: int = 300
    lifetime: int = 86_400
    _built: dict[str, _Built] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        check_issuer(self.issuer)
        if self.size <= 0 or self.size % 8:
            raise ValueError("a status list's size is a positive multiple of 8")
        if not 0 < self.ttl <= self.lifetime:
            raise ValueError("ttl must be positive and at most the token lifetime")

    def uri(self, list_id: str) -> str:
        return f"{self.issuer}{PATH}{list_id}"

    def reference(self, list_id: str, idx: int) -> StatusReference:
        return StatusReference(list_id, idx, self.uri(list_id))

    # -- allocation -------------------------------------------------------------------------

    def allocate(self) -> StatusReference:
        """A fresh entry (status VALID) at a random index of the open list.

        Its own transaction: if the credential it was for is then not issued, the entry
        simply stays VALID and unused, like the never-allocated entries around it.
        """
        now = self.clock()
        with self.store.write() as tx:
            record = tx.open_list()
            if record is None:
                record = ListRecord(new_list_id(), BITS, self.size, 0, 0, True)
                tx.create_list(record, now=now)
            for _ in range(MAX_PICKS):
                idx = secrets.randbelow(record.size)
                if tx.claim_index(record.id, idx, now=now):
                    threshold = math.ceil(record.size * FILL_THRESHOLD)
                    tx.count_allocation(record.id, close=record.allocated + 1 >= threshold, now=now)
                    return self.reference(record.id, idx)
        raise Conflict("no free status list entry found; try again")  # pragma: no cover

    # -- status changes ---------------------------------------------------------------------

    @overload
    def set_status(self, list_id: str, idx: int, status: Status | int) -> None: ...

    @overload
    def set_status(self, list_id: StatusReference, idx: Status | int, /) -> None: ...

    def set_status(
        self,
        list_id: str | StatusReference,
        idx: int | Status,
        status: Status | int | None = None,
    ) -> None:
        """Revoke (INVALID), suspend (SUSPENDED) or reinstate (VALID) one entry:
        ``set_status(list_id, idx, status)`` or ``set_status(reference, status)``.

        Raises:
            NotFound: no such list, or the index was never allocated.
            Conflict: the entry is INVALID (revocation is final) and ``status`` is not.
            InvalidStatusList: ``status`` is not a Status value.
        """
        if isinstance(list_id, StatusReference):
            if status is not None:
                raise TypeError("set_status(reference, status) takes no third argument")
            reference, status = list_id, idx
            list_id, idx = reference.list_id, reference.idx
        elif status is None:
            raise TypeError("set_status(list_id, idx, status) needs the status")
        self.set_statuses(list_id, [idx], status)

    def set_statuses(self, list_id: str, indices: Iterable[int], status: Status | int) -> None:
        """Set several entries of one list to ``status`` at once (one version bump), e.g.
        every credential of an erased citizen. All or nothing: if one entry is refused,
        none changes."""
        new = _status(status)
        given = list(indices)
        if not given:
            return
        if not is_list_id(list_id) or any(type(i) is not int or i < 0 for i in given):
            raise NotFound("no such status list entry")
        wanted = sorted(set(given))  # one lock order for every writer
        now = self.clock()
        with self.store.write() as tx:
            current = tx.statuses(list_id, wanted, lock=True)
            if len(current) != len(wanted):
                raise NotFound("no such status list entry")
            if any(old == Status.INVALID and new != Status.INVALID for old in current.values()):
                raise Conflict("a revoked credential cannot be reinstated or suspended")
            changed = [i for i in wanted if current[i] != new]
            if changed:
                tx.update_statuses(list_id, changed, new, now=now)
                tx.bump_version(list_id, now=now)

    def status_of(self, list_id: str, idx: int) -> Status:
        """The status of an allocated entry; :class:`NotFound` otherwise."""
        if not is_list_id(list_id) or type(idx) is not int or idx < 0:
            raise NotFound("no such status list entry")
        with self.store.read() as tx:
            found = tx.statuses(list_id, [idx], lock=False)
        if idx not in found:
            raise NotFound("no such status list entry")
        return Status(found[idx])

    # -- serving ----------------------------------------------------------------------------

    def token(self, list_id: str) -> ServedList:
        """The signed Status List Token of ``list_id`` (:class:`NotFound` if none).

        One cheap read (the list's version) per call; the token itself is rebuilt only when
        that version moved, when it is ``ttl`` old, or when the signing key changed.
        """
        if not is_list_id(list_id):
            raise NotFound("no such status list")
        with self.store.read() as tx:
            record = tx.get_list(list_id)
        if record is None:
            raise NotFound("no such status list")
        signer = self.signer()
        now = self.clock().timestamp()
        served = _current(self._built.get(list_id), record.version, signer.kid, now)
        if served is not None:
            return served
        with self._lock:  # one build at a time; the others then find it built
            served = _current(self._built.get(list_id), record.version, signer.kid, now)
            if served is None:
                built = self._build(record, signer)
                self._built[list_id] = built
                served = built.served
            return served

    def _build(self, record: ListRecord, signer: JwsSigner) -> _Built:
        # The version is read before the entries: if a change commits in between, the token
        # holds it under the older version number, and the next request rebuilds once more.
        with self.store.read() as tx:
            current = tx.get_list(record.id) or record
            entries = list(tx.non_valid_entries(record.id))
        status_list = StatusList.from_entries(current.size, current.bits, entries)
        issued_at = int(self.clock().timestamp())
        expires_at = issued_at + self.lifetime
        claims = status_list_claims(
            uri=self.uri(record.id),
            status_list=status_list,
            issued_at=issued_at,
            expires_at=expires_at,
            ttl=self.ttl,
            issuer=self.issuer,
        )
        token = sign_status_list(signer, claims)
        digest = hashlib.sha256(token.encode("ascii")).hexdigest()[:32]
        served = ServedList(
            list_id=record.id,
            token=token,
            etag=f'"{digest}"',
            ttl=self.ttl,
            max_age=self.ttl,
            issued_at=issued_at,
            expires_at=expires_at,
            version=current.version,
        )
        return _Built(served, signer.kid, issued_at + self.ttl)


def _current(built: _Built | None, version: int, kid: str, now: float) -> ServedList | None:
    """The token built earlier, if it is still the one to serve."""
    if built is None or built.served.version != version or built.kid != kid:
        return None
    return built.served if now < built.rebuild_at else None


def _status(value: Status | int) -> Status:
    if type(value) is bool:
        raise InvalidStatusList("a status is a Status value, not a boolean")
    try:
        status = Status(value)
    except ValueError:
        raise InvalidStatusList(f"unknown status {value!r}") from None
    if status >= 1 << BITS:  # pragma: no cover - every Status fits in 2 bits
        raise InvalidStatusList("the status does not fit the list")
    return status
