"""What changed between two notice versions (UU PDP Art. 21(2)), member by member and word
by word."""

from __future__ import annotations

from dataclasses import replace

from consent.notice_diff import PieceKind, notice_changes, notice_fields
from consent.notices import DpoContact
from consent.purposes import LocalizedText
from tests.consent_helpers import notice_content


def test_the_same_notice_has_no_change() -> None:
    assert notice_changes(notice_content(), notice_content()) == []


def test_a_changed_text_reads_as_the_words_removed_and_added() -> None:
    before = notice_content()
    items = dict(before.items)
    items["retention"] = LocalizedText(
        "Dokumen disimpan selama 5 tahun sejak pengajuan.",
        "Documents are kept 5 years from the application.",
    )
    after_items = dict(items)
    after_items["retention"] = LocalizedText(
        "Dokumen disimpan selama 2 tahun sejak pengajuan.",
        "Documents are kept 5 years from the application.",
    )
    older, newer = replace(before, items=items), replace(before, items=after_items)
    [change] = notice_changes(older, newer)
    assert change.field == "items.retention.id"
    assert change.before == "Dokumen disimpan selama 5 tahun sejak pengajuan."
    assert change.after == "Dokumen disimpan selama 2 tahun sejak pengajuan."
    assert [(p.kind, p.text) for p in change.pieces] == [
        (PieceKind.KEPT, "Dokumen disimpan selama "),
        (PieceKind.REMOVED, "5 "),
        (PieceKind.ADDED, "2 "),
        (PieceKind.KEPT, "tahun sejak pengajuan."),
    ]
    rebuilt_before = "".join(p.text for p in change.pieces if p.kind is not PieceKind.ADDED)
    rebuilt_after = "".join(p.text for p in change.pieces if p.kind is not PieceKind.REMOVED)
    assert (rebuilt_before, rebuilt_after) == (change.before, change.after)


def test_changes_come_in_the_notices_order_and_an_added_member_has_no_before() -> None:
    before = notice_content()
    after = replace(
        notice_content(controller="Dinas Sosial Provinsi DKI Jakarta", rights="v2"),
        dpo=DpoContact(name="Pejabat Pelindungan Data", email="ppd@dinsos.example.go.id",
                       phone="021-555-0100"),
    )  # fmt: skip
    changes = notice_changes(before, after)
    fields = [c.field for c in changes]
    assert fields[0] == "controller.name" and fields[-1] == "dpo.phone"
    assert fields[1:-1] == [f for f in notice_fields(after) if f.startswith("items.")]
    phone = changes[-1]
    assert phone.before is None and phone.after == "021-555-0100"
    assert [p.kind for p in phone.pieces] == [PieceKind.ADDED]
