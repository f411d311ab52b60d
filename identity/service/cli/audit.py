"""``jati audit checkpoint|key|verify|query|breach-report``: the tamper-evident audit log,
read by an operator or an auditor; every query is itself recorded before any output."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audit.entry import LegalBasis
from audit.records import EventFilter
from audit.storage.store import SqlAuditStore
from identity.service.audit_verification import VerificationResult, record_result
from identity.service.cli import citizens, common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from audit.log import AuditLog
    from audit.pseudonym import SubjectPseudonymizer
    from identity.storage.database import Database


def add_commands(commands: common.Commands) -> None:
    audit = common.add_group(commands, "audit", "the tamper-evident audit log")
    audit.add_parser(
        "checkpoint", help="integrate queued entries and print the latest signed checkpoint"
    ).set_defaults(handler=_audit_checkpoint)
    audit.add_parser("key", help="print the checkpoint verifier key (C2SP vkey)").set_defaults(
        handler=_audit_key
    )
    verify = audit.add_parser(
        "verify", help="recompute the whole log and check it against every checkpoint"
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a signed checkpoint kept outside the database (repeatable); "
        "<data dir>/audit-checkpoint.note is always used when present",
    )
    verify.set_defaults(handler=_audit_verify)
    _add_query_command(audit)
    _add_breach_report_command(audit)


def _add_query_command(audit: common.Commands) -> None:
    query = audit.add_parser("query", help="auditor query, streamed as JSON lines or CSV")
    who = query.add_mutually_exclusive_group()
    who.add_argument("--subject-pseudonym", metavar="P", help="the subject's audit pseudonym")
    who.add_argument("--subject-id", metavar="ID", help="the subject's internal id")
    who.add_argument("--subject", metavar="NIK", help="a registered citizen's NIK")
    query.add_argument("--actor", metavar="A", help="actor id (app, official, ...)")
    query.add_argument("--purpose", metavar="P", help="purpose code")
    query.add_argument(
        "--legal-basis",
        choices=[basis.value for basis in LegalBasis],
        help="UU PDP Art. 20(2) basis: a consent, b contract, c legal obligation, "
        "d vital interest, e public task, f legitimate interest",
    )
    query.add_argument("--since", type=_timestamp, metavar="T", help="from (ISO 8601, UTC default)")
    query.add_argument("--until", type=_timestamp, metavar="T", help="before (ISO 8601)")
    query.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    query.set_defaults(handler=_audit_query)


def _add_breach_report_command(audit: common.Commands) -> None:
    breach = audit.add_parser(
        "breach-report",
        help="the citizens and data items an actor accessed in a window (UU PDP Art. 46)",
    )
    breach.add_argument("--actor", required=True, metavar="A", help="the actor's id")
    breach.add_argument(
        "--since", required=True, type=_timestamp, metavar="T", help="from (ISO 8601)"
    )
    breach.add_argument(
        "--until", required=True, type=_timestamp, metavar="T", help="before (ISO 8601)"
    )
    breach.add_argument("--format", choices=("json", "csv"), default="json")
    breach.add_argument(
        "--with-contact",
        action="store_true",
        help="add each citizen's email and phone for the notice (each read is audited)",
    )
    breach.set_defaults(handler=_audit_breach_report)


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "use ISO 8601, e.g. 2026-11-28 or 2026-11-28T08:00:00+07:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def _audit(
    settings: Settings,
) -> Iterator[tuple[AuditLog, SqlAuditStore, Database, SubjectPseudonymizer]]:
    from identity.service.factories import build_audit_log

    with common.checked_database_and_key(settings) as (database, master_key):
        audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
        assert isinstance(audit_log.store, SqlAuditStore)
        yield audit_log, audit_log.store, database, pseudonymizer


def _audit_checkpoint(_args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli

    with _audit(settings) as (audit_log, _, _, _):
        audit_cli.checkpoint(audit_log, sys.stdout)
    return common.EXIT_OK


def _audit_key(_args: argparse.Namespace, settings: Settings) -> int:
    with _audit(settings) as (audit_log, _, _, _):
        print(audit_log.vkey())
    return common.EXIT_OK


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli
    from identity.service.factories import witness_path

    paths = [Path(p) for p in args.checkpoint]
    if witness_path(settings).exists():
        paths.append(witness_path(settings))
    try:
        notes = [path.read_text(encoding="utf-8") for path in paths]
    except (OSError, UnicodeDecodeError) as exc:
        raise common.UsageError(f"cannot read checkpoint file: {exc}") from None
    with _audit(settings) as (audit_log, store, _, _):
        started = time.perf_counter()
        report = audit_cli.verify(
            audit_log, store, sys.stdout, sys.stderr, external_checkpoints=notes
        )
        finished = VerificationResult.of(report, audit_log.clock(), time.perf_counter() - started)
    if not args.checkpoint:  # a run against the host's own log: the service shows it too
        with contextlib.suppress(OSError):
            record_result(settings.data_dir, finished)
    return common.EXIT_OK if report.ok else common.EXIT_ERROR


def _audit_query(args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli
    from identity.storage.auditor_lookup import AuditRecorder

    with _audit(settings) as (audit_log, store, database, pseudonymizer):
        subject = args.subject_pseudonym
        if args.subject_id:
            subject = pseudonymizer.pseudonym(args.subject_id)
        if args.subject:
            subject = pseudonymizer.pseudonym(
                citizens.citizen_id_for_nik(settings, database, args.subject)
            )
        flt = EventFilter(
            subject=subject,
            actor_id=args.actor,
            purpose=args.purpose,
            since=args.since,
            until=args.until,
            legal_basis=args.legal_basis,
        )
        given_as = (
            "nik" if args.subject else "subject-id" if args.subject_id else
            "subject" if args.subject_pseudonym else None
        )  # fmt: skip
        entry = audit_cli.query_entry(
            audit_log, flt, actor=audit_cli.cli_actor(), subject_given_as=given_as
        )
        AuditRecorder(database=database, appender=store).record(entry)  # before any output
        audit_cli.query(audit_log, flt, args.format, sys.stdout, sys.stderr)
    return common.EXIT_OK


def _audit_breach_report(args: argparse.Namespace, settings: Settings) -> int:
    """UU PDP Art. 46: the affected citizens of an actor's accesses in a window."""
    from audit import cli as audit_cli
    from audit.breach import BreachWindow
    from audit.records import auditor_query_entry
    from identity.citizens.auditor_lookup import BreachContacts
    from identity.service.factories import build_audit_log, build_citizen_service
    from identity.storage.auditor_lookup import AuditRecorder, citizen_ids_for

    window = BreachWindow(actor_id=args.actor, since=args.since, until=args.until)
    with common.checked_database_and_key(settings) as (database, master_key):
        audit_log, pseudonyms = build_audit_log(settings, database, master_key)
        people = build_citizen_service(settings, database, master_key, pseudonymizer=pseudonyms)
        operator = audit_cli.cli_actor()
        entry = auditor_query_entry(
            time=audit_log.clock(),
            actor=operator,
            resource="breach-report",
            filters=window.event_filter().names(),
        )
        AuditRecorder(database=database, appender=people.audit).record(entry)
        audit_cli.breach_report(
            audit_log,
            window,
            args.format,
            sys.stdout,
            sys.stderr,
            citizen_ids=lambda wanted: citizen_ids_for(
                wanted, database=database, pseudonymizer=pseudonyms
            ),
            contact=BreachContacts(citizens=people, actor=operator) if args.with_contact else None,
        )
    return common.EXIT_OK
