"""``jati citizen add`` and ``jati citizen erase`` as an operator runs them (real processes).

Errors are one line on stderr with a non-zero exit, never a traceback, and never repeat the
NIK, the name or the email; a refused command writes nothing. The commands run at DEBUG log
level and no personal value may appear in anything they print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.entry import Action, Actor, ActorKind, LegalBasis, decode_entry
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.service import CitizenService
from identity.service.settings import Settings
from identity.storage.database import Database
from tests import helpers
from tests.helpers import in_process, operator_env

NIK = "3171015708900001"
NAME = "Siti Rahayu Wulandari"
EMAIL = "siti.wulandari@example.id"
PHONE = "+62 812-3456-7890"
ADDRESS = "Jl. Merdeka Barat No. 17, Gambir"
PASSWORD = "kata sandi rahasia"
PERSONAL = (NIK, NAME, EMAIL, PHONE, ADDRESS, "1990-08-17", PASSWORD)


@dataclass
class Operator(helpers.Operator):
    service: CitizenService

    def jati(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        code, out, err = super().jati(*args, stdin=stdin)
        for value in PERSONAL:  # not in errors, not in DEBUG logs, not on stdout
            assert value not in err, f"{value!r} on stderr"
            assert value not in out, f"{value!r} on stdout"
        return code, out, err

    def add(self, *extra: str, stdin: str | None = PASSWORD + "\n") -> tuple[int, str, str]:
        return self.jati(
            "citizen", "add", "--nik", NIK, "--name", NAME, "--birthdate", "1990-08-17",
            "--password-stdin", *extra, stdin=stdin,
        )  # fmt: skip

    def rows(self) -> int:
        with self.database.read() as session:
            return int(session.execute(text("SELECT count(*) FROM identity_citizen")).scalar_one())


@pytest.fixture
def operator(
    tmp_path: Path, database: Database, database_url: str, make_settings: Callable[..., Settings]
) -> Operator:
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="DEBUG")
    _, service = in_process(make_settings(), database)
    return Operator(tmp_path, env, database, service)


def test_add_prints_the_new_id_and_stores_the_citizen_sealed(operator: Operator) -> None:
    code, out, err = operator.add("--email", EMAIL, "--phone", PHONE, "--address", ADDRESS)
    assert code == 0, err
    citizen_id = out.strip()
    assert len(citizen_id) == 26 and citizen_id.isalnum()
    data = operator.service.read_personal_data(
        citizen_id,
        PERSONAL_FIELDS,
        actor=Actor(kind=ActorKind.OFFICIAL, id="test"),
        purpose="check",
        legal_basis=LegalBasis.PUBLIC_TASK,
    )
    assert dict(data.values) == {
        "nik": NIK, "name": NAME, "birthdate": "1990-08-17",
        "email": EMAIL, "phone": PHONE, "address": ADDRESS,
    }  # fmt: skip
    assert operator.service.authenticate(NIK, PASSWORD, address="cli-test").citizen_id == citizen_id
    with operator.database.read() as session:
        first = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars().first()
    assert first is not None
    entry = decode_entry(bytes(first))
    assert entry.action is Action.CREATE
    assert entry.actor == Actor(kind=ActorKind.SYSTEM, id="jati-cli")


def test_add_json_prints_one_object(operator: Operator) -> None:
    code, out, err = operator.add("--json")
    assert code == 0, err
    body = json.loads(out)
    assert list(body) == ["id"] and operator.service.find_by_nik(NIK) == body["id"]


def test_a_duplicate_nik_is_one_clear_line_and_writes_nothing(operator: Operator) -> None:
    assert operator.add()[0] == 0
    code, out, err = operator.add("--name", "Another Person")
    assert code == 1 and out == ""
    assert err == "jati: error: a citizen with this NIK is already registered\n"
    assert operator.rows() == 1


@pytest.mark.parametrize(
    ("args", "stdin", "status", "message"),
    [
        (["--nik", "317101570890001"], None, 1, "invalid NIK: a NIK has 16 digits"),
        (["--nik", "9971015708900001"], None, 1, "not a province code"),
        (["--nik", "3171015713900001"], None, 1, "digits 9-10 are not a month"),
        (["--nik", "3171015708900000"], None, 1, "the serial (last four digits) starts at 0001"),
        (["--birthdate", "1990-08-18"], None, 1, "does not match the one in the NIK"),
        (["--birthdate", "17-08-1990"], None, 2, "use a real date as YYYY-MM-DD"),
        (["--birthdate", "1990-02-30"], None, 2, "use a real date as YYYY-MM-DD"),
        (["--email", "siti.wulandari.example.id"], None, 1, "email: not an email address"),
        (["--phone", "12"], None, 1, "phone: use 8 to 15 digits"),
        (["--name", "  "], None, 1, "name: cannot be empty"),
        ([], "short\n", 1, "password: at least 8 characters"),
        ([], "", 2, "no password on stdin"),
    ],
)
def test_each_bad_input_is_one_line_naming_the_problem_and_writes_nothing(
    operator: Operator, args: list[str], stdin: str | None, status: int, message: str
) -> None:
    code, out, err = operator.add(*args, stdin=stdin if stdin is not None else PASSWORD + "\n")
    assert code == status, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("jati: error: ") and message in err
    assert operator.rows() == 0


def test_erase_shreds_and_reports_the_tombstone(operator: Operator) -> None:
    citizen_id = operator.add()[1].strip()
    code, out, err = operator.jati("citizen", "erase", citizen_id, "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["id"] == citizen_id
    erased_at = datetime.fromisoformat(body["erased_at"])
    assert abs((datetime.now(UTC) - erased_at).total_seconds()) < 60
    assert operator.service.find_by_nik(NIK) is None
    code, out, err = operator.jati("citizen", "erase", citizen_id)
    assert (code, out) == (1, "")
    assert err == "jati: error: this citizen's personal data has been erased\n"
    code, _, err = operator.jati("citizen", "erase", "nosuchcitizen")
    assert code == 1 and err == "jati: error: no citizen with this id\n"
    assert operator.add()[0] == 0  # the NIK may register again, as a new citizen
    assert operator.rows() == 2


def test_erase_forgets_the_second_factor_as_the_api_does(
    operator: Operator, make_settings: Callable[..., Settings]
) -> None:
    """UU PDP Art. 43-44: the CLI's erasure leaves no sealed TOTP secret behind either."""
    from identity.service.factories import build_second_factor

    citizen_id = operator.add()[1].strip()
    master_key, _ = make_settings().load_master_key(create=False)
    second_factor = build_second_factor(
        database=operator.database,
        master_key=master_key,
        clock=lambda: datetime.now(UTC),
        issuer="http://127.0.0.1:8000",
    )
    second_factor.begin_enrolment(citizen_id)

    def totp_rows() -> int:
        with operator.database.read() as session:
            query = text("SELECT count(*) FROM identity_totp WHERE citizen_id = :c")
            return int(session.execute(query, {"c": citizen_id}).scalar_one())

    assert totp_rows() == 1
    code, _, err = operator.jati("citizen", "erase", citizen_id)
    assert code == 0, err
    assert totp_rows() == 0


def test_audit_query_finds_a_citizens_entries_by_nik(operator: Operator) -> None:
    citizen_id = operator.add()[1].strip()
    assert operator.jati("audit", "checkpoint")[0] == 0  # integrates the queued entries
    code, out, err = operator.jati("audit", "query", "--subject", NIK)
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["action"] for e in events] == ["create"]
    assert events[0]["subject"] == operator.service.pseudonymizer.pseudonym(citizen_id)
    code, out, err = operator.jati("audit", "query", "--subject", "3171011708900002")
    assert (code, out) == (1, "")
    assert err.startswith("jati: error: no citizen is registered with this NIK")
