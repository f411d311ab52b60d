"""``jati citizen add|import|reset-access|erase``: citizens, whose personal data is encrypted at
rest (UU PDP Art. 35) and erased by destroying its data key (Art. 43/44).

``add`` registers a citizen with a one-time activation code, printed once, which the citizen
uses on ``/activate`` to choose their own password or passkey (issue 18); ``--password-stdin``
registers with a password instead (tests and migration). ``reset-access`` is the operator's
recovery after checking the citizen's identity in person: every way into the account is
revoked and a new activation code printed once (:mod:`identity.citizens.account_access`).
``import`` registers a population register's export in batches, each citizen with an
activation code written to a 0600 file for a mailing system
(:mod:`identity.service.cli.citizen_import`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from identity.service.cli import citizen_import, common, credentials
from identity.service.settings import Settings

if TYPE_CHECKING:
    from audit.entry import Actor
    from identity.citizens.account_access import AccountAccess
    from identity.citizens.service import CitizenService
    from identity.storage.database import Database

#: Printed under an activation code (plain output).
_SHOWN_ONCE = (
    "The activation code is shown only this once (Jati keeps only its hash): give it to the "
    "citizen in person. With it, their NIK and birth date they activate their account at "
    "/activate before it expires; `jati citizen reset-access ID` issues a new one."
)


def _birthdate(value: str) -> date:
    """``YYYY-MM-DD`` exactly (the message never repeats the value: it is personal data)."""
    from identity.citizens.fields import parse_birthdate
    from identity.errors import InvalidField

    try:
        return parse_birthdate(value)
    except InvalidField:
        raise argparse.ArgumentTypeError("use a real date as YYYY-MM-DD") from None


def add_commands(commands: common.Commands) -> None:
    citizen = common.add_group(
        commands, "citizen", "citizens (personal data encrypted at rest, UU PDP Art. 35)"
    )
    add = citizen.add_parser(
        "add",
        help="register a citizen; prints its id and a one-time activation code for the "
        "citizen (or, with --password-stdin, the id alone)",
    )
    add.add_argument("--nik", required=True, metavar="N", help="the 16-digit NIK")
    add.add_argument("--name", required=True, metavar="S", help="full name")
    add.add_argument(
        "--birthdate", required=True, type=_birthdate, metavar="YYYY-MM-DD", help="as in the NIK"
    )
    add.add_argument("--email", metavar="E")
    add.add_argument("--phone", metavar="P")
    add.add_argument("--address", metavar="A")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the citizen's password from the first line of stdin and issue no "
        "activation code (for tests and migration: otherwise only the citizen chooses it)",
    )
    common.add_json_option(add)
    add.set_defaults(handler=_citizen_add)
    citizen_import.add_import_command(citizen, _citizen_import)
    reset = citizen.add_parser(
        "reset-access",
        help="after checking the citizen's identity in person: end every session and token, "
        "remove the password, passkeys, TOTP and recovery codes (keeping personal data and "
        "consents), and print a new one-time activation code",
    )
    reset.add_argument("citizen_id", metavar="ID")
    common.add_json_option(reset)
    reset.set_defaults(handler=_citizen_reset_access)
    erase = citizen.add_parser(
        "erase",
        help="erase a citizen's personal data (destroys the data key, keeps a tombstone)",
    )
    erase.add_argument("citizen_id", metavar="ID")
    common.add_json_option(erase)
    erase.set_defaults(handler=_citizen_erase)


def citizen_id_for_nik(settings: Settings, database: Database, nik: str) -> str:
    """The internal id behind a NIK, through the blind index (nothing is decrypted)."""
    from identity.citizens.field_crypto import FieldCipher
    from identity.errors import NikNotRegistered
    from identity.storage.citizens import SqlCitizenStore

    master_key, _ = settings.load_master_key(create=False)
    with SqlCitizenStore(database=database).read() as tx:
        found = tx.find_by_nik_index(FieldCipher(master_key).nik_index(nik.strip()))
    if found is None:
        raise NikNotRegistered()
    return found.id


#: Who acts when an operator runs ``jati citizen ...`` (recorded in the audit log).
_CLI_ACTOR_ID = "jati-cli"


def _citizen_service_on(
    settings: Settings, database: Database, master_key: bytes
) -> CitizenService:
    from identity.service.factories import build_audit_log, build_citizen_service

    _, pseudonymizer = build_audit_log(settings, database, master_key)
    return build_citizen_service(settings, database, master_key, pseudonymizer=pseudonymizer)


@contextmanager
def _citizen_service(settings: Settings) -> Iterator[CitizenService]:
    with common.checked_database_and_key(settings) as (database, master_key):
        yield _citizen_service_on(settings, database, master_key)


@contextmanager
def _account_access(settings: Settings) -> Iterator[AccountAccess]:
    from identity.service.factories import build_account_access

    with common.checked_database_and_key(settings) as (database, master_key):
        service = _citizen_service_on(settings, database, master_key)
        yield build_account_access(settings, database, service)


def _operator() -> Actor:
    from audit.entry import Actor, ActorKind

    return Actor(kind=ActorKind.SYSTEM, id=_CLI_ACTOR_ID)


def _print_code(
    args: argparse.Namespace, access: AccountAccess, citizen_id: str, code: str
) -> None:
    """The citizen id and their new activation code, once (``--json``: one object)."""
    expires = access.activations.pending(citizen_id)
    expires_at = expires.isoformat() if expires is not None else None
    common.print_result(
        args.json,
        {"id": citizen_id, "activation_code": code, "activation_expires_at": expires_at},
        [
            f"{'id':<22} {citizen_id}",
            f"{'activation_code':<22} {code}",
            f"{'activation_expires_at':<22} {expires_at}",
            _SHOWN_ONCE,
        ],
    )


def _citizen_add(args: argparse.Namespace, settings: Settings) -> int:
    personal = {
        "nik": args.nik, "name": args.name, "birthdate": args.birthdate, "email": args.email,
        "phone": args.phone, "address": args.address,
    }  # fmt: skip
    if not args.password_stdin:
        with _account_access(settings) as access:
            citizen_id, code = access.register(**personal, actor=_operator())
            _print_code(args, access, citizen_id, code)
        return common.EXIT_OK
    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise common.UsageError("no password on stdin (one line)")
    with _citizen_service(settings) as service:
        citizen_id = service.register(**personal, password=password, actor=_operator())
    common.print_result(args.json, {"id": citizen_id}, [citizen_id])
    return common.EXIT_OK


def _citizen_import(args: argparse.Namespace, settings: Settings) -> int:
    return citizen_import.run_import(
        args, settings, citizens=_citizen_service_on, actor=_operator()
    )


def _citizen_reset_access(args: argparse.Namespace, settings: Settings) -> int:
    with _account_access(settings) as access:
        code = access.reset_access(args.citizen_id, actor=_operator())
        _print_code(args, access, args.citizen_id, code)
    return common.EXIT_OK


def _citizen_erase(args: argparse.Namespace, settings: Settings) -> int:
    with _citizen_service(settings) as service:
        tombstone = service.erase(args.citizen_id, actor=_operator())
    # UU PDP Art. 43/44: nothing of the citizen stays usable (DESIGN.md §3)
    with credentials.credential_service(settings) as issued:
        issued.revoke_all_for(tombstone.citizen_id)
    erased_at = tombstone.erased_at.isoformat()
    common.print_result(
        args.json,
        {"id": tombstone.citizen_id, "erased_at": erased_at},
        [f"erased {tombstone.citizen_id} at {erased_at}"],
    )
    return common.EXIT_OK
