"""The ``jati`` command line (DESIGN.md §4, "CLI").

Errors go to stderr as one clear line (a configuration error lists each problem) and the
exit status is non-zero; never a traceback. ``--json`` prints one JSON object on stdout.
A warning (the command still succeeds, exit status 0) goes to stderr as ``jati: warning:``
lines, and into that object's ``warnings`` when there is one (``client add``/``show``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from audit.errors import AuditError
from audit.records import EventFilter
from audit.storage.store import SqlAuditStore
from consent.errors import ConsentError
from identity.errors import ConfigurationError, IdentityError
from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.service.logging_setup import configure_logging
from identity.service.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader left

if TYPE_CHECKING:
    from audit.log import AuditLog
    from audit.pseudonym import SubjectPseudonymizer
    from consent.ledger import ConsentLedger
    from consent.purposes import Purpose as ConsentPurpose
    from consent.requests import RequestRegister
    from identity.citizens.service import CitizenService
    from identity.credentials.issuer import CredentialService
    from identity.oidc.clients import ClientRegistry, RelyingApp
    from identity.storage.database import Database
    from identity.storage.keys import SqlKeyStore

Handler = Callable[[argparse.Namespace, Settings], int]


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return port


def _forwarded_allow_ips(value: str) -> str:
    from identity.service.settings import parse_forwarded_allow_ips

    try:
        return parse_forwarded_allow_ips(value) or ""
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(value: str) -> int:
    workers = int(value)
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError("--workers is between 1 and 64")
    return workers


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), as for every error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"jati: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one call per command group
    parser = _Parser(prog="jati", description="Jati: digital identity with privacy safeguards.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service (zero configuration on SQLite)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--forwarded-allow-ips",
        type=_forwarded_allow_ips,
        metavar="IPS",
        help="reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or "
        "networks, * for every peer (default: JATI_FORWARDED_ALLOW_IPS, else none)",
    )
    serve.set_defaults(handler=_serve)
    _add_demo_command(commands)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=_db_upgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(handler=_db_current)
    grants = db.add_parser(
        "grants", help="print the PostgreSQL GRANTs for the application role (least privilege)"
    )
    grants.add_argument("--role", required=True, help="the role the service connects as")
    grants.add_argument("--schema", default="public", help="schema of Jati's tables")
    grants.set_defaults(handler=_db_grants)

    keys = commands.add_parser("keys", help="token signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    keys_list = keys.add_parser("list", help="signing keys: next, active, retired")
    keys_list.add_argument("--json", action="store_true", help="one JSON object on stdout")
    keys_list.set_defaults(handler=_keys_list)
    keys.add_parser(
        "rotate",
        help="for each algorithm: retire the active key, promote the next one, create a new "
        "next one",
    ).set_defaults(handler=_keys_rotate)

    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True, metavar="ACTION"
    )
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
    query = audit.add_parser("query", help="auditor query, streamed as JSON lines or CSV")
    who = query.add_mutually_exclusive_group()
    who.add_argument("--subject-pseudonym", metavar="P", help="the subject's audit pseudonym")
    who.add_argument("--subject-id", metavar="ID", help="the subject's internal id")
    who.add_argument("--subject", metavar="NIK", help="a registered citizen's NIK")
    query.add_argument("--actor", metavar="A", help="actor id (app, official, ...)")
    query.add_argument("--purpose", metavar="P", help="purpose code")
    query.add_argument("--since", type=_timestamp, metavar="T", help="from (ISO 8601, UTC default)")
    query.add_argument("--until", type=_timestamp, metavar="T", help="before (ISO 8601)")
    query.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    query.set_defaults(handler=_audit_query)
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

    _add_client_commands(commands)
    _add_citizen_commands(commands)
    _add_request_commands(commands)
    _add_consent_commands(commands)
    _add_credential_commands(commands)

    secrets_cmd = commands.add_parser("secrets", help="secret material").add_subparsers(
        dest="secrets_command", required=True, metavar="ACTION"
    )
    secrets_cmd.add_parser(
        "generate-master-key", help="print a new random master key for JATI_MASTER_KEY"
    ).set_defaults(handler=_generate_master_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        # Name each variable and what is wrong, never its value (it may be a secret).
        problems = "; ".join(
            f"JATI_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        print(f"jati: error: invalid settings: {problems}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except ConfigurationError as exc:
        print(f"jati: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (IdentityError, ConsentError, AuditError) as exc:
        print(f"jati: error: {_first_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`jati ... | head`): what is left unread is not an error. Point
        # stdout at /dev/null so that the interpreter's last flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except DBAPIError as exc:
        # The driver's own message, never the SQL statement (which may carry values).
        reason = _first_line(exc.orig) if exc.orig is not None else type(exc).__name__
        hint = (
            " (has `jati db upgrade` run?)"
            if "no such table" in reason or "does not exist" in reason
            else ""
        )
        print(f"jati: error: database error: {reason}{hint}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        logging.getLogger("jati.cli").debug("command failed", exc_info=exc)
        print(f"jati: error: {type(exc).__name__}: {_first_line(exc)[:300]}", file=sys.stderr)
        return EXIT_ERROR


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(line.strip() for line in text[:3]) if text else type(exc).__name__


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.server import ServeOptions, run

    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    run(settings, options)
    return EXIT_OK


def _add_demo_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    demo = commands.add_parser(
        "demo", help="development only: Jati with a demo citizen and an example relying app"
    )
    demo.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    demo.add_argument("--port", type=_port, default=8000, help="Jati's port (default 8000)")
    demo.add_argument("--app-port", type=_port, default=8001, help="the app's (default 8001)")
    demo.add_argument(
        "--setup-only", action="store_true", help="create the demo data, print it, do not serve"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.demo import DemoOptions, run

    options = DemoOptions(
        host=args.host, port=args.port, app_port=args.app_port, setup_only=args.setup_only
    )
    run(settings, options)
    return EXIT_OK


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.database import migrate
    from identity.storage.database import Database

    settings.check_production()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        before = migrate.current_revisions(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.current_revisions(database.engine)
    finally:
        database.dispose()
    if before == after:
        print(f"database already at {', '.join(sorted(after))}")
    else:
        print(f"database upgraded to {', '.join(sorted(after))}")
    return EXIT_OK


def _db_current(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.database import migrate
    from identity.storage.database import Database

    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        current = migrate.current_revisions(database.engine)
    finally:
        database.dispose()
    heads = migrate.head_revisions()
    state = "current" if current == heads else f"behind (code expects {', '.join(sorted(heads))})"
    print(json.dumps({"current": sorted(current), "state": state}))
    return EXIT_OK


def _key_store(settings: Settings) -> tuple[SqlKeyStore, Database]:
    from identity.keys.signing_keys import KeySealer
    from identity.storage.database import Database
    from identity.storage.keys import SqlKeyStore

    settings.check_production()
    master, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    return SqlKeyStore(database=database, sealer=KeySealer(master)), database


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from identity.keys.signing_keys import SUPPORTED_ALGORITHMS

    store, database = _key_store(settings)
    try:
        now = datetime.now(UTC)
        store.ensure(SUPPORTED_ALGORITHMS, now=now)
        keys = store.list_keys()
    finally:
        database.dispose()
    rows = [
        {
            "kid": k.kid,
            "alg": k.alg,
            "state": k.state.value,
            "published": k.published_at(now),
            "created_at": k.created_at.isoformat(),
            "publish_until": k.publish_until.isoformat() if k.publish_until else None,
        }
        for k in keys
    ]
    if args.json:
        print(json.dumps({"keys": rows}))
    else:
        for row in rows:
            until = f" until {row['publish_until']}" if row["publish_until"] else ""
            shown = "published" if row["published"] else "unpublished"
            print(f"{row['state']:<8} {row['alg']:<7} {row['kid']}  {shown}{until}")
    return EXIT_OK


def _keys_rotate(_args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from identity.keys.signing_keys import SUPPORTED_ALGORITHMS

    store, database = _key_store(settings)
    try:
        now = datetime.now(UTC)
        store.ensure(SUPPORTED_ALGORITHMS, now=now)
        store.rotate(
            SUPPORTED_ALGORITHMS,
            now=now,
            publish_for=timedelta(seconds=settings.token_lifetime + 60),
        )
        active = [k for k in store.list_keys() if k.state.value == "active"]
    finally:
        database.dispose()
    for key in active:
        print(f"active {key.alg:<7} {key.kid}")
    return EXIT_OK


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "use ISO 8601, e.g. 2026-11-28 or 2026-11-28T08:00:00+07:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _audit(
    settings: Settings,
) -> tuple[AuditLog, SqlAuditStore, Database, SubjectPseudonymizer]:
    from identity.service.wiring import build_audit_log
    from identity.storage.database import Database

    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
    assert isinstance(audit_log.store, SqlAuditStore)
    return audit_log, audit_log.store, database, pseudonymizer


def _audit_checkpoint(_args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli

    audit_log, _, database, _ = _audit(settings)
    try:
        audit_cli.checkpoint(audit_log, sys.stdout)
    finally:
        database.dispose()
    return EXIT_OK


def _audit_key(_args: argparse.Namespace, settings: Settings) -> int:
    audit_log, _, database, _ = _audit(settings)
    try:
        print(audit_log.vkey())
    finally:
        database.dispose()
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli
    from identity.service.wiring import witness_path

    paths = [Path(p) for p in args.checkpoint]
    if witness_path(settings).exists():
        paths.append(witness_path(settings))
    try:
        notes = [path.read_text(encoding="utf-8") for path in paths]
    except (OSError, UnicodeDecodeError) as exc:
        print(f"jati: error: cannot read checkpoint file: {exc}", file=sys.stderr)
        return EXIT_USAGE
    audit_log, store, database, _ = _audit(settings)
    try:
        report = audit_cli.verify(
            audit_log, store, sys.stdout, sys.stderr, external_checkpoints=notes
        )
    finally:
        database.dispose()
    return EXIT_OK if report.ok else EXIT_ERROR


def _audit_query(args: argparse.Namespace, settings: Settings) -> int:
    from audit import cli as audit_cli
    from identity.http.audit_access import AuditRecorder

    audit_log, store, database, pseudonymizer = _audit(settings)
    try:
        subject = args.subject_pseudonym
        if args.subject_id:
            subject = pseudonymizer.pseudonym(args.subject_id)
        if args.subject:
            subject = pseudonymizer.pseudonym(_citizen_id_for_nik(settings, database, args.subject))
        flt = EventFilter(
            subject=subject,
            actor_id=args.actor,
            purpose=args.purpose,
            since=args.since,
            until=args.until,
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
    finally:
        database.dispose()
    return EXIT_OK


def _audit_breach_report(args: argparse.Namespace, settings: Settings) -> int:
    """UU PDP Art. 46: the affected citizens of an actor's accesses in a window."""
    from audit import cli as audit_cli
    from audit.breach import BreachWindow
    from audit.records import auditor_query_entry
    from identity.http.audit_access import AuditRecorder, BreachContacts, citizen_ids_for
    from identity.service.wiring import build_audit_log
    from identity.storage.citizens import build_citizen_service
    from identity.storage.database import Database

    window = BreachWindow(actor_id=args.actor, since=args.since, until=args.until)
    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        audit_log, pseudonyms = build_audit_log(settings, database, master_key)
        citizens = build_citizen_service(settings, database, master_key, pseudonymizer=pseudonyms)
        operator = audit_cli.cli_actor()
        entry = auditor_query_entry(
            time=audit_log.clock(),
            actor=operator,
            resource="breach-report",
            filters=window.event_filter().names(),
        )
        AuditRecorder(database=database, appender=citizens.audit).record(entry)
        audit_cli.breach_report(
            audit_log,
            window,
            args.format,
            sys.stdout,
            sys.stderr,
            citizen_ids=lambda wanted: citizen_ids_for(
                wanted, database=database, pseudonymizer=pseudonyms
            ),
            contact=BreachContacts(citizens=citizens, actor=operator)
            if args.with_contact
            else None,
        )
    finally:
        database.dispose()
    return EXIT_OK


def _db_grants(args: argparse.Namespace, _settings: Settings) -> int:
    from identity.service.database.grants import application_role_grants

    try:
        statements = application_role_grants(args.role, args.schema)
    except ValueError as exc:
        print(f"jati: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(";\n".join(statements) + ";")
    return EXIT_OK


def _generate_master_key(_args: argparse.Namespace, _settings: Settings) -> int:
    from identity.keys.master_key import generate_master_key

    print(generate_master_key())
    return EXIT_OK


# ---------------------------------------------------------------- relying apps


def _add_client_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    client = commands.add_parser(
        "client", help="relying apps (OAuth 2.0 clients, RFC 6749 §2)"
    ).add_subparsers(dest="client_command", required=True, metavar="ACTION")
    add = client.add_parser(
        "add", help="register a relying app; prints its client_id (and a generated secret, once)"
    )
    add.add_argument("--name", required=True, help="the app's name, shown to citizens")
    add.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="extend",
        nargs="+",
        default=[],
        metavar="URI",
        help="an exact https redirect URI (http only on loopback); repeatable",
    )
    add.add_argument(
        "--scope",
        action="append",
        required=True,
        help='space-separated scopes, e.g. "openid profile email" (auditors: "audit:read")',
    )
    add.add_argument(
        "--grant-type",
        choices=("authorization_code", "client_credentials"),
        default="authorization_code",
        help="authorization_code (default) or client_credentials (auditor apps)",
    )
    add.add_argument(
        "--sector",
        metavar="HOST",
        help="sector identifier for pairwise subs (OIDC Core 8.1); default: the redirect "
        "URIs' host when they share one",
    )
    auth = add.add_mutually_exclusive_group()
    auth.add_argument(
        "--jwks-file",
        type=Path,
        metavar="FILE",
        help="the app's public JWK Set: it authenticates with private_key_jwt (RFC 7523)",
    )
    auth.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the client secret from stdin instead of generating one",
    )
    add.add_argument(
        "--token-endpoint-auth-method",
        # identity.oidc.clients.TokenEndpointAuthMethod's values (a test keeps them equal)
        choices=("client_secret_basic", "client_secret_post", "private_key_jwt"),
        metavar="METHOD",
        help="how the app authenticates (RFC 7591 2): client_secret_basic (default for a "
        "secret), client_secret_post (the secret in the form body, for libraries that "
        "default to it) or private_key_jwt (implied by --jwks-file)",
    )
    add.add_argument(
        "--purpose",
        dest="purposes",
        action="extend",
        nargs="+",
        default=[],
        metavar="CODE:BASIS",
        help="a purpose and its UU PDP Art. 20(2) legal basis (a-f); repeatable",
    )
    add.add_argument(
        "--claims",
        action="extend",
        nargs="+",
        metavar="CLAIM",
        help="narrow the claims the scopes allow (OIDC Core 5.4)",
    )
    add.add_argument(
        "--id-token-signed-response-alg",
        choices=ID_TOKEN_ALGORITHMS,
        metavar="ALG",
        help="the algorithm of the app's ID tokens (OIDC Registration 2): "
        f"{', '.join(ID_TOKEN_ALGORITHMS)}; RS256 for RS256-only libraries; default: the "
        "service's JATI_TOKEN_SIGNING_ALG",
    )
    add.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add.set_defaults(handler=_client_add)
    listing = client.add_parser("list", help="registered relying apps (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(handler=_client_list)
    show = client.add_parser("show", help="one relying app's registration")
    show.add_argument("client_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON object on stdout")
    show.set_defaults(handler=_client_show)


def _client_registry(settings: Settings) -> tuple[ClientRegistry, Database]:
    from identity.citizens.passwords import PasswordService
    from identity.oidc.clients import ClientRegistry
    from identity.storage.clients import SqlClientStore
    from identity.storage.database import Database

    settings.check_production()
    database = Database(settings.resolved_database_url, pool_size=1)
    registry = ClientRegistry(
        store=SqlClientStore(database=database),
        passwords=PasswordService(
            profile=settings.password_profile, production=settings.is_production
        ),
        clock=lambda: datetime.now(UTC),
    )
    return registry, database


#: Words the operator replaces in a suggested ``jati purpose add``. Pasted unedited, the
#: command is refused (``--basis BASIS``, ``--retention-days DAYS``): it never runs on a
#: legal basis Jati guessed.
_PURPOSE_PLACEHOLDERS = ("CODE", "BASIS", "DAYS", "TEXT")


@dataclass(frozen=True, slots=True)
class _Coverage:
    """What ``client add`` and ``client show`` say about the claims no purpose covers.

    RFC 7591 §3.2.1 lets the client information response carry members of its own; Jati
    adds ``claims_without_purpose`` (claim names) and ``warnings`` (always present, each
    ``{"kind", "claims", "message", "fix"}``, ``fix`` the commands to run, in order).
    """

    claims: tuple[str, ...]
    warnings: tuple[dict[str, Any], ...]

    def add_to(self, document: dict[str, Any]) -> dict[str, Any]:
        document["claims_without_purpose"] = list(self.claims)
        document["warnings"] = list(self.warnings)
        return document

    def print_warnings(self) -> None:
        for warning in self.warnings:
            print(f"jati: warning: {warning['message']}", file=sys.stderr)
            for command in warning["fix"]:
                print(f"jati: warning: fix: {command}", file=sys.stderr)


def _coverage(app: RelyingApp, purposes: Sequence[ConsentPurpose], *, notice: bool) -> _Coverage:
    """The app's claims that no purpose covers
    (:func:`identity.oidc.clients.claims_without_purpose`, UU PDP Art. 20(2)) and one warning naming
    them with the commands that fix it.

    The suggested ``jati purpose add`` lists the claims' data items (``phone_number`` is the
    item ``phone``), with the code and basis of the one purpose declared at registration
    when there is exactly one, placeholders otherwise. While the app has no notice and the
    basis may be consent, ``jati notice publish`` follows: a purpose on basis a is asked
    on the consent screen only under a published notice (Art. 21).
    """
    from audit.entry import LegalBasis
    from consent.purposes import CODE
    from identity.oidc.claims_release import CLAIM_FIELDS
    from identity.oidc.clients import claims_without_purpose

    claims = claims_without_purpose(app, purposes)
    if not claims:
        return _Coverage(claims=(), warnings=())
    code, basis, days, text = _PURPOSE_PLACEHOLDERS
    if len(app.purposes) == 1 and CODE.fullmatch(app.purposes[0].code):
        code, basis = app.purposes[0].code, app.purposes[0].legal_basis.value
    items = sorted({CLAIM_FIELDS[claim] for claim in claims})
    fix = [
        " ".join(
            [
                f"jati purpose add --client {app.client_id} --code {code} --basis {basis}",
                *(f"--item {item}" for item in items),
                f"--retention-days {days} --description-id {text}",
            ]
        )
    ]
    message = (
        f"no purpose covers the claims {', '.join(claims)} that the scopes ask for: Jati never "
        "releases them and the consent screen does not ask for them (UU PDP Art. 20(2))"
    )
    if not notice and basis in (LegalBasis.CONSENT.value, _PURPOSE_PLACEHOLDERS[1]):
        message += "; on basis a (consent), publish a notice too (UU PDP Art. 21)"
        fix.append(f"jati notice publish --client {app.client_id} --file FILE")
    warning = {
        "kind": "claims_without_purpose",
        "claims": list(claims),
        "message": message,
        "fix": fix,
    }
    return _Coverage(claims=claims, warnings=(warning,))


def _client_document(app: RelyingApp, settings: Settings) -> dict[str, Any]:
    """The app's RFC 7591 metadata, with the ID token algorithm in force for a code-flow app
    that registered none (the service's, OIDC Registration §2's default being Jati's)."""
    document = app.metadata()
    if app.response_types and app.id_token_signed_response_alg is None:
        document["id_token_signed_response_alg"] = settings.token_signing_alg
    return document


def _id_token_alg_row(app: RelyingApp, settings: Settings) -> list[tuple[str, str]]:
    if not app.response_types:  # client credentials: no ID token
        return []
    if app.id_token_signed_response_alg is not None:
        return [("id_token_signed_response_alg", app.id_token_signed_response_alg)]
    alg = settings.token_signing_alg
    return [("id_token_signed_response_alg", f"{alg} (the service's JATI_TOKEN_SIGNING_ALG)")]


def _client_lines(
    app: RelyingApp, coverage: _Coverage, settings: Settings, client_secret: str | None = None
) -> list[str]:
    rows = [("client_id", app.client_id)]
    if client_secret is not None:
        rows.append(("client_secret", client_secret))
    rows += [
        ("client_name", app.name),
        ("grant_types", " ".join(app.grant_types)),
        ("token_endpoint_auth_method", app.token_endpoint_auth_method.value),
        *_id_token_alg_row(app, settings),
        ("redirect_uris", " ".join(app.redirect_uris) or "-"),
        ("scope", app.scope),
        ("allowed_claims", " ".join(app.allowed_claims) or "-"),
        ("sector_identifier", app.sector_identifier or "-"),
        ("purposes", " ".join(str(p) for p in app.purposes) or "-"),
        ("claims_without_purpose", " ".join(coverage.claims) or "-"),
    ]
    if app.jwks is not None:
        rows.append(("jwks", " ".join(str(k.get("kid")) for k in app.jwks["keys"])))
    rows.append(("created_at", app.created_at.isoformat()))
    return [f"{name:<28} {value}" for name, value in rows]


def _client_add(args: argparse.Namespace, settings: Settings) -> int:
    from identity.oidc.clients import MAX_JWKS_BYTES, load_jwks

    jwks = None
    if args.jwks_file is not None:
        try:
            with args.jwks_file.open("rb") as file:
                raw = file.read(MAX_JWKS_BYTES + 1)
        except OSError as exc:
            print(f"jati: error: cannot read --jwks-file: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        jwks = load_jwks(raw)
    secret = None
    if args.secret_stdin:
        secret = sys.stdin.readline(4096).rstrip("\r\n")
        if not secret:
            print("jati: error: --secret-stdin: no client secret on stdin", file=sys.stderr)
            return EXIT_USAGE
    registry, database = _client_registry(settings)
    try:
        registration = registry.register(
            name=args.name,
            scope=args.scope,
            redirect_uris=args.redirect_uris,
            grant_type=args.grant_type,
            sector_identifier=args.sector,
            jwks=jwks,
            client_secret=secret,
            purposes=args.purposes,
            claims=args.claims,
            id_token_signed_response_alg=args.id_token_signed_response_alg,
            token_endpoint_auth_method=args.token_endpoint_auth_method,
        )
    finally:
        database.dispose()
    app, generated = registration.app, registration.client_secret
    coverage = _coverage(app, (), notice=False)  # a new app: no purpose, no notice yet
    if args.json:
        document = _client_document(app, settings)
        if generated is not None:
            document["client_secret"] = generated
            document["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: does not expire
        print(json.dumps(coverage.add_to(document)))
    else:
        print("\n".join(_client_lines(app, coverage, settings, generated)))
        if generated is not None:
            print("Keep the client_secret now: it is shown only once (Jati stores its hash).")
    coverage.print_warnings()  # a warning, not an error: the app is registered
    return EXIT_OK


def _client_list(args: argparse.Namespace, settings: Settings) -> int:
    registry, database = _client_registry(settings)
    try:
        apps = registry.list()
    finally:
        database.dispose()
    if args.json:
        print(json.dumps({"clients": [_client_document(app, settings) for app in apps]}))
    else:
        for app in apps:
            print(
                f"{app.client_id}  {app.token_endpoint_auth_method.value:<19} "
                f"{app.grant_types[0].value:<18} {app.name}"
            )
    return EXIT_OK


def _client_show(args: argparse.Namespace, settings: Settings) -> int:
    from consent.storage.ledger import SqlLedgerStore

    registry, database = _client_registry(settings)
    try:
        app = registry.get(args.client_id)
        with SqlLedgerStore(database=database).read() as ledger:
            purposes = ledger.purposes(app.client_id)
            notice = ledger.current_notice(app.client_id) is not None
    finally:
        database.dispose()
    coverage = _coverage(app, purposes, notice=notice)
    if args.json:
        print(json.dumps(coverage.add_to(_client_document(app, settings))))
    else:
        print("\n".join(_client_lines(app, coverage, settings)))
    coverage.print_warnings()
    return EXIT_OK


# ---------------------------------------------------------------- citizens


def _birthdate(value: str) -> date:
    """``YYYY-MM-DD`` exactly (the message never repeats the value: it is personal data)."""
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a real date as YYYY-MM-DD") from None


def _add_citizen_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    citizen = commands.add_parser(
        "citizen", help="citizens (personal data encrypted at rest, UU PDP Art. 35)"
    ).add_subparsers(dest="citizen_command", required=True, metavar="ACTION")
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
    add.add_argument("--json", action="store_true", help="one JSON object on stdout")
    add.set_defaults(handler=_citizen_add)
    erase = citizen.add_parser(
        "erase",
        help="erase a citizen's personal data (destroys the data key, keeps a tombstone)",
    )
    erase.add_argument("citizen_id", metavar="ID")
    erase.add_argument("--json", action="store_true", help="one JSON object on stdout")
    erase.set_defaults(handler=_citizen_erase)


def _citizen_id_for_nik(settings: Settings, database: Database, nik: str) -> str:
    """The internal id behind a NIK, through the blind index (nothing is decrypted)."""
    from identity.citizens.field_crypto import FieldCipher
    from identity.citizens.service import NikNotRegistered
    from identity.storage.citizens import SqlCitizenStore

    master_key, _ = settings.load_master_key(create=False)
    with SqlCitizenStore(database=database).read() as tx:
        found = tx.find_by_nik_index(FieldCipher(master_key).nik_index(nik.strip()))
    if found is None:
        raise NikNotRegistered()
    return found.id


#: Who acts when an operator runs ``jati citizen ...`` (recorded in the audit log).
_CLI_ACTOR_ID = "jati-cli"


def _citizen_service(settings: Settings) -> tuple[CitizenService, Database]:
    from identity.service.wiring import build_audit_log
    from identity.storage.citizens import build_citizen_service
    from identity.storage.database import Database

    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    _, pseudonymizer = build_audit_log(settings, database, master_key)
    service = build_citizen_service(settings, database, master_key, pseudonymizer=pseudonymizer)
    return service, database


def _citizen_add(args: argparse.Namespace, settings: Settings) -> int:
    from audit.entry import Actor, ActorKind

    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        print("jati: error: no password on stdin (one line)", file=sys.stderr)
        return EXIT_USAGE
    service, database = _citizen_service(settings)
    try:
        citizen_id = service.register(
            nik=args.nik,
            name=args.name,
            birthdate=args.birthdate,
            password=password,
            email=args.email,
            phone=args.phone,
            address=args.address,
            actor=Actor(kind=ActorKind.SYSTEM, id=_CLI_ACTOR_ID),
        )
    finally:
        database.dispose()
    print(json.dumps({"id": citizen_id}) if args.json else citizen_id)
    return EXIT_OK


def _citizen_erase(args: argparse.Namespace, settings: Settings) -> int:
    from audit.entry import Actor, ActorKind

    service, database = _citizen_service(settings)
    try:
        tombstone = service.erase(
            args.citizen_id, actor=Actor(kind=ActorKind.SYSTEM, id=_CLI_ACTOR_ID)
        )
    finally:
        database.dispose()
    credentials, database = _credential_service(settings)
    try:  # UU PDP Art. 43/44: nothing of the citizen stays usable (DESIGN.md §3)
        credentials.revoke_all_for(tombstone.citizen_id)
    finally:
        database.dispose()
    erased_at = tombstone.erased_at.isoformat()
    if args.json:
        print(json.dumps({"id": tombstone.citizen_id, "erased_at": erased_at}))
    else:
        print(f"erased {tombstone.citizen_id} at {erased_at}")
    return EXIT_OK


# ---------------------------------------------------------------- data-subject requests


def _add_request_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    from consent.requests import RequestStatus

    requests = commands.add_parser(
        "requests", help="the register of data-subject requests (UU PDP Art. 14)"
    ).add_subparsers(dest="requests_command", required=True, metavar="ACTION")
    overdue = requests.add_parser(
        "overdue", help="requests past their statutory due-by (72 h) and not completed"
    )
    overdue.add_argument("--json", action="store_true", help="one JSON object on stdout")
    overdue.set_defaults(handler=_requests_overdue)
    listing = requests.add_parser("list", help="requests, newest first")
    listing.add_argument("--status", choices=[s.value for s in RequestStatus])
    listing.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N (default 100)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(handler=_requests_list)


def _request_register(settings: Settings) -> tuple[RequestRegister, Database]:
    from consent.requests import RequestRegister
    from consent.storage.requests import SqlRequestStore
    from identity.storage.database import Database

    settings.check_production()
    database = Database(settings.resolved_database_url, pool_size=1)
    register = RequestRegister(
        store=SqlRequestStore(database=database), clock=lambda: datetime.now(UTC)
    )
    return register, database


def _requests_overdue(args: argparse.Namespace, settings: Settings) -> int:
    """Ids, kinds and times only: the register holds no personal data, nor does this."""
    register, database = _request_register(settings)
    try:
        now = register.clock()
        late = register.overdue()
    finally:
        database.dispose()
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
    if args.json:
        print(json.dumps({"now": now.isoformat(), "overdue": rows}))
    elif not rows:
        print("no overdue requests")
    else:
        for row in rows:
            print(
                f"{row['id']}  {row['kind']:<11}  received {row['received_at']}  "
                f"due {row['due_by']}  {row['hours_late']} h late"
            )
    return EXIT_OK


def _requests_list(args: argparse.Namespace, settings: Settings) -> int:
    register, database = _request_register(settings)
    try:
        found = register.listing(status=args.status, limit=args.limit)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps({"requests": [r.to_json_dict() for r in found]}))
    else:
        for r in found:
            due = r.due_by.isoformat() if r.due_by else "-"
            done = r.completed_at.isoformat() if r.completed_at else "-"
            print(
                f"{r.id}  {r.kind.value:<11}  {r.status.value:<9}  received "
                f"{r.received_at.isoformat()}  due {due}  completed {done}"
            )
    return EXIT_OK


# ------------------------------------------------------------------ consent ledger


def _add_consent_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    from consent.cli import add_commands

    add_commands(
        commands,
        {
            "purpose_add": _purpose_add,
            "purpose_list": _purpose_list,
            "notice_publish": _notice_publish,
            "notice_show": _notice_show,
            "consent_expire": _consent_expire,
        },
    )


def _consent_ledger(settings: Settings) -> tuple[ConsentLedger, Database]:
    from audit.storage.store import SqlAuditStore
    from identity.service.wiring import build_audit_log, build_consent
    from identity.storage.database import Database

    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    _, pseudonymizer = build_audit_log(settings, database, master_key)
    ledger, _ = build_consent(
        settings, database, SqlAuditStore(engine=database.engine), pseudonymizer
    )
    return ledger, database


def _known_client(settings: Settings, client_id: str) -> RelyingApp:
    registry, database = _client_registry(settings)
    try:
        return registry.get(client_id)
    finally:
        database.dispose()


def _purpose_add(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import check_declared, purpose_from_args

    purpose = purpose_from_args(args)
    app = _known_client(settings, args.client)
    check_declared(purpose, {p.code: p.legal_basis for p in app.purposes})
    ledger, database = _consent_ledger(settings)
    try:
        ledger.register_purpose(purpose)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps({"app_id": args.client, "purpose": purpose.to_json()}))
    else:
        print(f"purpose {purpose.code} registered for {args.client}")
    return EXIT_OK


def _purpose_list(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import print_purposes

    ledger, database = _consent_ledger(settings)
    try:
        print_purposes(ledger.purposes(args.client), as_json=args.json, out=sys.stdout)
    finally:
        database.dispose()
    return EXIT_OK


def _notice_publish(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import load_notice, publish_notice

    load_notice(args.file)  # a bad file is refused before anything is opened
    _known_client(settings, args.client)
    ledger, database = _consent_ledger(settings)
    try:
        publish_notice(ledger, args.client, args.file, as_json=args.json, out=sys.stdout)
    finally:
        database.dispose()
    return EXIT_OK


def _notice_show(args: argparse.Namespace, settings: Settings) -> int:
    from consent.cli import show_notice

    ledger, database = _consent_ledger(settings)
    try:
        if not show_notice(ledger, args.client, out=sys.stdout):
            print(f"jati: error: no notice published for {args.client}", file=sys.stderr)
            return EXIT_ERROR
    finally:
        database.dispose()
    return EXIT_OK


def _consent_expire(_args: argparse.Namespace, settings: Settings) -> int:
    ledger, database = _consent_ledger(settings)
    try:
        expired = ledger.expire_due()
    finally:
        database.dispose()
    print(f"{expired} grant(s) expired")
    return EXIT_OK


# ---------------------------------------------------------------- credentials (SD-JWT VC)


def _add_credential_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    credential = commands.add_parser(
        "credential", help="issued SD-JWT VC identity credentials and their status"
    ).add_subparsers(dest="credential_command", required=True, metavar="ACTION")
    listing = credential.add_parser("list", help="a citizen's credentials, newest first")
    listing.add_argument("--citizen", required=True, metavar="ID", help="the citizen id")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(handler=_credential_list)
    for action, text in (
        ("revoke", "revoke for good (status list: INVALID); verifiers refuse it"),
        ("suspend", "suspend (status list: SUSPENDED) until reinstated"),
        ("reinstate", "make a suspended credential valid again"),
    ):
        command = credential.add_parser(action, help=text)
        command.add_argument("credential_id", metavar="ID")
        command.add_argument("--json", action="store_true", help="one JSON object on stdout")
        command.set_defaults(handler=_credential_change, action=action)


def _credential_service(settings: Settings) -> tuple[CredentialService, Database]:
    from audit.storage.store import SqlAuditStore
    from consent.gate import CachedConsentRecords
    from identity.keys.signing_keys import KeySealer
    from identity.oidc.tokens import ActiveSigner
    from identity.service.wiring import build_audit_log, build_consent, build_credentials
    from identity.storage.database import Database
    from identity.storage.keys import SqlKeyStore

    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    database = Database(settings.resolved_database_url, pool_size=1)
    audit_log, pseudonymizer = build_audit_log(settings, database, master_key)
    audit = SqlAuditStore(engine=database.engine)
    ledger, gate = build_consent(settings, database, audit, pseudonymizer)
    key_store = SqlKeyStore(database=database, sealer=KeySealer(master_key))
    service = build_credentials(
        settings,
        database,
        master_key,
        signer=ActiveSigner(key_store.active, settings.token_signing_alg).current,
        audit=audit,
        pseudonymizer=pseudonymizer,
        grants=CachedConsentRecords(ledger=ledger, gate=gate),
        clock=audit_log.clock,
    )
    return service, database


def _credential_list(args: argparse.Namespace, settings: Settings) -> int:
    from identity.credentials.issuer import credential_summary

    service, database = _credential_service(settings)
    try:
        found = [credential_summary(c) for c in service.of_citizen(args.citizen)]
    finally:
        database.dispose()
    if args.json:
        print(json.dumps({"citizen_id": args.citizen, "credentials": found}))
        return EXIT_OK
    if not found:
        print("no credentials")
    for c in found:
        print(f"{c['id']}  {c['state']:<9}  {c['client_id']}  issued {c['issued_at']}")
    return EXIT_OK


def _credential_change(args: argparse.Namespace, settings: Settings) -> int:
    from identity.credentials.issuer import ChangeReason, credential_summary

    service, database = _credential_service(settings)
    try:
        change = {
            "revoke": service.revoke,
            "suspend": service.suspend,
            "reinstate": service.reinstate,
        }[args.action]
        credential = change(args.credential_id, reason=ChangeReason.OPERATOR)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps(credential_summary(credential)))
    else:
        print(f"credential {credential.id} is {credential.state.value}")
    return EXIT_OK
