"""``jati citizen add`` without a password, and ``jati citizen reset-access``, as an operator
runs them (real processes) against the app's database (issue 18).

- ``add`` without ``--password-stdin`` prints the citizen's id and a one-time activation code,
  once; with ``--json`` the code is the ``activation_code`` member. Only the code's SHA-256 is
  stored: the code is in no row and not in the SQLite file.
- ``reset-access`` ends the citizen's sessions and token families, removes TOTP, passkeys,
  recovery codes and the password, keeps their personal data and consents, and issues a new
  code; the earlier code stops working. Both show in the citizen's audit log, with no code in
  any entry. Errors are one line, as for the other commands.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, decode_entry, encode_entry
from identity.citizens.account_access import RESET_ITEMS
from identity.citizens.service import SELF
from identity.errors import ActivationRefused, InvalidCredentials
from identity.login.access_codes import code_hash, normalize
from identity.login.activation import ActivationTicket
from identity.login.sessions import SESSION_COOKIE
from identity.service.services import Services
from identity.storage.database import Database
from tests.helpers import Operator, operator_env
from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp
from tests.personal_data import SAMPLE, citizen, seeded
from tests.webauthn_authenticator import SoftAuthenticator

SITI = citizen(nik="3171015708900001", name="Siti Rahayu Wulandari", birthdate="1990-08-17")
CLI = Actor(kind=ActorKind.SYSTEM, id="jati-cli")
HERE = "198.51.100.7"


@pytest.fixture
def operator(tmp_path: Path, database: Database, database_url: str) -> Operator:
    return Operator(tmp_path, operator_env(tmp_path, database_url), database)


def services(world: OidcWorld) -> Services:
    found: Services = world.app.state.services
    return found


def jati_ok(operator: Operator, *args: str) -> str:
    code, out, err = operator.jati(*args)
    assert code == 0, err
    for value in SITI.values():
        assert value not in out + err
    return out


def add(operator: Operator, *extra: str) -> str:
    return jati_ok(
        operator, "citizen", "add", "--nik", SITI["nik"], "--name", SITI["name"],
        "--birthdate", SITI["birthdate"], *extra,
    )  # fmt: skip


def shown(code: str) -> str:
    seeded(code, normalize(code))  # no log line of the run may hold it
    return code


def check(world: OidcWorld, code: str, person: dict[str, str] = SITI) -> ActivationTicket:
    return services(world).account_access.check_activation(
        nik=person["nik"],
        birthdate=date.fromisoformat(person["birthdate"]),
        code=code,
        address=HERE,
    )


def entries_about(world: OidcWorld, citizen_id: str) -> list[tuple[AuditEntry, bytes]]:
    subject = services(world).pseudonymizer.pseudonym(citizen_id)
    with world.app.state.services.database.read() as session:
        rows = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars()
        decoded = [(decode_entry(bytes(row)), bytes(row)) for row in rows]
    return [(entry, raw) for entry, raw in decoded if entry.subject == subject]


def holds(raw: bytes, code: str) -> bool:
    return any(s.encode() in raw for s in (code, normalize(code), code_hash(code)))


def count(database: Database, table: str, citizen_id: str) -> int:
    query = text(f"SELECT count(*) FROM {table} WHERE citizen_id = :c")
    with database.read() as session:
        return int(session.execute(query, {"c": citizen_id}).scalar_one())


def test_add_without_a_password_prints_the_id_and_the_code_once(
    world: OidcWorld, operator: Operator
) -> None:
    lines = add(operator).splitlines()
    rows = dict(line.split(None, 1) for line in lines[:3])
    citizen_id, code = rows["id"], shown(rows["activation_code"])
    assert list(rows) == ["id", "activation_code", "activation_expires_at"]
    assert len(normalize(code)) == 16 and code.count("-") == 3
    assert "shown only this once" in lines[3] and "in person" in lines[3]
    assert services(world).citizens.find_by_nik(SITI["nik"]) == citizen_id
    with pytest.raises(InvalidCredentials):  # no password until the citizen chooses one
        services(world).citizens.authenticate(SITI["nik"], PASSWORD, address=HERE)
    assert check(world, code).citizen_id == citizen_id
    entries = [entry for entry, _ in entries_about(world, citizen_id)]
    assert [(e.action, e.actor, e.data_items) for e in entries] == [
        (Action.CREATE, CLI, ("birthdate", "name", "nik")),
        (Action.CREATE, CLI, ("activation_code",)),
        (Action.READ, SELF, ("birthdate",)),  # the check above
    ]


def test_add_json_has_the_code_which_is_stored_only_hashed(
    world: OidcWorld, operator: Operator, database: Database, database_url: str
) -> None:
    body = json.loads(add(operator, "--json"))
    assert list(body) == ["id", "activation_code", "activation_expires_at"]
    code = shown(body["activation_code"])
    expires_at = datetime.fromisoformat(body["activation_expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=5)
    with database.read() as session:
        stored = session.execute(text("SELECT code_hash FROM identity_activation")).scalars()
        assert list(stored) == [hashlib.sha256(normalize(code).encode()).hexdigest()]
        tables = inspect(session.connection()).get_table_names()
        for table in tables:
            rows = repr(session.execute(text(f'SELECT * FROM "{table}"')).all())
            assert normalize(code) not in rows and code not in rows, table
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                raw = file.read_bytes()
                assert normalize(code).encode() not in raw and code.encode() not in raw


def test_reset_access_revokes_every_way_in_and_keeps_data_and_consents(
    world: OidcWorld, rp: RelyingApp, operator: Operator, database: Database
) -> None:
    service, citizen_id = services(world), world.citizen_id
    world.login()
    world.consent(rp)
    tokens = world.tokens(rp)
    assert world.refresh(rp, tokens["refresh_token"]).status_code == 200  # a live family
    tokens = world.tokens(rp)
    service.second_factor.begin_enrolment(citizen_id)
    service.recovery_codes.generate(citizen_id, actor=SELF, now=datetime.now(UTC))
    passkeys = service.passkeys
    options, state = passkeys.registration_options(citizen_id, user_name="u", display_name="d")
    passkeys.register(state, SoftAuthenticator("http://testserver").create(options))
    consents = {grant.purpose_code for grant in service.consent_ledger.grants_of(citizen_id)}
    for table in (
        "identity_session",
        "identity_totp",
        "identity_passkey",
        "identity_recovery_code",
    ):
        assert count(database, table, citizen_id) >= 1, table

    body = json.loads(jati_ok(operator, "citizen", "reset-access", citizen_id, "--json"))

    assert list(body) == ["id", "activation_code", "activation_expires_at"]
    assert body["id"] == citizen_id
    code = shown(body["activation_code"])
    refused = world.refresh(rp, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert world.userinfo(tokens["access_token"]).status_code == 401
    again = world.authorize(rp)  # the old session cookie is still sent
    assert world.client.cookies.get(SESSION_COOKIE) and "code=" not in again.headers.get(
        "location", ""
    )
    for table in (
        "identity_session",
        "identity_totp",
        "identity_passkey",
        "identity_recovery_code",
    ):
        assert count(database, table, citizen_id) == 0, table
    with pytest.raises(InvalidCredentials):
        service.citizens.authenticate(SAMPLE["nik"], PASSWORD, address=HERE)
    data = service.citizens.read_personal_data(
        citizen_id, ("email",), actor=CLI, purpose="check", legal_basis=LegalBasis.PUBLIC_TASK
    )
    assert data["email"] == SAMPLE["email"]
    assert {g.purpose_code for g in service.consent_ledger.grants_of(citizen_id)} == consents
    assert consents
    assert check(world, code, SAMPLE).citizen_id == citizen_id

    about = entries_about(world, citizen_id)
    reset = [entry for entry, _ in about if entry.purpose == "account-security"]
    assert [(e.action, e.actor, e.data_items) for e in reset if e.actor == CLI] == [
        (Action.ERASE, CLI, tuple(sorted(RESET_ITEMS))),
        (Action.CREATE, CLI, ("activation_code",)),
    ]
    assert not any(holds(raw, code) for _, raw in about)
    assert all(encode_entry(entry) == raw for entry, raw in about)


def test_a_reset_replaces_the_earlier_code(world: OidcWorld, operator: Operator) -> None:
    rows = dict(line.split(None, 1) for line in add(operator).splitlines()[:3])
    citizen_id, first = rows["id"], shown(rows["activation_code"])
    out = jati_ok(operator, "citizen", "reset-access", citizen_id)
    lines = out.splitlines()
    assert lines[0].split() == ["id", citizen_id]
    second = shown(lines[1].split()[1])
    assert second != first and "shown only this once" in out
    with pytest.raises(ActivationRefused):
        check(world, first)
    assert check(world, second).citizen_id == citizen_id
    assert not any(
        holds(raw, code) for _, raw in entries_about(world, citizen_id) for code in (first, second)
    )


def test_reset_access_errors_are_one_line(world: OidcWorld, operator: Operator) -> None:
    code, out, err = operator.jati("citizen", "reset-access", "nosuchcitizen")
    assert (code, out, err) == (1, "", "jati: error: no citizen with this id\n")
    citizen_id = json.loads(add(operator, "--json"))["id"]
    assert jati_ok(operator, "citizen", "erase", citizen_id)
    code, out, err = operator.jati("citizen", "reset-access", citizen_id, "--json")
    assert (code, out) == (1, "")
    assert err == "jati: error: this citizen's personal data has been erased\n"
    code, _, err = operator.jati("citizen", "reset-access")
    assert code == 2 and err.count("\n") == 1 and "ID" in err
