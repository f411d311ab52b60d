"""``jati purpose add|list``, ``jati notice publish|show`` and ``jati consent expire``: the
consent ledger of a relying app, its purposes (UU PDP Art. 20(2)) and privacy notices
(Art. 21). The parsers and the printing are :mod:`consent.cli`'s; this wires them to the
ledger and the client registry."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from identity.service.cli import clients, common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from consent.ledger import ConsentLedger
    from identity.oidc.clients import RelyingApp


def add_commands(commands: common.Commands) -> None:
    from consent import cli as consent_cli

    consent_cli.add_commands(
        commands,
        {
            "purpose_add": _purpose_add,
            "purpose_list": _purpose_list,
            "notice_publish": _notice_publish,
            "notice_show": _notice_show,
            "consent_expire": _consent_expire,
        },
    )


@contextmanager
def _consent_ledger(settings: Settings) -> Iterator[ConsentLedger]:
    from audit.storage.store import SqlAuditStore
    from identity.service.factories import build_audit_log, build_consent

    with common.checked_database_and_key(settings) as (database, master_key):
        _, pseudonymizer = build_audit_log(settings, database, master_key)
        ledger, _ = build_consent(
            settings, database, SqlAuditStore(engine=database.engine), pseudonymizer
        )
        yield ledger


def _known_client(settings: Settings, client_id: str) -> RelyingApp:
    """A registered app, disabled or not (its purposes and notice can still be prepared)."""
    with clients.client_registry(settings) as registry:
        return registry.found(client_id)


def _purpose_add(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import check_declared, purpose_from_args

    purpose = purpose_from_args(args)
    app = _known_client(settings, args.client)
    check_declared(purpose, {p.code: p.legal_basis for p in app.purposes})
    with _consent_ledger(settings) as ledger:
        ledger.register_purpose(purpose)
    common.print_result(
        args.json,
        {"app_id": args.client, "purpose": purpose.to_json()},
        [f"purpose {purpose.code} registered for {args.client}"],
    )
    return common.EXIT_OK


def _purpose_list(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import print_purposes

    with _consent_ledger(settings) as ledger:
        print_purposes(ledger.purposes(args.client), as_json=args.json, out=sys.stdout)
    return common.EXIT_OK


def _notice_publish(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import load_notice, publish_notice

    load_notice(args.file)  # a bad file is refused before anything is opened
    _known_client(settings, args.client)
    with _consent_ledger(settings) as ledger:
        publish_notice(ledger, args.client, args.file, as_json=args.json, out=sys.stdout)
    return common.EXIT_OK


def _notice_show(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import show_notice

    with _consent_ledger(settings) as ledger:
        if not show_notice(ledger, args.client, out=sys.stdout):
            common.print_error(f"no notice published for {args.client}")
            return common.EXIT_ERROR
    return common.EXIT_OK


def _consent_expire(_args: argparse.Namespace, settings: Settings) -> int:
    with _consent_ledger(settings) as ledger:
        expired = ledger.expire_due()
    print(f"{expired} grant(s) expired")
    return common.EXIT_OK
