"""The consent gate: ``check(subject, app, purpose, data_items)`` before any release of data.

Identity calls it before releasing any claim (UU PDP Art. 20(2): processing needs a legal
basis; Art. 22: consent per purpose; Art. 41: a restricted citizen's data is not released).
A release is allowed when:

1. the citizen's processing is not restricted (Art. 41);
2. the app registered the purpose and the purpose covers every data item asked for;
3. the purpose's basis is not consent (Art. 20(2)(b)-(f): recorded and shown, not asked), or
   an active grant covers it, made under the app's *current* notice (a changed notice asks
   again), not expired, not awaiting the citizen's re-confirmation at majority.

**Fast and correct across workers.** Each worker caches, per (citizen, app), what it read
from the database, tagged with the citizen's *generation*: a counter in a small table of
counters shared by every worker of a host through a memory-mapped file
(:class:`SharedGenerations`). A consent change bumps the citizen's counter after it
commits; every check reads the counter (a memory read, no system call) and reloads when it
moved, so a withdrawal in one worker is seen by every other worker on its next check.
Workers on other hosts (PostgreSQL deployments) do not share the file: their cached views
are also bounded by ``max_age`` seconds.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from audit.entry import LegalBasis
from consent.grants import Grant, GrantStatus
from consent.purposes import Purpose

SLOTS = 1 << 16
_COUNTER = struct.Struct("<Q")


class ChangeNotifier(Protocol):
    """Told after a commit that a subject's consents, restriction or erasure changed (with
    None: every subject's, as a new notice or purpose does), so that every worker's consent
    gate sees it on its next check: the shared generations of this module."""

    def changed(self, subject_id: str | None) -> None: ...


class Generations(ChangeNotifier, Protocol):
    def slot(self, subject_id: str) -> int: ...
    def read(self, slot: int) -> int: ...


def _slot(subject_id: str) -> int:
    return 1 + (zlib.crc32(subject_id.encode()) & (SLOTS - 1))


class SharedGenerations:
    """Counters in a memory-mapped file: slot 0 for changes that concern everyone (a new
    notice, a new purpose), one of 65,536 slots per citizen otherwise (collisions only cost
    a reload). Bumps take an exclusive ``flock`` so none is lost between processes."""

    def __init__(self, path: Path) -> None:
        size = _COUNTER.size * (SLOTS + 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    if os.fstat(fd).st_size < size:
                        os.ftruncate(fd, size)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._read = _COUNTER.unpack_from
        self._lock = threading.Lock()

    @staticmethod
    def slot(subject_id: str) -> int:
        return _slot(subject_id)

    def read(self, slot: int) -> int:
        """The generation of a slot: the global counter plus the slot's own."""
        memory = self._map
        total: int = self._read(memory, 0)[0] + self._read(memory, 8 * slot)[0]
        return total

    def current(self, subject_id: str) -> int:
        return self.read(_slot(subject_id))

    def changed(self, subject_id: str | None) -> None:
        offset = 0 if subject_id is None else 8 * _slot(subject_id)
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                value = self._read(self._map, offset)[0]
                _COUNTER.pack_into(self._map, offset, value + 1)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class LocalGenerations:
    """Counters for one process (tests, tools)."""

    def __init__(self) -> None:
        self._global = 0
        self._slots: dict[int, int] = {}

    @staticmethod
    def slot(subject_id: str) -> int:
        return _slot(subject_id)

    def read(self, slot: int) -> int:
        return self._global + self._slots.get(slot, 0)

    def current(self, subject_id: str) -> int:
        return self.read(_slot(subject_id))

    def changed(self, subject_id: str | None) -> None:
        if subject_id is None:
            self._global += 1
        else:
            slot = _slot(subject_id)
            self._slots[slot] = self._slots.get(slot, 0) + 1


@dataclass(frozen=True, slots=True)
class GateView:
    """What the gate needs about one citizen and one app, read in one go."""

    restricted: bool
    purposes: Mapping[str, Purpose]
    notice_hash: str | None
    grants: Mapping[str, Grant]  # active or awaiting re-confirmation, by purpose code


class GateSource(Protocol):
    def view(self, subject_id: str, app_id: str) -> GateView: ...


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str  # "consent", "legal_basis", or why not
    legal_basis: LegalBasis | None = None
    grant_id: str | None = None


DENY_RESTRICTED = Decision(False, "restricted")
DENY_UNKNOWN_PURPOSE = Decision(False, "unknown_purpose")
DENY_ITEMS = Decision(False, "data_items_not_covered")
DENY_NO_CONSENT = Decision(False, "no_consent")
DENY_NOTICE_CHANGED = Decision(False, "notice_changed")
DENY_EXPIRED = Decision(False, "consent_expired")
DENY_RECONFIRM = Decision(False, "needs_reconfirmation")
_NEVER = float("inf")

#: Per purpose: (its data items, the decision, from when (epoch seconds) it no longer
#: holds, and the decision from then on).
_Rule = tuple[frozenset[str], Decision, float, Decision]


def _rules(view: GateView) -> dict[str, _Rule]:
    """Every decision the view implies, computed once per load (the check only looks up)."""
    rules: dict[str, _Rule] = {}
    for code, purpose in view.purposes.items():
        items = purpose.item_names
        if view.restricted:
            rules[code] = (items, DENY_RESTRICTED, _NEVER, DENY_RESTRICTED)
        elif not purpose.needs_consent:
            allowed = Decision(True, "legal_basis", purpose.legal_basis)
            rules[code] = (items, allowed, _NEVER, allowed)
        elif (grant := view.grants.get(code)) is None:
            rules[code] = (items, DENY_NO_CONSENT, _NEVER, DENY_NO_CONSENT)
        elif grant.notice_hash != view.notice_hash:
            rules[code] = (items, DENY_NOTICE_CHANGED, _NEVER, DENY_NOTICE_CHANGED)
        else:
            allowed = Decision(True, "consent", LegalBasis.CONSENT, grant.grant_id)
            expires = grant.expires_at.timestamp() if grant.expires_at else _NEVER
            reconfirm = grant.reconfirm_at.timestamp() if grant.reconfirm_at else _NEVER
            if expires <= reconfirm:
                rules[code] = (items, allowed, expires, DENY_EXPIRED)
            else:
                rules[code] = (items, allowed, reconfirm, DENY_RECONFIRM)
    return rules


_Entry = tuple[int, int, float, dict[str, _Rule], dict[str, float]]


class ConsentGate:
    """The single check identity makes before releasing a claim."""

    def __init__(
        self,
        *,
        source: GateSource,
        generations: Generations,
        clock: Callable[[], datetime],
        max_age: float = 2.0,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._generations = generations
        self._clock = clock
        self._max_age = max_age
        self._max_entries = max_entries
        self._monotonic = monotonic
        # (citizen, app) -> (generation slot, generation, loaded at, rules, active grants)
        self._cache: dict[tuple[str, str], _Entry] = {}

    def check(
        self, subject_id: str, app_id: str, purpose: str, data_items: Iterable[str]
    ) -> Decision:
        # _entry() inlined: this is the hot path of every release (bench/consent_gate.py)
        cached = self._cache.get((subject_id, app_id))
        if (
            cached is None
            or self._generations.read(cached[0]) != cached[1]
            or self._monotonic() - cached[2] > self._max_age
        ):
            cached = self._load(subject_id, app_id)
        rule = cached[3].get(purpose)
        if rule is None:
            return DENY_RESTRICTED if self._restricted(cached[3]) else DENY_UNKNOWN_PURPOSE
        items, decision, until, later = rule
        if not decision.allowed:
            return decision
        if not items.issuperset(data_items):
            return DENY_ITEMS
        if until is not _NEVER and self._clock().timestamp() >= until:
            return later
        return decision

    @property
    def generations(self) -> Generations:
        return self._generations

    def grant_active(self, subject_id: str, app_id: str, grant_id: str) -> bool:
        """Whether a grant of this citizen and app is active now (not withdrawn, expired or
        awaiting re-confirmation), from the same cached view as :meth:`check`: correct
        across workers, without a database read while nothing changed."""
        return self._active(self._entry(subject_id, app_id), grant_id)

    def cached_grant_active(self, subject_id: str, app_id: str, grant_id: str) -> bool | None:
        """:meth:`grant_active` from memory alone: None when the cached view of (citizen,
        app) is missing or stale, for a caller that must not read the database (the event
        loop) and asks :meth:`grant_active` elsewhere instead."""
        cached = self._fresh(subject_id, app_id)
        return None if cached is None else self._active(cached, grant_id)

    def _active(self, entry: _Entry, grant_id: str) -> bool:
        until = entry[4].get(grant_id)
        return until is not None and self._clock().timestamp() < until

    def _entry(self, subject_id: str, app_id: str) -> _Entry:
        """The cached view of (citizen, app), reloaded when it is stale (:meth:`_fresh`)."""
        return self._fresh(subject_id, app_id) or self._load(subject_id, app_id)

    def _fresh(self, subject_id: str, app_id: str) -> _Entry | None:
        """The cached view of (citizen, app) unless the citizen's generation moved or it is
        older than ``max_age``."""
        cached = self._cache.get((subject_id, app_id))
        if (
            cached is None
            or self._generations.read(cached[0]) != cached[1]
            or self._monotonic() - cached[2] > self._max_age
        ):
            return None
        return cached

    def _load(self, subject_id: str, app_id: str) -> _Entry:
        slot = self._generations.slot(subject_id)
        generation = self._generations.read(slot)  # before reading the database
        view = self._source.view(subject_id, app_id)
        rules = _rules(view)
        grants = {
            g.grant_id: min(
                g.expires_at.timestamp() if g.expires_at else _NEVER,
                g.reconfirm_at.timestamp() if g.reconfirm_at else _NEVER,
            )
            for g in view.grants.values()
            if g.status is GrantStatus.ACTIVE
        }
        entry = (slot, generation, self._monotonic(), rules, grants)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[(subject_id, app_id)] = entry
        return entry

    @staticmethod
    def _restricted(rules: dict[str, _Rule]) -> bool:
        return any(rule[1] is DENY_RESTRICTED for rule in rules.values())


class LedgerSource(Protocol):
    """What :class:`CachedConsentRecords` reads from the ledger."""

    def purposes(self, app_id: str) -> list[Purpose]: ...
    def grant_owner(self, grant_id: str) -> tuple[str, str] | None: ...


class CachedConsentRecords:
    """The consent facts the token endpoint asks on every request, answered from memory:

    - ``purposes(app_id)``, cached until the global generation moves (a new purpose or
      notice bumps it);
    - ``is_grant_active(grant_id)``: a grant's citizen and app never change, so they are
      remembered after the first read; whether it is active comes from the gate's cached
      view of (citizen, app), which follows every change on its next call.
    """

    def __init__(
        self, *, ledger: LedgerSource, gate: ConsentGate, max_entries: int = 100_000
    ) -> None:
        self._ledger = ledger
        self._gate = gate
        self._generations = gate.generations
        self._max_entries = max_entries
        self._purposes: dict[str, tuple[int, list[Purpose]]] = {}
        self._owners: dict[str, tuple[str, str]] = {}

    def purposes(self, app_id: str) -> list[Purpose]:
        generation = self._generations.read(0)  # before reading the database
        cached = self._purposes.get(app_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        purposes = self._ledger.purposes(app_id)
        if len(self._purposes) >= self._max_entries:
            self._purposes.clear()
        self._purposes[app_id] = (generation, purposes)
        return purposes

    def cached_purposes(self, app_id: str) -> list[Purpose] | None:
        """:meth:`purposes` from memory alone; None when it must be read."""
        cached = self._purposes.get(app_id)
        if cached is not None and cached[0] == self._generations.read(0):
            return cached[1]
        return None

    def cached_grant_active(self, grant_id: str) -> bool | None:
        """:meth:`is_grant_active` from memory alone; None when it must be read."""
        owner = self._owners.get(grant_id)
        if owner is None:
            return None
        return self._gate.cached_grant_active(owner[0], owner[1], grant_id)

    def is_grant_active(self, grant_id: str) -> bool:
        owner = self._owners.get(grant_id)
        if owner is None:
            owner = self._ledger.grant_owner(grant_id)
            if owner is None:
                return False
            if len(self._owners) >= self._max_entries:
                self._owners.clear()
            self._owners[grant_id] = owner
        return self._gate.grant_active(owner[0], owner[1], grant_id)
