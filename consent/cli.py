"""Command-line adapter of the consent ledger: ``jati purpose add|list``, ``jati notice
publish|show`` and ``jati consent expire``.

``identity.service.cli`` builds the parsers with :func:`add_commands` and calls the functions here
with a ready :class:`~consent.ledger.ConsentLedger`. Output goes to the given stream; errors
are raised as :class:`~consent.errors.ConsentError` and printed by ``identity.service.cli`` as one
line.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from audit.entry import LegalBasis
from consent.errors import InvalidNotice, InvalidPurpose
from consent.ledger import ConsentLedger
from consent.notices import NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose

MAX_NOTICE_BYTES = 256 * 1024
BASES = {b.value: b for b in LegalBasis} | {b.name.lower(): b for b in LegalBasis}


def add_commands(commands: Any, handlers: Mapping[str, Any]) -> None:
    """Add the ``purpose``, ``notice`` and ``consent`` command groups; ``handlers`` maps
    ``purpose_add``, ``purpose_list``, ``notice_publish``, ``notice_show`` and
    ``consent_expire`` to identity's handlers."""
    purpose = commands.add_parser(
        "purpose", help="purposes of a relying app (UU PDP Art. 20(2), Art. 4)"
    ).add_subparsers(dest="purpose_command", required=True, metavar="ACTION")
    add = purpose.add_parser("add", help="register a purpose of a relying app")
    add.add_argument("--client", required=True, metavar="ID", help="the app's client id")
    add.add_argument("--code", required=True, help="purpose code, e.g. bansos-eligibility")
    add.add_argument(
        "--basis",
        required=True,
        metavar="BASIS",
        help="legal basis, UU PDP Art. 20(2): a consent, b contract, c legal_obligation, "
        "d vital_interest, e public_task, f legitimate_interest",
    )
    add.add_argument(
        "--item",
        action="append",
        required=True,
        dest="items",
        metavar="NAME[:specific|general]",
        help="a data item the purpose needs (repeatable); specific data per Art. 4(2)",
    )
    add.add_argument("--retention-days", type=int, required=True, metavar="N")
    add.add_argument("--description-id", required=True, help="description in Bahasa Indonesia")
    add.add_argument("--description-en", help="description in English")
    add.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add.set_defaults(handler=handlers["purpose_add"])
    listing = purpose.add_parser("list", help="an app's purposes")
    listing.add_argument("--client", required=True, metavar="ID")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(handler=handlers["purpose_list"])

    notice = commands.add_parser(
        "notice", help="privacy notices of a relying app (UU PDP Art. 21, 53)"
    ).add_subparsers(dest="notice_command", required=True, metavar="ACTION")
    publish = notice.add_parser(
        "publish", help="publish the app's next notice version from a JSON file"
    )
    publish.add_argument("--client", required=True, metavar="ID")
    publish.add_argument("--file", required=True, type=Path, metavar="FILE")
    publish.add_argument("--json", action="store_true", help="one JSON object on stdout")
    publish.set_defaults(handler=handlers["notice_publish"])
    show = notice.add_parser("show", help="the app's current notice")
    show.add_argument("--client", required=True, metavar="ID")
    show.set_defaults(handler=handlers["notice_show"])

    consent = commands.add_parser("consent", help="the consent ledger").add_subparsers(
        dest="consent_command", required=True, metavar="ACTION"
    )
    consent.add_parser(
        "expire", help="record `expired` events for grants past their expiry"
    ).set_defaults(handler=handlers["consent_expire"])


def purpose_from_args(args: argparse.Namespace) -> Purpose:
    basis = BASES.get(str(args.basis).lower())
    if basis is None:
        raise InvalidPurpose(
            "--basis is one of a-f (UU PDP Art. 20(2)): a consent, b contract, "
            "c legal_obligation, d vital_interest, e public_task, f legitimate_interest"
        )
    return Purpose(
        app_id=args.client,
        code=args.code,
        description=LocalizedText(args.description_id, args.description_en),
        legal_basis=basis,
        data_items=tuple(DataItem.parse(item) for item in args.items),
        retention_days=args.retention_days,
    )


def check_declared(purpose: Purpose, declared: Mapping[str, LegalBasis]) -> None:
    """A purpose the app declared at registration keeps the basis it declared there."""
    basis = declared.get(purpose.code)
    if basis is not None and basis is not purpose.legal_basis:
        raise InvalidPurpose(
            f"purpose {purpose.code} was registered with the app on basis {basis.value}; "
            f"it cannot be added on basis {purpose.legal_basis.value}"
        )


def print_purposes(purposes: list[Purpose], *, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps({"purposes": [p.to_json() for p in purposes]}), file=out)
        return
    if not purposes:
        print("no purposes", file=out)
    for p in purposes:
        items = ", ".join(
            f"{i.name}{'*' if i.sensitivity.value == 'specific' else ''}" for i in p.data_items
        )
        print(
            f"{p.code}  basis {p.legal_basis.value}  retention {p.retention_days} d  "
            f"items {items}  — {p.description.id}",
            file=out,
        )


def _no_repeated_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A member given twice would be read as its last value, silently: refused."""
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidNotice(
            f"the notice file gives member {repeated[0][:40]!r} twice in one object"
        )
    return dict(pairs)


def load_notice(path: Path) -> NoticeContent:
    """Read and check a notice file (:meth:`NoticeContent.from_json`; UU PDP Art. 21, 53).

    Raises:
        InvalidNotice: one line: unreadable, too large, not JSON, a member repeated, or
            what :meth:`~consent.notices.NoticeContent.from_json` refuses.
    """
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_NOTICE_BYTES + 1)
    except OSError as exc:
        raise InvalidNotice(f"cannot read --file: {exc.strerror or exc}") from None
    if len(raw) > MAX_NOTICE_BYTES:
        raise InvalidNotice(f"the notice file is over {MAX_NOTICE_BYTES} bytes")
    try:
        document = json.loads(raw, object_pairs_hook=_no_repeated_members)
    except (UnicodeDecodeError, ValueError):
        raise InvalidNotice("the notice file is not JSON") from None
    return NoticeContent.from_json(document)


def publish_notice(
    ledger: ConsentLedger, app_id: str, path: Path, *, as_json: bool, out: TextIO
) -> None:
    notice = ledger.publish_notice(app_id, load_notice(path))
    if as_json:
        print(
            json.dumps(
                {"app_id": app_id, "version": notice.version, "content_hash": notice.content_hash}
            ),
            file=out,
        )
    else:
        print(f"notice version {notice.version}  {notice.content_hash}", file=out)


def show_notice(ledger: ConsentLedger, app_id: str, *, out: TextIO) -> bool:
    notice = ledger.current_notice(app_id)
    if notice is None:
        return False
    body = {
        "app_id": app_id,
        "version": notice.version,
        "content_hash": notice.content_hash,
        "published_at": notice.published_at.isoformat(),
        "content": notice.content.to_json(),
    }
    print(json.dumps(body, ensure_ascii=False, indent=2), file=out)
    return True
