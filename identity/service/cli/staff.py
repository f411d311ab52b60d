"""``jati staff add|list|disable|reset-access``: the console's people (issue 20), apart from
citizens: operators, data protection officers (scoped to their controller's apps) and
auditors. ``add`` and ``reset-access`` print an activation code once; the staff member
activates at ``/console/activate`` with a password and an authenticator app (mandatory).
Every change is an audit entry whose actor is the operator at the command line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from identity.staff.accounts import StaffAccounts
    from identity.staff.records import StaffMember

_SHOWN_ONCE = (
    "The activation code is shown only this once (Jati keeps only its hash): give it to the "
    "staff member in person. With it and their email they activate their account at "
    "/console/activate before it expires; `jati staff reset-access ID` issues a new one."
)


def add_commands(commands: common.Commands) -> None:
    staff = common.add_group(
        commands, "staff", "the console's operators, data protection officers and auditors"
    )
    add = staff.add_parser("add", help="a staff account; prints its activation code, once")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=("operator", "dpo", "auditor"))
    add.add_argument(
        "--app", action="append", default=[], dest="apps", metavar="CLIENT_ID",
        help="a relying app a data protection officer answers for; repeatable",
    )  # fmt: skip
    common.add_json_option(add)
    add.set_defaults(handler=_add)
    listing = staff.add_parser("list", help="staff accounts (never a secret)")
    common.add_json_option(listing)
    listing.set_defaults(handler=_list)
    for name, handler, text in (
        ("disable", _disable, "disable an account for good and end its sessions"),
        ("reset-access", _reset, "new activation code; password, second factor, sessions go"),
    ):
        command = staff.add_parser(name, help=text)
        command.add_argument("staff_id", metavar="ID")
        common.add_json_option(command)
        command.set_defaults(handler=handler)


@contextmanager
def _accounts(settings: Settings) -> Iterator[StaffAccounts]:
    from identity.citizens.passwords import PasswordService
    from identity.service.cli.clients import registry_on
    from identity.service.factories import build_staff

    with common.checked_database_and_key(settings) as (database, master_key):
        passwords = PasswordService(
            profile=settings.password_profile, production=settings.is_production
        )
        registry = registry_on(settings, database)
        accounts, _sessions = build_staff(
            settings, database, master_key, passwords=passwords, app_exists=registry.exists
        )
        yield accounts


def _document(member: StaffMember) -> dict[str, object]:
    state = "disabled" if member.disabled_at else "active" if member.active else "not activated"
    return {
        "id": member.id, "name": member.name, "email": member.email, "role": member.role.value,
        "apps": list(member.apps), "state": state, "created_at": member.created_at.isoformat(),
    }  # fmt: skip


def _print_code(args: argparse.Namespace, member: StaffMember, code: str) -> None:
    common.print_result(
        args.json,
        {**_document(member), "activation_code": code},
        [f"{'id':<16} {member.id}", f"{'activation_code':<16} {code}", _SHOWN_ONCE],
    )


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from audit.cli import cli_actor

    with _accounts(settings) as accounts:
        member, code = accounts.add(
            name=args.name, email=args.email, role=args.role, apps=args.apps, actor=cli_actor()
        )
    _print_code(args, member, code)
    return common.EXIT_OK


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with _accounts(settings) as accounts:
        members = accounts.list()
    documents = [_document(m) for m in members]
    common.print_result(
        args.json,
        {"staff": documents},
        [f"{d['id']}  {d['role']:<8} {d['state']:<14} {d['email']}" for d in documents],
    )
    return common.EXIT_OK


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    from audit.cli import cli_actor

    with _accounts(settings) as accounts:
        member = accounts.disable(args.staff_id, actor=cli_actor())
    common.print_result(args.json, _document(member), [f"{member.id} disabled"])
    return common.EXIT_OK


def _reset(args: argparse.Namespace, settings: Settings) -> int:
    from audit.cli import cli_actor

    with _accounts(settings) as accounts:
        code = accounts.reset_access(args.staff_id, actor=cli_actor())
        member = accounts.get(args.staff_id)
    _print_code(args, member, code)
    return common.EXIT_OK
