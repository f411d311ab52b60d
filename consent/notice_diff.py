"""What changed between two versions of an app's privacy notice (UU PDP Art. 21(2): the
citizen is told before the processing changes, so the controller must see exactly what a new
version says differently).

:func:`notice_changes` compares two :class:`~consent.notices.NoticeContent` member by
member, in the notice's own order (the controller, the seven Art. 21(1) items in each
language, the DPO of Art. 53), and words each change as runs of kept, removed and added
words (:mod:`difflib`, whose matching is on whole words so that a changed number or name
reads as one replacement). A member present in neither version is not listed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from consent.notices import NOTICE_ITEMS, NoticeContent

__all__ = ["Change", "Piece", "PieceKind", "notice_changes", "notice_fields"]

#: A word with the spaces after it (so that a run of changed words reads as one).
_WORDS = re.compile(r"\S+\s*|\s+")


class PieceKind(StrEnum):
    KEPT = "kept"
    REMOVED = "removed"
    ADDED = "added"


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, kept in both versions, removed from the older or added in the newer."""

    kind: PieceKind
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    """One member that differs: ``field`` is its path (``items.retention.id``,
    ``dpo.email``); ``before``/``after`` are None where the member is absent."""

    field: str
    before: str | None
    after: str | None
    pieces: tuple[Piece, ...]


def notice_fields(content: NoticeContent) -> dict[str, str | None]:
    """Every member of a notice as text, by path, in the notice's order."""
    fields: dict[str, str | None] = {
        "controller.name": content.controller,
        "controller.contact": content.controller_contact,
    }
    for name in NOTICE_ITEMS:
        text = content.items[name]
        fields[f"items.{name}.id"] = text.id
        fields[f"items.{name}.en"] = text.en
    dpo = content.dpo
    fields.update({"dpo.name": dpo.name, "dpo.email": dpo.email, "dpo.phone": dpo.phone,
                   "dpo.url": dpo.url})  # fmt: skip
    return fields


def notice_changes(before: NoticeContent, after: NoticeContent) -> list[Change]:
    """The members that differ from ``before`` to ``after``, in the notice's order."""
    old, new = notice_fields(before), notice_fields(after)
    return [
        Change(path, old[path], new[path], _pieces(old[path] or "", new[path] or ""))
        for path in old
        if old[path] != new[path]
    ]


def _pieces(before: str, after: str) -> tuple[Piece, ...]:
    """``before`` turned into ``after`` as runs of words (each with its trailing spaces)."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(Piece(PieceKind.KEPT, "".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece(PieceKind.REMOVED, "".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(Piece(PieceKind.ADDED, "".join(new[j1:j2])))
    return tuple(pieces)
