"""``jati credential list|revoke|suspend|reinstate``: the SD-JWT VC identity credentials
issued to citizens and their state on the status list."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from identity.credentials.issuer import CredentialService


def add_commands(commands: common.Commands) -> None:
    credential = common.add_group(
        commands, "credential", "issued SD-JWT VC identity credentials and their status"
    )
    listing = credential.add_parser("list", help="a citizen's credentials, newest first")
    listing.add_argument("--citizen", required=True, metavar="ID", help="the citizen id")
    common.add_json_option(listing)
    listing.set_defaults(handler=_credential_list)
    for action, text in (
        ("revoke", "revoke for good (status list: INVALID); verifiers refuse it"),
        ("suspend", "suspend (status list: SUSPENDED) until reinstated"),
        ("reinstate", "make a suspended credential valid again"),
    ):
        command = credential.add_parser(action, help=text)
        command.add_argument("credential_id", metavar="ID")
        common.add_json_option(command)
        command.set_defaults(handler=_credential_change, action=action)


@contextmanager
def credential_service(settings: Settings) -> Iterator[CredentialService]:
    """The credential service, on the database until the block ends."""
    from audit.storage.store import SqlAuditStore
    from consent.gate import CachedConsentRecords
    from identity.keys.signing_keys import KeySealer
    from identity.oidc.tokens import ActiveSigner
    from identity.service.factories import build_audit_log, build_consent, build_credentials
    from identity.storage.keys import SqlKeyStore

    with common.checked_database_and_key(settings) as (database, master_key):
        audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
        audit = SqlAuditStore(engine=database.engine)
        ledger, gate = build_consent(settings, database, audit, pseudonymizer)
        key_store = SqlKeyStore(database=database, sealer=KeySealer(master_key))
        yield build_credentials(
            settings,
            database,
            master_key,
            signer=ActiveSigner(key_store.active, settings.token_signing_alg).current,
            audit=audit,
            pseudonymizer=pseudonymizer,
            grants=CachedConsentRecords(ledger=ledger, gate=gate),
            clock=audit_log.clock,
        )


def _credential_list(args: argparse.Namespace, settings: Settings) -> int:
    from identity.credentials.issuer import credential_summary

    with credential_service(settings) as service:
        found = [credential_summary(c) for c in service.of_citizen(args.citizen)]
    lines = [
        f"{c['id']}  {c['state']:<9}  {c['client_id']}  issued {c['issued_at']}" for c in found
    ]
    document = {"citizen_id": args.citizen, "credentials": found}
    common.print_result(args.json, document, lines or ["no credentials"])
    return common.EXIT_OK


def _credential_change(args: argparse.Namespace, settings: Settings) -> int:
    from identity.credentials.issuer import ChangeReason, credential_summary

    with credential_service(settings) as service:
        change = {
            "revoke": service.revoke,
            "suspend": service.suspend,
            "reinstate": service.reinstate,
        }[args.action]
        credential = change(args.credential_id, reason=ChangeReason.OPERATOR)
    common.print_result(
        args.json,
        credential_summary(credential),
        [f"credential {credential.id} is {credential.state.value}"],
    )
    return common.EXIT_OK
