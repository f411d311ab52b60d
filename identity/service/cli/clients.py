"""``jati client add|list|show|set-redirect-uris|disable|enable``: relying apps (OAuth 2.0
clients), their registration as RFC 7591 metadata, and a warning naming the claims no
purpose covers (UU PDP Art. 20(2)); the same edits as the console's app page."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from consent.purposes import Purpose as ConsentPurpose
    from identity.oidc.client_registry import ClientRegistry
    from identity.oidc.clients import RelyingApp
    from identity.storage.database import Database


def add_commands(commands: common.Commands) -> None:
    client = common.add_group(commands, "client", "relying apps (OAuth 2.0 clients, RFC 6749 §2)")
    _add_add_command(client)
    listing = client.add_parser("list", help="registered relying apps (never their secrets)")
    common.add_json_option(listing)
    listing.set_defaults(handler=_client_list)
    show = client.add_parser("show", help="one relying app's registration")
    show.add_argument("client_id", metavar="ID")
    common.add_json_option(show)
    show.set_defaults(handler=_client_show)
    uris = client.add_parser(
        "set-redirect-uris", help="replace an app's redirect URIs (its sector and subs stay)"
    )
    uris.add_argument("client_id", metavar="ID")
    _add_list_option(uris, "--redirect-uri", "redirect_uris", "URI",
                     "an exact https redirect URI (http only on loopback); repeatable")  # fmt: skip
    common.add_json_option(uris)
    uris.set_defaults(handler=_client_set_redirect_uris)
    for name, words in (("disable", "take an app out of service; revokes its refresh tokens"),
                        ("enable", "put a disabled app back in service")):  # fmt: skip
        state = client.add_parser(name, help=words)
        state.add_argument("client_id", metavar="ID")
        common.add_json_option(state)
        state.set_defaults(handler=_client_disable if name == "disable" else _client_enable)


def _add_add_command(client: common.Commands) -> None:
    add = client.add_parser(
        "add", help="register a relying app; prints its client_id (and a generated secret, once)"
    )
    add.add_argument("--name", required=True, help="the app's name, shown to citizens")
    _add_list_option(
        add,
        "--redirect-uri",
        "redirect_uris",
        "URI",
        "an exact https redirect URI (http only on loopback); repeatable",
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
    _add_authentication_options(add)
    _add_list_option(
        add,
        "--purpose",
        "purposes",
        "CODE:BASIS",
        "a purpose and its UU PDP Art. 20(2) legal basis (a-f); repeatable",
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
    common.add_json_option(add)
    add.set_defaults(handler=_client_add)


def _add_authentication_options(add: argparse.ArgumentParser) -> None:
    """How the app authenticates at the token endpoint: a JWK Set or a secret (generated
    unless given on stdin), and the method."""
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


def _add_list_option(
    parser: argparse.ArgumentParser, flag: str, dest: str, metavar: str, summary: str
) -> None:
    """An option of one or more values, repeatable: ``dest`` lists the values of every use."""
    parser.add_argument(
        flag, dest=dest, action="extend", nargs="+", default=[], metavar=metavar, help=summary
    )


@contextmanager
def client_registry(settings: Settings) -> Iterator[ClientRegistry]:
    """The relying apps' registry, on the database until the block ends."""
    with common.checked_database(settings) as database:
        yield registry_on(settings, database)


def registry_on(settings: Settings, database: Database) -> ClientRegistry:
    from identity.citizens.passwords import PasswordService
    from identity.oidc.client_registry import ClientRegistry
    from identity.storage.clients import SqlClientStore

    return ClientRegistry(
        store=SqlClientStore(database=database),
        passwords=PasswordService(
            profile=settings.password_profile, production=settings.is_production
        ),
        clock=lambda: datetime.now(UTC),
    )


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
    if app.disabled_at is not None:  # Jati's own member: out of service since then
        document["disabled_at"] = app.disabled_at.isoformat().replace("+00:00", "Z")
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
        *([("disabled_at", app.disabled_at.isoformat())] if app.disabled_at else []),
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


def _jwks_from_file(path: Path) -> dict[str, Any]:
    from identity.oidc.client_jwks import MAX_JWKS_BYTES, load_jwks

    try:
        with path.open("rb") as file:
            raw = file.read(MAX_JWKS_BYTES + 1)
    except OSError as exc:
        raise common.UsageError(f"cannot read --jwks-file: {exc.strerror or exc}") from None
    return load_jwks(raw)


def _client_secret_from_stdin() -> str:
    secret = sys.stdin.readline(4096).rstrip("\r\n")
    if not secret:
        raise common.UsageError("--secret-stdin: no client secret on stdin")
    return secret


def _client_add(args: argparse.Namespace, settings: Settings) -> int:
    jwks = None if args.jwks_file is None else _jwks_from_file(args.jwks_file)
    secret = _client_secret_from_stdin() if args.secret_stdin else None
    with client_registry(settings) as registry:
        registration = registry.register(
            name=args.name,
            scope=args.scope,
            redirect_uris=args.redirect_uris,
            grant_type=args.grant_type,
            purposes=args.purposes,
            claims=args.claims,
            id_token_signed_response_alg=args.id_token_signed_response_alg,
            token_endpoint_auth_method=args.token_endpoint_auth_method,
            sector_identifier=args.sector,
            jwks=jwks,
            client_secret=secret,
        )
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
    return common.EXIT_OK


def _client_list(args: argparse.Namespace, settings: Settings) -> int:
    with client_registry(settings) as registry:
        apps = registry.list()
    common.print_result(
        args.json,
        {"clients": [_client_document(app, settings) for app in apps]},
        (
            f"{app.client_id}  {app.token_endpoint_auth_method.value:<19} "
            f"{app.grant_types[0].value:<18} {app.name}{'' if app.active else '  (disabled)'}"
            for app in apps
        ),
    )
    return common.EXIT_OK


def _client_show(args: argparse.Namespace, settings: Settings) -> int:
    from consent.storage.ledger import SqlLedgerStore

    with common.checked_database(settings) as database:
        app = registry_on(settings, database).found(args.client_id)
        with SqlLedgerStore(database=database).read() as ledger:
            purposes = ledger.purposes(app.client_id)
            notice = ledger.current_notice(app.client_id) is not None
    coverage = _coverage(app, purposes, notice=notice)
    document = coverage.add_to(_client_document(app, settings))
    common.print_result(args.json, document, _client_lines(app, coverage, settings))
    coverage.print_warnings()
    return common.EXIT_OK


def _client_set_redirect_uris(args: argparse.Namespace, settings: Settings) -> int:
    with client_registry(settings) as registry:
        app = registry.replace_redirect_uris(args.client_id, args.redirect_uris)
    line = f"{app.client_id}  redirect_uris {' '.join(app.redirect_uris)}"
    common.print_result(args.json, _client_document(app, settings), [line])
    return common.EXIT_OK


def _client_disable(args: argparse.Namespace, settings: Settings) -> int:
    with client_registry(settings) as registry:
        app = registry.disable(args.client_id)
    common.print_result(args.json, _client_document(app, settings),
                        [f"{app.client_id}  disabled; its refresh tokens are revoked"])  # fmt: skip
    return common.EXIT_OK


def _client_enable(args: argparse.Namespace, settings: Settings) -> int:
    with client_registry(settings) as registry:
        app = registry.enable(args.client_id)
    common.print_result(args.json, _client_document(app, settings),
                        [f"{app.client_id}  back in service"])  # fmt: skip
    return common.EXIT_OK
