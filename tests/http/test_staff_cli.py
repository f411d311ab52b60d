"""``jati staff add|list|disable|reset-access`` as an operator runs them (real processes): the
activation code is printed once and stored only as its hash; a DPO is scoped to registered
apps; errors are one line and change nothing; every change is an audit entry of the
operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from identity.login.access_codes import code_hash
from identity.storage.database import Database
from tests.helpers import Operator, operator_env


@pytest.fixture
def operator(tmp_path: Path, database: Database, database_url: str) -> Operator:
    return Operator(tmp_path, operator_env(tmp_path, database_url), database)


def _ok(operator: Operator, *args: str) -> dict[str, object]:
    code, out, err = operator.jati("staff", *args, "--json")
    assert code == 0, err
    document: dict[str, object] = json.loads(out)
    return document


def test_add_list_reset_and_disable(operator: Operator) -> None:
    added = _ok(operator, "add", "--name", "Ani Auditor", "--email", "Ani@BPK.example.go.id",
                "--role", "auditor")  # fmt: skip
    assert added["email"] == "ani@bpk.example.go.id" and added["state"] == "not activated"
    activation = str(added["activation_code"])
    with operator.database.read() as session:
        stored = session.execute(text("SELECT activation_hash FROM identity_staff")).scalar_one()
    assert stored == code_hash(activation) and activation not in str(stored)
    listed = _ok(operator, "list")["staff"]
    assert isinstance(listed, list) and [s["id"] for s in listed] == [added["id"]]
    assert "activation_code" not in listed[0]
    reset = _ok(operator, "reset-access", str(added["id"]))
    assert reset["activation_code"] != activation
    disabled = _ok(operator, "disable", str(added["id"]))
    assert disabled["state"] == "disabled"
    code, _out, err = operator.jati("staff", "reset-access", str(added["id"]))
    assert code == 1 and err.strip() == "jati: error: this staff account is disabled"
    assert operator.jati("audit", "checkpoint")[0] == 0  # integrate what is queued
    code, out, err = operator.jati("audit", "query", "--actor", "cli/" + _user())
    assert code == 0, err
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions == ["create", "update", "erase"]


def _user() -> str:
    from audit.cli import cli_actor

    return cli_actor().id.removeprefix("cli/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "dpo", "--app", "no-such-app"], "every --app must be a registered relying app"),
        (["--role", "auditor", "--app", "x"], "only a data protection officer is scoped to apps"),
        (["--role", "auditor", "--email", "not-an-email"], "the email is not an email address"),
    ],
)
def test_bad_input_is_one_line_and_adds_nothing(
    operator: Operator, args: list[str], message: str
) -> None:
    base = {"--name": "Dodi", "--email": "dodi@dinsos.example.go.id"}
    for flag in ("--email",):
        if flag in args:
            base.pop(flag)
    flat = [item for pair in base.items() for item in pair]
    code, _out, err = operator.jati("staff", "add", *flat, *args)
    assert code == 1 and err.strip() == f"jati: error: {message}"
    with operator.database.read() as session:
        assert session.execute(text("SELECT count(*) FROM identity_staff")).scalar_one() == 0


def test_an_email_has_one_account(operator: Operator) -> None:
    _ok(operator, "add", "--name", "A", "--email", "a@x.example.go.id", "--role", "operator")
    code, _out, err = operator.jati(
        "staff", "add", "--name", "B", "--email", "A@X.example.go.id", "--role", "auditor"
    )
    assert code == 1 and "a staff account with this email exists" in err
