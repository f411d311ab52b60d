"""``jati requests overdue|list``: the register of data-subject requests (UU PDP Art. 14),
which holds ids, kinds and times, no personal data."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from consent.requests.records import SubjectRequest
    from consent.requests.register import RequestRegister


def add_commands(commands: common.Commands) -> None:
    from consent.requests.records import RequestStatus

    requests = common.add_group(
        commands, "requests", "the register of data-subject requests (UU PDP Art. 14)"
    )
    overdue = requests.add_parser(
        "overdue", help="requests past their statutory due-by (72 h) and not completed"
    )
    common.add_json_option(overdue)
    overdue.set_defaults(handler=_requests_overdue)
    listing = requests.add_parser("list", help="requests, newest first")
    listing.add_argument("--status", choices=[s.value for s in RequestStatus])
    listing.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N (default 100)"
    )
    common.add_json_option(listing)
    listing.set_defaults(handler=_requests_list)


@contextmanager
def _request_register(settings: Settings) -> Iterator[RequestRegister]:
    from consent.requests.register import RequestRegister
    from consent.storage.requests import SqlRequestStore

    with common.checked_database(settings) as database:
        yield RequestRegister(
            store=SqlRequestStore(database=database), clock=lambda: datetime.now(UTC)
        )


def _requests_overdue(args: argparse.Namespace, settings: Settings) -> int:
    """Ids, kinds and times only: the register holds no personal data, nor does this."""
    with _request_register(settings) as register:
        now = register.clock()
        late = register.overdue()
    rows = [
        {
            "id": r.id,
            "kind": r.kind.value,
            "status": r.status.value,
            "received_at": r.received_at.isoformat(),
            "due_by": r.due_by.isoformat() if r.due_by else None,
            "hours_late": round(r.hours_late(now), 1),
        }
        for r in late
    ]
    lines = [
        f"{row['id']}  {row['kind']:<11}  received {row['received_at']}  "
        f"due {row['due_by']}  {row['hours_late']} h late"
        for row in rows
    ]
    document = {"now": now.isoformat(), "overdue": rows}
    common.print_result(args.json, document, lines or ["no overdue requests"])
    return common.EXIT_OK


def _requests_list(args: argparse.Namespace, settings: Settings) -> int:
    with _request_register(settings) as register:
        found = register.listing(status=args.status, limit=args.limit)
    document = {"requests": [r.to_json_dict() for r in found]}
    common.print_result(args.json, document, map(_request_line, found))
    return common.EXIT_OK


def _request_line(r: SubjectRequest) -> str:
    due = r.due_by.isoformat() if r.due_by else "-"
    done = r.completed_at.isoformat() if r.completed_at else "-"
    to = f"  to {r.client_id}" if r.client_id else ""  # an app's controller
    return (
        f"{r.id}  {r.kind.value:<11}  {r.status.value:<9}  received "
        f"{r.received_at.isoformat()}  due {due}  completed {done}{to}"
    )
