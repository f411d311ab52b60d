"""``jati citizen add|erase``: citizens, whose personal data is encrypted at rest
(UU PDP Art. 35) and erased by destroying its data key (Art. 43/44)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from identity.service.cli import common, credentials
from identity.service.settings import Settings

if TYPE_CHECKING:
    from identity.citizens.service import CitizenService
    from identity.storage.database import Database


def _birthdate(value: str) -> date:
    """``YYYY-MM-DD`` exactly (the message never repeats the value: it is personal data)."""
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a real date as YYYY-MM-DD") from None


def add_commands(commands: common.Commands) -> None:
    citizen = common.add_group(
        commands, "citizen", "citizens (personal data encrypted at rest, UU PDP Art. 35)"
    )
    add = citizen.add_parser("add", help="register a citizen; prints its id")
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
        required=True,
        help="read the citizen's password from the first line of stdin",
    )
    common.add_json_option(add)
    add.set_defaults(handler=_citizen_add)
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


@contextmanager
def _citizen_service(settings: Settings) -> Iterator[CitizenService]:
    from identity.service.factories import build_audit_log, build_citizen_service

    with common.checked_database_and_key(settings) as (database, master_key):
        _, pseudonymizer = build_audit_log(settings, database, master_key)
        yield build_citizen_service(settings, database, master_key, pseudonymizer=pseudonymizer)


def _citizen_add(args: argparse.Namespace, settings: Settings) -> int:
    from audit.entry import Actor, ActorKind

    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise common.UsageError("no password on stdin (one line)")
    with _citizen_service(settings) as service:
        citizen_id = service.register(
            **common.options(args, "nik", "name", "birthdate", "email", "phone", "address"),
            password=password,
            actor=Actor(kind=ActorKind.SYSTEM, id=_CLI_ACTOR_ID),
        )
    common.print_result(args.json, {"id": citizen_id}, [citizen_id])
    return common.EXIT_OK


def _citizen_erase(args: argparse.Namespace, settings: Settings) -> int:
    from audit.entry import Actor, ActorKind

    with _citizen_service(settings) as service:
        tombstone = service.erase(
            args.citizen_id, actor=Actor(kind=ActorKind.SYSTEM, id=_CLI_ACTOR_ID)
        )
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
