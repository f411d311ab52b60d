"""The sentences of a citizen's activity (:mod:`identity.citizens.activity`), in the page's
language (UU PDP Art. 22(3)'s clear and simple language; Art. 31-32's record of processing).

Each event is one sentence that names who, what data, and for which purpose, in the purpose's
own words: "JAKI menerima nama lengkap, tanggal lahir dan alamat email Anda untuk *Memberikan
layanan kepada warga*." The citizen's own acts are credited to "Anda"; Jati's own reads (the
age check before a consent screen) to Jati. Each legal basis follows in plain words with its
article after it. Every word comes from :data:`identity.http.pages.i18n.MESSAGES`; app names
and purpose descriptions are data and are escaped like any value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from audit.entry import Action, ActorKind
from consent.purposes import LocalizedText
from identity.citizens.activity import Story, StoryKind, Use
from identity.http.pages.i18n import DATA_ITEMS, Translator

__all__ = ["EntryLine", "Names", "StoryLine", "story_lines"]

_SPACE = Markup(" ")
#: Data items in a sentence in the catalogue's order (NIK, name, date of birth, ...).
_ITEM_ORDER = {name: position for position, name in enumerate(DATA_ITEMS)}
#: Purposes whose own acts by the citizen are requests under UU PDP Art. 5-14.
_REQUEST_PREFIX = "data-subject-"


@dataclass(frozen=True, slots=True)
class Names:
    """What the page knows of the apps in a page of events: names and purposes' words."""

    apps: Mapping[str, str]
    purposes: Mapping[tuple[str, str], LocalizedText]


@dataclass(frozen=True, slots=True)
class EntryLine:
    """One raw entry under its event: leaf index (None while queued), time, the canonical
    entry bytes as text, and the inclusion proof's URL once a checkpoint covers it."""

    leaf_index: int | None
    time: datetime
    canonical: str
    proof_url: str | None


@dataclass(frozen=True, slots=True)
class StoryLine:
    """One event as the page shows it."""

    sentence: Markup
    bases: tuple[tuple[str, str], ...]  # (plain words, article) per legal basis
    time: datetime
    pending: bool
    entries: tuple[EntryLine, ...]


def _lower(name: str) -> str:
    """A data item's label inside a sentence ("Nama lengkap" -> "nama lengkap", NIK stays)."""
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _listed(t: Translator, parts: Iterable[Markup | str]) -> Markup:
    """``a, b dan c`` / ``a, b and c``, each part escaped unless it is markup."""
    escaped = [escape(p) for p in parts]
    if len(escaped) <= 1:
        return Markup("").join(escaped)
    conjunction = _SPACE + escape(t("story.and")) + _SPACE
    return Markup(", ").join(escaped[:-1]) + conjunction + escaped[-1]


class _Sentences:
    """The words of one page's events."""

    def __init__(self, t: Translator, names: Names) -> None:
        self.t = t
        self.names = names

    def items(self, names: Iterable[str]) -> Markup:
        ordered = sorted(names, key=lambda n: (_ITEM_ORDER.get(n, len(_ITEM_ORDER)), n))
        listed = [_lower(self.t.item(n)) for n in ordered]
        return _listed(self.t, listed) if listed else escape(self.t("story.your_data"))

    def purpose(self, app_id: str | None, code: str | None) -> Markup:
        if code is None:
            return escape(self.t("story.no_purpose"))
        own = self.names.purposes.get((app_id, code)) if app_id else None
        if own is not None:
            text = self.t.text(own)
        elif self.t.has(f"purpose.{code}"):
            text = self.t(f"purpose.{code}")
        else:
            text = code
        return Markup("<em>{}</em>").format(text)

    def purposes(self, app_id: str | None, uses: Iterable[Use]) -> Markup:
        return _listed(self.t, [self.purpose(app_id, u.purpose) for u in uses])

    def who(self, story: Story) -> str:
        kind = story.actor_kind
        if kind == ActorKind.RELYING_APP.value:
            return self.names.apps.get(story.actor_id, story.actor_id)
        if kind == ActorKind.OFFICIAL.value:
            return self.t("story.official", id=story.actor_id)
        if kind == ActorKind.CITIZEN.value:
            return self.t("story.you")
        return "Jati"

    def uses(self, app_id: str | None, uses: Iterable[Use]) -> Markup:
        return _listed(
            self.t,
            [
                escape(self.t("story.use")).format(
                    items=self.items(u.items), purpose=self.purpose(app_id, u.purpose)
                )
                for u in uses
            ],
        )

    def sentence(self, story: Story, uses: tuple[Use, ...]) -> Markup:
        t, kind = self.t, story.kind
        app = self.names.apps.get(story.actor_id, story.actor_id)
        app_id = story.actor_id if story.actor_kind == ActorKind.RELYING_APP.value else None
        values: dict[str, Markup | str] = {"app": app, "who": self.who(story)}
        if kind is StoryKind.RELEASE and story.denied:  # the gate refused: nothing was given
            key = "story.release_refused"
            values["uses"] = self.uses(app_id, [u for u in uses if u.items])
        elif kind is StoryKind.RELEASE:
            if any(u.items for u in uses):
                key = "story.release"
                values["uses"] = self.uses(app_id, [u for u in uses if u.items])
            else:
                key, values["purposes"] = "story.release_none", self.purposes(app_id, uses)
        elif kind is StoryKind.SIGN_IN:
            methods = [i for i in story.all_items if t.has(f"story.method.{i}")]
            key = "story.sign_in_with" if methods else "story.sign_in"
            values["items"] = _listed(t, [t(f"story.method.{m}") for m in methods])
        elif kind in (StoryKind.JATI_CHECK, StoryKind.PROCESSED):
            key = "story.jati_check" if kind is StoryKind.JATI_CHECK else "story.processed"
            values["verb"] = t(f"story.verb.{story.action}")
            values["uses"] = self.uses(app_id, uses)
        elif kind is StoryKind.YOUR_ACT:
            request = all((u.purpose or "").startswith(_REQUEST_PREFIX) for u in uses)
            key = (
                "story.you.request"
                if request and story.action == Action.CREATE
                else (f"story.you.{story.action}")
            )
            values["items"] = self.items(story.all_items)
            values["purposes"] = self.purposes(app_id, uses)
        else:  # consents and credentials: the sentence names the app and the purposes
            key, values["purposes"] = f"story.{kind.value}", self.purposes(app_id, uses)
        sentence = escape(t(key)).format(**values)
        if story.denied and kind not in (StoryKind.SIGN_IN_REFUSED, StoryKind.RELEASE):
            sentence += _SPACE + escape(t("story.refused"))
        return sentence

    def bases(self, uses: Iterable[Use]) -> tuple[tuple[str, str], ...]:
        codes = sorted({u.legal_basis for u in uses if u.legal_basis})
        return tuple((self.t(f"basis.plain.{c}"), self.t("basis.article", letter=c)) for c in codes)


def _entry_lines(story: Story, checkpoint_size: int) -> tuple[EntryLine, ...]:
    return tuple(
        EntryLine(
            raw.leaf_index,
            raw.entry.time,
            raw.canonical,
            f"/audit/proof/inclusion?leaf_index={raw.leaf_index}&tree_size={checkpoint_size}"
            if raw.integrated_in(checkpoint_size)
            else None,
        )
        for raw in story.entries
    )


def story_lines(
    t: Translator, names: Names, stories: Iterable[Story], checkpoint_size: int
) -> list[StoryLine]:
    """The page's lines for ``stories`` (newest first)."""
    words = _Sentences(t, names)
    lines = []
    for story in stories:
        uses = story.uses
        lines.append(
            StoryLine(
                words.sentence(story, uses),
                words.bases(uses),
                story.time,
                story.pending(checkpoint_size),
                _entry_lines(story, checkpoint_size),
            )
        )
    return lines
