"""A citizen's record of who used their data told as a story (UU PDP Art. 31-32): the audit
entries about them, newest first, grouped into the events a person would name.

One release to an app writes several entries (the authorization code, the tokens, each
userinfo read, one per purpose); one consent screen writes one entry per purpose. The story
joins entries of the same kind by the same actor that follow each other within
:data:`SAME_EVENT_WITHIN` into one :class:`Story`, which keeps its raw entries (each with
its leaf index, or none while still queued) so that every sentence can be checked against
the log. Tokens are not data: a release names the data items the tokens carry.

Entries withheld from the citizen (``citizen_visible`` false, or an Art. 15/50 exception
until ``visible_after``) are left out, as in :mod:`identity.citizens.access_log`. A page is
constant-time in the length of the citizen's history: it reads at most ``limit`` leaves
through the ``(subject, leaf_index)`` index, backwards from a cursor, and the few entries
still queued. A core: no framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from audit.entry import Action, ActorKind, AuditEntry, Outcome, decode_entry
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.records import EventFilter

__all__ = [
    "SAME_EVENT_WITHIN",
    "ActivityPage",
    "RawEntry",
    "Story",
    "StoryKind",
    "Use",
    "activity_page",
    "apps_in",
    "last_use",
    "tell",
]

#: Entries of one kind by one actor this close to each other are one event.
SAME_EVENT_WITHIN = timedelta(minutes=2)
#: How many of an app's newest entries :func:`last_use` reads.
_LAST_USE_WINDOW = 50
#: Data items that are tokens or codes, not the citizen's data.
_TOKEN_PREFIXES = ("token:", "credential:")
_RELEASES = frozenset({Action.TOKEN_ISSUED, Action.READ, Action.DISCLOSE, Action.EXPORT})
_CONSENT_KINDS = {
    Action.CONSENT_GIVEN: "consent_given",
    Action.CONSENT_REFUSED: "consent_refused",
    Action.CONSENT_WITHDRAWN: "consent_withdrawn",
    Action.CONSENT_EXPIRED: "consent_expired",
}


class StoryKind(StrEnum):
    """What happened, as the page tells it."""

    RELEASE = "release"  # an app received the citizen's data (tokens, userinfo, disclosure)
    CONSENT_GIVEN = "consent_given"  # the citizen's own choices on a consent screen
    CONSENT_REFUSED = "consent_refused"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in_refused"
    CREDENTIAL_ISSUED = "credential_issued"
    CREDENTIAL_REVOKED = "credential_revoked"
    YOUR_ACT = "your_act"  # the citizen changed their account or filed a request
    JATI_CHECK = "jati_check"  # Jati read the citizen's data for them (the age check)
    PROCESSED = "processed"  # an official, Jati or an app processed the data otherwise


def story_kind(entry: AuditEntry) -> StoryKind:
    """The kind of event an entry belongs to."""
    action, actor = entry.action, entry.actor.kind
    if action in _CONSENT_KINDS:
        return StoryKind(_CONSENT_KINDS[action])
    if action is Action.LOGIN:
        return StoryKind.SIGN_IN if entry.outcome is Outcome.SUCCESS else StoryKind.SIGN_IN_REFUSED
    if action is Action.CREDENTIAL_ISSUED:
        return StoryKind.CREDENTIAL_ISSUED
    if action is Action.CREDENTIAL_REVOKED:
        return StoryKind.CREDENTIAL_REVOKED
    if actor is ActorKind.RELYING_APP and action in _RELEASES:
        return StoryKind.RELEASE
    if actor is ActorKind.CITIZEN:
        # the citizen's session read their data: Jati's own check on their behalf
        return StoryKind.JATI_CHECK if action is Action.READ else StoryKind.YOUR_ACT
    return StoryKind.PROCESSED


#: The events in which an app used the citizen's data.
_USES = frozenset({StoryKind.RELEASE, StoryKind.PROCESSED, StoryKind.CREDENTIAL_ISSUED})


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One audit entry as stored: its leaf index (None while queued) and canonical bytes."""

    leaf_index: int | None
    entry: AuditEntry
    encoded: bytes

    @property
    def canonical(self) -> str:
        """The leaf input as text (SHA-256 of 0x00 and these bytes is the leaf hash)."""
        return self.encoded.decode()

    def integrated_in(self, checkpoint_size: int) -> bool:
        """Whether a checkpoint of ``checkpoint_size`` covers this entry, so that an
        inclusion proof exists (RFC 9162 §2.1.3)."""
        return self.leaf_index is not None and self.leaf_index < checkpoint_size


@dataclass(frozen=True, slots=True)
class Use:
    """The data items one purpose covered in an event (tokens left out)."""

    purpose: str | None
    legal_basis: str | None
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Story:
    """One event: entries of one kind by one actor, newest first."""

    kind: StoryKind
    entries: tuple[RawEntry, ...]

    @property
    def newest(self) -> AuditEntry:
        return self.entries[0].entry

    @property
    def time(self) -> datetime:
        return self.newest.time

    @property
    def actor_kind(self) -> str:
        return self.newest.actor.kind.value

    @property
    def actor_id(self) -> str:
        return self.newest.actor.id

    @property
    def action(self) -> str:
        return self.newest.action.value

    @property
    def denied(self) -> bool:
        return self.newest.outcome is not Outcome.SUCCESS

    @property
    def uses(self) -> tuple[Use, ...]:
        """Per purpose, in the order the purposes first occur (oldest entry first), the
        data items, tokens left out."""
        order: list[str | None] = []
        items: dict[str | None, set[str]] = {}
        bases: dict[str | None, str | None] = {}
        for raw in reversed(self.entries):
            entry = raw.entry
            if entry.purpose not in items:
                order.append(entry.purpose)
                items[entry.purpose] = set()
                bases[entry.purpose] = entry.legal_basis.value if entry.legal_basis else None
            items[entry.purpose].update(
                i for i in entry.data_items if not i.startswith(_TOKEN_PREFIXES)
            )
        return tuple(Use(p, bases[p], tuple(sorted(items[p]))) for p in order)

    @property
    def all_items(self) -> tuple[str, ...]:
        """Every data item of the event, tokens and account items included, once."""
        return tuple(sorted({i for raw in self.entries for i in raw.entry.data_items}))

    def pending(self, checkpoint_size: int) -> bool:
        """Whether some entry is not yet covered by a checkpoint ("sedang dicatat")."""
        return not all(raw.integrated_in(checkpoint_size) for raw in self.entries)


def _joins(story: Story, raw: RawEntry, kind: StoryKind) -> bool:
    """Whether ``raw`` (older than every entry of ``story``) belongs to the same event."""
    last = story.entries[-1].entry
    entry = raw.entry
    if kind is not story.kind or entry.actor != last.actor or entry.outcome != last.outcome:
        return False
    if kind in (StoryKind.YOUR_ACT, StoryKind.PROCESSED) and entry.action != last.action:
        return False
    return timedelta(0) <= last.time - entry.time <= SAME_EVENT_WITHIN


def tell(entries: Iterable[RawEntry]) -> list[Story]:
    """The events of ``entries`` (newest first), newest first."""
    stories: list[Story] = []
    for raw in entries:
        kind = story_kind(raw.entry)
        if stories and _joins(stories[-1], raw, kind):
            stories[-1] = Story(kind, (*stories[-1].entries, raw))
        else:
            stories.append(Story(kind, (raw,)))
    return stories


@dataclass(frozen=True, slots=True)
class ActivityPage:
    """One page of the story: its events, the cursor to older ones (None on the last page)
    and the size of the latest checkpoint (entries at or past it are still being recorded)."""

    stories: list[Story]
    next_before: int | None
    checkpoint_size: int


def activity_page(
    audit_log: AuditLog,
    pseudonymizer: SubjectPseudonymizer,
    citizen_id: str,
    *,
    app_id: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> ActivityPage:
    """The citizen's events, newest first: on the first page (``before`` None) the entries
    still queued first, then up to ``limit`` leaves before leaf ``before``; optionally only
    those of one app (``app_id``) or since a time."""
    now = audit_log.clock()
    store = audit_log.store
    flt = EventFilter(subject=pseudonymizer.pseudonym(citizen_id), actor_id=app_id, since=since)
    queued = store.queued(flt, limit=limit) if before is None else []
    leaves = store.query(flt, before=before, newest_first=True, limit=limit)
    checkpoint = store.latest_checkpoint()
    in_tree = {leaf.entry for leaf in leaves}  # a row the sequencer moved in between
    raws = [RawEntry(None, decode_entry(e), e) for e in queued if e not in in_tree]
    raws.extend(RawEntry(leaf.leaf_index, decode_entry(leaf.entry), leaf.entry) for leaf in leaves)
    visible = [raw for raw in raws if raw.entry.visible_to_citizen(now)]
    next_before = leaves[-1].leaf_index if len(leaves) == limit else None
    return ActivityPage(
        tell(visible), next_before, checkpoint.tree_size if checkpoint is not None else 0
    )


def apps_in(stories: Sequence[Story]) -> set[str]:
    """The relying apps that act in ``stories``."""
    return {s.actor_id for s in stories if s.actor_kind == ActorKind.RELYING_APP.value}


def last_use(
    audit_log: AuditLog, pseudonymizer: SubjectPseudonymizer, citizen_id: str, app_id: str
) -> datetime | None:
    """When ``app_id`` last received or processed the citizen's data, as far as the citizen
    may see (consent events are the citizen's, not uses; a refused attempt gave nothing);
    None when not among its newest
    :data:`_LAST_USE_WINDOW` entries."""
    page = activity_page(
        audit_log, pseudonymizer, citizen_id, app_id=app_id, limit=_LAST_USE_WINDOW
    )
    return next((s.time for s in page.stories if s.kind in _USES and not s.denied), None)
