"""``jati client add|list|show`` as an operator runs them (real processes, DESIGN.md §4 "CLI").

The database is migrated in-process; the commands get it from the environment, as the
service would. The secret a command prints is then checked in-process against the store.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import make_url

from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.keys.jwk import jwk_thumbprint
from identity.oidc.client_registry import ClientRegistry
from identity.storage.clients import SqlClientStore
from identity.storage.database import Database
from tests import helpers
from tests.helpers import operator_env

CB = "https://dinsos.example.go.id/callback"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Operator(helpers.Operator):
    def add_json(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        code, out, err = self.jati("client", "add", *args, "--json", stdin=stdin)
        assert code == 0, err
        assert all(line.startswith("jati: warning: ") for line in err.splitlines()), err
        assert out.count("\n") == 1
        document: dict[str, Any] = json.loads(out)
        return document

    def registry(self) -> ClientRegistry:
        return ClientRegistry(
            store=SqlClientStore(database=self.database),
            passwords=PasswordService(profile=TEST_PROFILE),
            clock=lambda: datetime.now(UTC),
        )

    def count(self) -> int:
        with self.database.read() as session:
            clients = session.execute(text("SELECT count(*) FROM identity_client")).scalar_one()
            purposes = session.execute(
                text("SELECT count(*) FROM identity_client_purpose")
            ).scalar_one()
        return int(clients) + int(purposes)


@pytest.fixture
def operator(tmp_path: Path, database_url: str, database: Database) -> Operator:
    return Operator(tmp_path, operator_env(tmp_path, database_url), database)


def test_add_prints_the_client_id_and_a_generated_secret_once(operator: Operator) -> None:
    code, out, err = operator.jati(
        "client", "add", "--name", "Dinas Sosial", "--redirect-uri", CB, "--scope", "openid profile"
    )
    assert code == 0, err
    assert err.startswith("jati: warning: no purpose covers the claims birthdate, name "), err
    fields = dict(line.split(None, 1) for line in out.splitlines() if line.startswith("client_"))
    client_id, secret = fields["client_id"], fields["client_secret"]
    assert "shown only once" in out
    app = operator.registry().authenticate_secret(client_id, secret)
    assert app.name == "Dinas Sosial" and app.redirect_uris == (CB,)

    code, shown, err = operator.jati("client", "show", client_id)
    assert code == 0, err
    assert client_id in shown and secret not in shown
    assert not any(line.startswith("client_secret ") for line in shown.splitlines())


def test_add_json_is_one_object_with_rfc_7591_names(operator: Operator) -> None:
    document = operator.add_json(
        "--name",
        "Dinas Sosial",
        "--redirect-uri",
        CB,
        "https://dinsos.example.go.id/other",
        "--scope",
        "openid profile",
        "--scope",
        "nik email",
        "--purpose",
        "social-aid:e",
        "--purpose",
        "dukcapil:verify:legal_obligation",
        "--claims",
        "name",
        "nik,email",
    )
    secret = document.pop("client_secret")
    assert len(secret) == 43
    assert document.pop("client_secret_expires_at") == 0
    client_id = document["client_id"]
    assert document == {
        "client_id": client_id,
        "client_name": "Dinas Sosial",
        "client_id_issued_at": document["client_id_issued_at"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "redirect_uris": [CB, "https://dinsos.example.go.id/other"],
        "scope": "email nik openid profile",
        "token_endpoint_auth_method": "client_secret_basic",
        "allowed_claims": ["email", "name", "nik"],
        "purposes": [
            {"code": "dukcapil:verify", "legal_basis": "c"},
            {"code": "social-aid", "legal_basis": "e"},
        ],
        "subject_type": "pairwise",
        "sector_identifier": "dinsos.example.go.id",
        "id_token_signed_response_alg": "EdDSA",  # none registered: the service's
        "claims_without_purpose": ["email", "name", "nik"],
        "warnings": document["warnings"],
    }
    assert [w["claims"] for w in document["warnings"]] == [["email", "name", "nik"]]
    code, out, err = operator.jati("client", "show", client_id, "--json")
    assert code == 0, err
    assert json.loads(out) == document


def test_an_operator_supplied_secret_is_read_from_stdin_and_never_printed(
    operator: Operator,
) -> None:
    secret = "operator-chosen-Secret-0123456789-abcdef"
    document = operator.add_json(
        "--name", "Dinsos", "--redirect-uri", CB, "--scope", "openid", "--secret-stdin",
        stdin=secret + "\n",
    )  # fmt: skip
    assert "client_secret" not in document
    assert document["token_endpoint_auth_method"] == "client_secret_basic"
    assert operator.registry().authenticate_secret(document["client_id"], secret)


def test_a_jwks_file_registers_private_key_jwt_without_a_secret(
    operator: Operator, tmp_path: Path
) -> None:
    okp = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(Ed25519PrivateKey.generate().public_key().public_bytes_raw()),
    }
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    p256 = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
        "kid": "dinsos-2026",
        "use": "sig",
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [okp, p256]}))
    document = operator.add_json(
        "--name", "Dinsos", "--redirect-uri", CB, "--scope", "openid", "--jwks-file", str(path)
    )
    assert "client_secret" not in document
    assert document["token_endpoint_auth_method"] == "private_key_jwt"
    assert document["jwks"] == {"keys": [{**okp, "kid": jwk_thumbprint(okp)}, p256]}
    app = operator.registry().get(document["client_id"])
    assert app.jwks == document["jwks"]


def test_an_auditor_app_gets_a_client_id_and_secret(operator: Operator) -> None:
    code, out, err = operator.jati(
        "client", "add", "--name", "BPK", "--grant-type", "client_credentials",
        "--scope", "audit:read",
    )  # fmt: skip
    assert code == 0, err
    fields = dict(line.split(None, 1) for line in out.splitlines() if line.startswith("client_"))
    app = operator.registry().authenticate_secret(fields["client_id"], fields["client_secret"])
    assert app.scopes == ("audit:read",) and app.redirect_uris == ()

    document = operator.add_json(
        "--name", "BPK 2", "--grant-type", "client_credentials", "--scope", "audit:read"
    )
    assert document["grant_types"] == ["client_credentials"]
    assert document["response_types"] == [] and "sector_identifier" not in document
    assert len(document["client_secret"]) == 43


def test_list_and_show_never_print_secrets_or_hashes(operator: Operator) -> None:
    first = operator.add_json("--name", "A", "--redirect-uri", CB, "--scope", "openid")
    second = operator.add_json(
        "--name", "B", "--grant-type", "client_credentials", "--scope", "audit:read"
    )
    secrets_ = [first["client_secret"], second["client_secret"]]

    outputs = []
    for args in (
        ("client", "list"),
        ("client", "list", "--json"),
        ("client", "show", first["client_id"]),
        ("client", "show", second["client_id"], "--json"),
    ):
        code, out, err = operator.jati(*args)
        assert code == 0, err
        outputs.append(out + err)
    for output in outputs:
        assert not any(secret in output for secret in secrets_)
        assert "argon2" not in output and "secret_hash" not in output
        assert 'client_secret"' not in output

    listed = json.loads(outputs[1])["clients"]
    assert {c["client_id"] for c in listed} == {first["client_id"], second["client_id"]}
    assert first["client_id"] in outputs[0] and second["client_id"] in outputs[0]


def test_the_secret_is_not_in_the_database_file(operator: Operator) -> None:
    document = operator.add_json("--name", "A", "--redirect-uri", CB, "--scope", "openid")
    secret = document["client_secret"].encode()
    if operator.database.dialect == "sqlite":
        path = Path(make_url(operator.database.url).database or "")
        stored = b"".join(
            p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name)
        )
    else:
        with operator.database.read() as session:
            rows = session.execute(text("SELECT t::text FROM identity_client t")).scalars().all()
        stored = "\n".join(rows).encode()
    assert document["client_id"].encode() in stored
    assert secret not in stored


def test_the_id_token_algorithm_is_registered_and_shown(operator: Operator) -> None:
    """Issue 17 defect 6: ``--id-token-signed-response-alg`` (OIDC Registration §2), stored on
    the app, shown by ``show`` and ``list`` and in their JSON; without it the service's."""
    legacy = operator.add_json(
        "--name", "Aplikasi Lama", "--redirect-uri", CB, "--scope", "openid",
        "--id-token-signed-response-alg", "RS256",
    )  # fmt: skip
    assert legacy["id_token_signed_response_alg"] == "RS256"
    assert operator.registry().get(legacy["client_id"]).id_token_signed_response_alg == "RS256"
    plain = operator.add_json("--name", "Baru", "--redirect-uri", CB, "--scope", "openid")
    assert plain["id_token_signed_response_alg"] == "EdDSA"
    assert operator.registry().get(plain["client_id"]).id_token_signed_response_alg is None
    auditor = operator.add_json(
        "--name", "BPK", "--grant-type", "client_credentials", "--scope", "audit:read"
    )
    assert "id_token_signed_response_alg" not in auditor  # no ID token, nothing to sign

    code, out, err = operator.jati("client", "show", legacy["client_id"])
    assert code == 0, err
    assert "\nid_token_signed_response_alg RS256\n" in out
    code, out, err = operator.jati("client", "show", plain["client_id"])
    assert "\nid_token_signed_response_alg EdDSA (the service's JATI_TOKEN_SIGNING_ALG)\n" in out
    code, out, err = operator.jati("client", "show", legacy["client_id"], "--json")
    assert json.loads(out)["id_token_signed_response_alg"] == "RS256"
    code, out, err = operator.jati("client", "list", "--json")
    listed = {
        c["client_id"]: c.get("id_token_signed_response_alg") for c in json.loads(out)["clients"]
    }
    assert listed == {
        legacy["client_id"]: "RS256", plain["client_id"]: "EdDSA", auditor["client_id"]: None
    }  # fmt: skip
    # an app that registered none follows the service's algorithm when it changes
    operator.env["JATI_TOKEN_SIGNING_ALG"] = "ES256"
    code, out, err = operator.jati("client", "show", plain["client_id"], "--json")
    assert json.loads(out)["id_token_signed_response_alg"] == "ES256"
    code, out, err = operator.jati("client", "show", legacy["client_id"], "--json")
    assert json.loads(out)["id_token_signed_response_alg"] == "RS256"


def test_show_of_an_unknown_client_fails_in_one_line(operator: Operator) -> None:
    code, out, err = operator.jati("client", "show", "a" * 32)
    assert code == 1 and out == ""
    assert err.startswith("jati: error: no relying app") and err.count("\n") == 1


def test_redirect_uris_are_replaced_and_an_app_disabled_and_enabled(operator: Operator) -> None:
    """The console's edits from the shell (issue 20): a disabled app is still shown and
    listed, marked, and can be put back in service."""
    client_id = operator.add_json("--name", "Dinsos", "--redirect-uri", CB, "--scope",
                                  "openid")["client_id"]  # fmt: skip
    new = "https://dinsos.example.go.id/v2/callback"
    code, out, err = operator.jati("client", "set-redirect-uris", client_id,
                                   "--redirect-uri", new, CB, "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["redirect_uris"] == [new, CB]
    code, out, err = operator.jati("client", "set-redirect-uris", client_id,
                                   "--redirect-uri", "http://dinsos.example.go.id/cb")  # fmt: skip
    assert code == 1 and out == "" and err.startswith("jati: error: ") and err.count("\n") == 1
    assert operator.registry().get(client_id).redirect_uris == (new, CB)  # nothing changed
    code, out, err = operator.jati("client", "disable", client_id, "--json")
    assert code == 0, err
    assert json.loads(out)["disabled_at"].endswith("Z")
    assert not operator.registry().found(client_id).active
    code, out, _err = operator.jati("client", "show", client_id)
    assert code == 0 and "disabled_at" in out
    code, out, _err = operator.jati("client", "list")
    assert code == 0 and "(disabled)" in out
    code, out, err = operator.jati("client", "enable", client_id)
    assert code == 0 and "back in service" in out, err
    assert operator.registry().get(client_id).active
    code, _out, err = operator.jati("client", "disable", "a" * 32)
    assert code == 1 and err.startswith("jati: error: no relying app")


# ------------------------------------------------- claims no purpose covers (issue 15)
#
# UU PDP Art. 20(2): a claim is released only under a purpose whose data items hold it. An
# app registered with personal-data scopes and no such purpose would sign citizens in with
# no consent screen and receive only ``sub``: registration says so, and says what fixes it.

PROFILE_EMAIL_PHONE = (
    "--name",
    "Dinsos",
    "--redirect-uri",
    CB,
    "--scope",
    "openid profile email phone",
)


def _consent_purposes(operator: Operator) -> int:
    with operator.database.read() as session:
        return int(session.execute(text("SELECT count(*) FROM consent_purpose")).scalar_one())


def _add_purpose(operator: Operator, client_id: str, *items: str) -> None:
    args = [arg for item in items for arg in ("--item", item)]
    code, _, err = operator.jati(
        "purpose", "add", "--client", client_id, "--code", f"p-{items[0]}", "--basis", "a",
        *args, "--retention-days", "30", "--description-id", "Layanan",
    )  # fmt: skip
    assert code == 0, err


def test_add_warns_on_stderr_about_claims_no_purpose_covers(operator: Operator) -> None:
    code, out, err = operator.jati("client", "add", *PROFILE_EMAIL_PHONE)
    assert code == 0, err  # a warning: the app is registered
    client_id = dict(line.split(None, 1) for line in out.splitlines())["client_id"]
    assert err.splitlines() == [
        "jati: warning: no purpose covers the claims birthdate, email, name, phone_number that "
        "the scopes ask for: Jati never releases them and the consent screen does not ask for "
        "them (UU PDP Art. 20(2)); on basis a (consent), publish a notice too (UU PDP Art. 21)",
        f"jati: warning: fix: jati purpose add --client {client_id} --code CODE --basis BASIS "
        "--item birthdate --item email --item name --item phone "
        "--retention-days DAYS --description-id TEXT",
        f"jati: warning: fix: jati notice publish --client {client_id} --file FILE",
    ]
    assert "claims_without_purpose       birthdate email name phone_number" in out.splitlines()
    assert operator.registry().get(client_id).scopes == ("email", "openid", "phone", "profile")


def test_add_json_always_carries_warnings(operator: Operator) -> None:
    code, out, err = operator.jati("client", "add", *PROFILE_EMAIL_PHONE, "--json")
    assert code == 0, err
    document = json.loads(out)
    client_id = document["client_id"]
    assert document["claims_without_purpose"] == ["birthdate", "email", "name", "phone_number"]
    [warning] = document["warnings"]
    assert warning["kind"] == "claims_without_purpose"
    assert warning["claims"] == document["claims_without_purpose"]
    assert warning["message"].startswith(
        "no purpose covers the claims birthdate, email, name, phone_number that the scopes ask "
        "for: Jati never releases them"
    )
    assert warning["fix"] == [
        f"jati purpose add --client {client_id} --code CODE --basis BASIS --item birthdate "
        "--item email --item name --item phone --retention-days DAYS --description-id TEXT",
        f"jati notice publish --client {client_id} --file FILE",
    ]
    assert err.splitlines() == [  # stderr says the same to the operator
        "jati: warning: " + warning["message"],
        *("jati: warning: fix: " + command for command in warning["fix"]),
    ]

    quiet = operator.jati("client", "add", *BASE, "--scope", "openid", "--json")
    assert quiet[0] == 0 and quiet[2] == ""
    assert json.loads(quiet[1])["warnings"] == []
    assert json.loads(quiet[1])["claims_without_purpose"] == []
    auditor = operator.add_json("--name", "BPK", "--grant-type", "client_credentials",
                                "--scope", "audit:read")  # fmt: skip
    assert auditor["warnings"] == [] and auditor["claims_without_purpose"] == []


def test_claims_narrowed_away_are_not_warned_about(operator: Operator) -> None:
    document = operator.add_json(*PROFILE_EMAIL_PHONE, "--claims", "email", "locale")
    assert document["claims_without_purpose"] == ["email"]  # locale is never released
    assert "--item email --retention-days" in document["warnings"][0]["fix"][0]


def test_a_purpose_declared_at_registration_covers_nothing_but_fills_the_fix(
    operator: Operator,
) -> None:
    document = operator.add_json(*BASE, "--scope", "openid nik", "--purpose", "population-admin:e")
    client_id = document["client_id"]
    assert document["claims_without_purpose"] == ["nik"]
    # basis e is not consent: no notice is needed for the release, none is suggested
    assert document["warnings"][0]["fix"] == [
        f"jati purpose add --client {client_id} --code population-admin --basis e --item nik "
        "--retention-days DAYS --description-id TEXT"
    ]
    fix = document["warnings"][0]["fix"][0].split()
    code, _, err = operator.jati(*fix[1:-4], "--retention-days", "3650", "--description-id", "Adm")
    assert code == 0, err
    code, out, err = operator.jati("client", "show", client_id, "--json")
    assert json.loads(out)["claims_without_purpose"] == [] and err == ""


def test_the_suggested_fix_needs_its_placeholders_replaced(operator: Operator) -> None:
    document = operator.add_json(*PROFILE_EMAIL_PHONE)
    purpose_add = document["warnings"][0]["fix"][0].split()
    assert purpose_add[0] == "jati"
    code, _, err = operator.jati(*purpose_add[1:])  # pasted as is: refused, nothing stored
    assert code != 0 and err.count("\n") == 1
    assert _consent_purposes(operator) == 0
    filled = {"CODE": "layanan", "BASIS": "a", "DAYS": "30", "TEXT": "Layanan"}
    code, _, err = operator.jati(*(filled.get(arg, arg) for arg in purpose_add[1:]))
    assert code == 0, err
    code, out, _ = operator.jati("client", "show", document["client_id"], "--json")
    assert json.loads(out)["claims_without_purpose"] == []


def test_show_lists_the_claims_no_purpose_covers_until_purpose_add_covers_them(
    operator: Operator,
) -> None:
    client_id = operator.add_json(*PROFILE_EMAIL_PHONE)["client_id"]
    code, out, err = operator.jati("client", "show", client_id)
    assert code == 0
    assert "claims_without_purpose       birthdate email name phone_number" in out.splitlines()
    assert err.startswith("jati: warning: no purpose covers the claims birthdate, email, name,")

    _add_purpose(operator, client_id, "name", "birthdate")
    code, out, err = operator.jati("client", "show", client_id, "--json")
    shown = json.loads(out)
    assert shown["claims_without_purpose"] == ["email", "phone_number"]
    assert shown["warnings"][0]["fix"][0].endswith(
        "--item email --item phone --retention-days DAYS --description-id TEXT"
    )
    assert "jati: warning: fix: jati purpose add" in err

    _add_purpose(operator, client_id, "email", "phone")
    code, out, err = operator.jati("client", "show", client_id, "--json")
    shown = json.loads(out)
    assert code == 0 and err == ""
    assert shown["claims_without_purpose"] == [] and shown["warnings"] == []
    code, out, err = operator.jati("client", "show", client_id)
    assert "claims_without_purpose       -" in out.splitlines() and err == ""


def test_without_a_notice_the_warning_names_the_notice_too(
    operator: Operator, tmp_path: Path
) -> None:
    from tests.consent_helpers import notice_content

    client_id = operator.add_json(*PROFILE_EMAIL_PHONE)["client_id"]
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(notice_content().to_json()))
    code, _, err = operator.jati("notice", "publish", "--client", client_id, "--file", str(path))
    assert code == 0, err
    code, out, err = operator.jati("client", "show", client_id, "--json")
    [warning] = json.loads(out)["warnings"]
    assert len(warning["fix"]) == 1 and "notice" not in warning["message"]
    assert "jati notice publish" not in err


def _jwks_with_private_key(tmp_path: Path) -> str:
    private = Ed25519PrivateKey.generate()
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(private.public_key().public_bytes_raw()),
        "d": _b64(private.private_bytes_raw()),
    }
    path = tmp_path / "private.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return str(path)


BASE = ("--name", "Dinsos", "--redirect-uri", CB)

REFUSED: list[tuple[str, tuple[str, ...], str]] = [
    ("http-not-loopback", ("--name", "X", "--redirect-uri", "http://dinsos.example.go.id/cb",
                           "--scope", "openid"), "use https"),
    ("fragment", ("--name", "X", "--redirect-uri", CB + "#x", "--scope", "openid"), "fragment"),
    ("wildcard", ("--name", "X", "--redirect-uri", "https://*.example.go.id/cb",
                  "--scope", "openid"), "wildcard"),
    ("relative", ("--name", "X", "--redirect-uri", "/cb", "--scope", "openid"), "absolute"),
    ("no-redirect", ("--name", "X", "--scope", "openid"), "--redirect-uri"),
    ("unknown-scope", (*BASE, "--scope", "openid offline_access"), "unknown scope"),
    ("no-openid", (*BASE, "--scope", "profile"), "openid"),
    ("audit-on-code-app", (*BASE, "--scope", "openid audit:read"), "auditor"),
    ("nik-without-purpose", (*BASE, "--scope", "openid nik"), "--purpose"),
    ("bad-basis", (*BASE, "--scope", "openid", "--purpose", "social-aid:z"), "legal basis"),
    ("bad-purpose", (*BASE, "--scope", "openid", "--purpose", "social-aid"), "CODE:BASIS"),
    ("two-hosts", (*BASE, "--redirect-uri", "https://other.example.go.id/cb",
                   "--scope", "openid"), "--sector"),
    ("bad-sector", (*BASE, "--scope", "openid", "--sector", "not a host"), "sector"),
    ("claim-outside-scope", (*BASE, "--scope", "openid profile", "--claims", "email"),
     "not requested"),
    ("auditor-with-openid", ("--name", "X", "--grant-type", "client_credentials",
                             "--scope", "openid"), "audit:read"),
    ("auditor-with-redirect", ("--name", "X", "--grant-type", "client_credentials",
                               "--scope", "audit:read", "--redirect-uri", CB), "redirect"),
    ("empty-name", ("--name", " ", "--redirect-uri", CB, "--scope", "openid"), "name"),
    ("missing-jwks-file", (*BASE, "--scope", "openid", "--jwks-file", "/nonexistent/j.json"),
     "cannot read --jwks-file"),
    ("id-token-alg-none", (*BASE, "--scope", "openid", "--id-token-signed-response-alg",
                           "none"), "invalid choice"),
    ("id-token-alg-hs256", (*BASE, "--scope", "openid", "--id-token-signed-response-alg",
                            "HS256"), "invalid choice"),
    ("id-token-alg-on-auditor", ("--name", "X", "--grant-type", "client_credentials",
                                 "--scope", "audit:read", "--id-token-signed-response-alg",
                                 "RS256"), "no ID token"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "reason"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_registrations_fail_in_one_line_and_write_nothing(
    operator: Operator, case: str, args: tuple[str, ...], reason: str
) -> None:
    code, out, err = operator.jati("client", "add", *args)
    assert code != 0
    assert out == ""
    assert err.startswith("jati: error: ") and err.count("\n") == 1, err
    assert reason in err, err
    assert operator.count() == 0


def test_a_jwks_with_a_private_key_is_refused_without_echoing_it(
    operator: Operator, tmp_path: Path
) -> None:
    path = _jwks_with_private_key(tmp_path)
    private_d = json.loads(Path(path).read_text())["keys"][0]["d"]
    code, out, err = operator.jati("client", "add", *BASE, "--scope", "openid", "--jwks-file", path)
    assert code == 1 and out == ""
    assert "private key material (d)" in err and err.count("\n") == 1
    assert private_d not in err
    assert operator.count() == 0


@pytest.mark.parametrize(
    ("stdin", "reason"),
    [
        ("", "no client secret"),
        ("tiny-Secret9\n", "shorter than 32"),
        ("x" * 40 + "\n", "placeholder"),
    ],
)
def test_weak_secrets_on_stdin_are_refused_without_echoing_them(
    operator: Operator, stdin: str, reason: str
) -> None:
    code, out, err = operator.jati(
        "client", "add", *BASE, "--scope", "openid", "--secret-stdin", stdin=stdin
    )
    assert code != 0 and out == ""
    assert reason in err and err.count("\n") == 1
    assert not stdin.strip() or stdin.strip() not in err
    assert operator.count() == 0


def test_a_jwks_and_a_secret_together_are_a_usage_error(operator: Operator) -> None:
    code, out, err = operator.jati(
        "client", "add", *BASE, "--scope", "openid", "--secret-stdin", "--jwks-file", "j.json",
        stdin="x" * 40,
    )  # fmt: skip
    assert code == 2 and out == ""
    assert "not allowed with argument" in err and err.count("\n") == 1
    assert operator.count() == 0


# ------------------------------------- --token-endpoint-auth-method (issue 17, defect 6)


def _public_jwks_file(tmp_path: Path) -> str:
    okp = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(Ed25519PrivateKey.generate().public_key().public_bytes_raw()),
    }
    path = tmp_path / "public-jwks.json"
    path.write_text(json.dumps({"keys": [okp]}))
    return str(path)


def test_the_auth_method_choices_are_the_cores(capsys: pytest.CaptureFixture[str]) -> None:
    from identity.oidc.clients import TokenEndpointAuthMethod
    from identity.service.cli import build_parser

    add = ["client", "add", "--name", "X", "--scope", "openid", "--token-endpoint-auth-method"]
    for method in TokenEndpointAuthMethod:
        assert build_parser().parse_args([*add, method.value]).token_endpoint_auth_method == method
    with pytest.raises(SystemExit):
        build_parser().parse_args([*add, "client_secret_jwt"])
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(m.value in err for m in TokenEndpointAuthMethod)


def test_client_secret_post_is_registered_shown_and_listed(operator: Operator) -> None:
    """``--token-endpoint-auth-method client_secret_post`` (RFC 7591 §2): a generated secret
    shown once, the method in ``add``, ``show`` and ``list`` and in their JSON, and the secret
    accepted in the form body only."""
    from identity.oidc.clients import TokenEndpointAuthMethod

    document = operator.add_json(
        "--name", "Aplikasi Lama", "--redirect-uri", CB, "--scope", "openid",
        "--token-endpoint-auth-method", "client_secret_post",
    )  # fmt: skip
    client_id, secret = document["client_id"], document.pop("client_secret")
    assert document["token_endpoint_auth_method"] == "client_secret_post"
    assert document["client_secret_expires_at"] == 0
    registry = operator.registry()
    post = TokenEndpointAuthMethod.CLIENT_SECRET_POST
    assert registry.authenticate_secret(client_id, secret, method=post).client_id == client_id
    code, out, err = operator.jati("client", "show", client_id)
    assert code == 0, err
    assert "\ntoken_endpoint_auth_method   client_secret_post\n" in out and secret not in out
    code, out, err = operator.jati("client", "show", client_id, "--json")
    assert json.loads(out)["token_endpoint_auth_method"] == "client_secret_post"
    basic = operator.add_json(
        "--name", "Baru", "--redirect-uri", CB, "--scope", "openid",
        "--token-endpoint-auth-method", "client_secret_basic",
    )  # fmt: skip
    assert basic["token_endpoint_auth_method"] == "client_secret_basic"
    code, out, err = operator.jati("client", "list")
    assert code == 0, err
    assert f"{client_id}  client_secret_post  " in out
    code, out, err = operator.jati("client", "list", "--json")
    methods = {c["client_id"]: c["token_endpoint_auth_method"] for c in json.loads(out)["clients"]}
    assert methods == {client_id: "client_secret_post", basic["client_id"]: "client_secret_basic"}


def test_a_jwks_file_with_private_key_jwt_named_is_accepted(
    operator: Operator, tmp_path: Path
) -> None:
    document = operator.add_json(
        "--name", "Dukcapil", "--redirect-uri", CB, "--scope", "openid",
        "--jwks-file", _public_jwks_file(tmp_path),
        "--token-endpoint-auth-method", "private_key_jwt",
    )  # fmt: skip
    assert document["token_endpoint_auth_method"] == "private_key_jwt"
    assert "client_secret" not in document


@pytest.mark.parametrize(
    ("case", "extra", "stdin", "reason"),
    [
        ("jwks-and-post", ("--jwks-file", "JWKS", "--token-endpoint-auth-method",
                           "client_secret_post"), None,
         "contradicts token_endpoint_auth_method client_secret_post"),
        ("jwks-and-basic", ("--jwks-file", "JWKS", "--token-endpoint-auth-method",
                            "client_secret_basic"), None,
         "contradicts token_endpoint_auth_method client_secret_basic"),
        ("private-key-jwt-without-jwks", ("--token-endpoint-auth-method", "private_key_jwt"),
         None, "private_key_jwt needs the app's public keys: give --jwks-file"),
        ("secret-and-private-key-jwt", ("--secret-stdin", "--token-endpoint-auth-method",
                                        "private_key_jwt"),
         "operator-chosen-Secret-0123456789-abcdef\n", "choose one authentication"),
        ("unknown-method", ("--token-endpoint-auth-method", "client_secret_jwt"), None,
         "invalid choice"),
    ],
)  # fmt: skip
def test_contradictory_auth_options_are_refused_in_one_line(
    operator: Operator,
    tmp_path: Path,
    case: str,
    extra: tuple[str, ...],
    stdin: str | None,
    reason: str,
) -> None:
    jwks = _public_jwks_file(tmp_path)
    args = [jwks if arg == "JWKS" else arg for arg in extra]
    code, out, err = operator.jati(
        "client", "add", "--name", "X", "--redirect-uri", CB, "--scope", "openid", *args,
        stdin=stdin,
    )  # fmt: skip
    assert code != 0 and out == ""
    assert err.startswith(("jati: error: ", "usage: ")), err
    assert reason in err, err
    assert err.count("\n") == 1 or err.startswith("usage: "), err
    assert operator.count() == 0
