"""``jati purpose add|list``, ``jati notice publish|show`` and ``jati consent expire`` as an
operator runs them: purposes validated against the app's registration, notices refused
without every Art. 21 item, one-line errors that write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from identity.passwords import TEST_PROFILE
from identity.storage.database import Database
from tests.conftest import TEST_MASTER_KEY
from tests.consent_helpers import notice_content
from tests.helpers import clean_env, run_jati

CB = "https://dinsos.example.go.id/callback"


class Operator:
    def __init__(self, cwd: Path, env: dict[str, str], database: Database) -> None:
        self.cwd, self.env, self.database = cwd, env, database

    def jati(self, *args: str) -> tuple[int, str, str]:
        result = run_jati(*args, cwd=self.cwd, env=self.env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, result.stdout, result.stderr

    def rows(self, table: str) -> int:
        with self.database.read() as session:
            return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def operator(tmp_path: Path, database_url: str, database: Database) -> Operator:
    env = clean_env(
        JATI_DATABASE_URL=database_url,
        JATI_MASTER_KEY=TEST_MASTER_KEY,
        JATI_DATA_DIR=str(tmp_path / "data"),
        JATI_PASSWORD_PROFILE=TEST_PROFILE,
    )
    return Operator(tmp_path, env, database)


@pytest.fixture
def client_id(operator: Operator) -> str:
    code, out, err = operator.jati(
        "client", "add", "--name", "Dinas Sosial", "--redirect-uri", CB,
        "--scope", "openid profile nik", "--purpose", "population-admin:e", "--json",
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["client_id"])


def _add(operator: Operator, client_id: str, *extra: str) -> tuple[int, str, str]:
    return operator.jati(
        "purpose", "add", "--client", client_id, "--retention-days", "365",
        "--description-id", "Menilai kelayakan bantuan sosial", *extra,
    )  # fmt: skip


def test_purposes_are_registered_and_listed(operator: Operator, client_id: str) -> None:
    code, out, err = _add(
        operator, client_id, "--code", "bansos-eligibility", "--basis", "a",
        "--item", "name", "--item", "income:specific", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["purpose"]["legal_basis"] == "a"
    code, out, err = _add(
        operator, client_id, "--code", "population-admin", "--basis", "public_task",
        "--item", "nik",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = operator.jati("purpose", "list", "--client", client_id, "--json")
    listed = {p["code"]: p for p in json.loads(out)["purposes"]}
    assert set(listed) == {"bansos-eligibility", "population-admin"}
    assert {"name": "income", "sensitivity": "specific"} in listed["bansos-eligibility"][
        "data_items"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "x", "--basis", "z", "--item", "name"], "--basis is one of a-f"),
        (["--code", "Bad Code", "--basis", "a", "--item", "name"], "purpose code"),
        (["--code", "x", "--basis", "a", "--item", "name:secret"], "specific` or `general"),
        (
            ["--code", "population-admin", "--basis", "a", "--item", "nik"],
            "registered with the app",
        ),
    ],
    ids=["basis", "code", "sensitivity", "declared-basis-differs"],
)
def test_bad_purposes_are_refused_in_one_line(
    operator: Operator, client_id: str, args: list[str], message: str
) -> None:
    code, _, err = _add(operator, client_id, *args)
    assert code != 0 and message in err and err.count("\n") == 1
    assert operator.rows("consent_purpose") == 0


def test_a_purpose_for_an_unknown_app_is_refused(operator: Operator, client_id: str) -> None:
    code, _, err = _add(operator, "no-such-client", "--code", "x", "--basis", "a", "--item", "n")
    assert code != 0 and err.count("\n") == 1
    assert operator.rows("consent_purpose") == 0


def _notice_file(tmp: Path, document: dict[str, Any]) -> Path:
    path = tmp / "notice.json"
    path.write_text(json.dumps(document, ensure_ascii=False))
    return path


def test_notices_are_published_in_versions_and_shown(
    operator: Operator, client_id: str, tmp_path: Path
) -> None:
    path = _notice_file(tmp_path, notice_content().to_json())
    code, out, err = operator.jati(
        "notice", "publish", "--client", client_id, "--file", str(path), "--json"
    )
    assert code == 0, err
    first = json.loads(out)
    assert first["version"] == 1 and first["content_hash"].startswith("sha-256:")
    path = _notice_file(tmp_path, notice_content(rights="v2").to_json())
    code, out, err = operator.jati(
        "notice", "publish", "--client", client_id, "--file", str(path), "--json"
    )
    assert json.loads(out)["version"] == 2
    code, out, err = operator.jati("notice", "show", "--client", client_id)
    shown = json.loads(out)
    assert shown["version"] == 2 and "dpo" in shown["content"]


def test_a_notice_missing_an_article_21_item_is_refused(
    operator: Operator, client_id: str, tmp_path: Path
) -> None:
    document = notice_content().to_json()
    del document["items"]["retention"]
    path = _notice_file(tmp_path, document)
    code, _, err = operator.jati("notice", "publish", "--client", client_id, "--file", str(path))
    assert code != 0 and "retention" in err and err.count("\n") == 1
    no_dpo = notice_content().to_json()
    no_dpo["dpo"] = {"name": "PPD"}
    code, _, err = operator.jati(
        "notice", "publish", "--client", client_id, "--file", str(_notice_file(tmp_path, no_dpo))
    )
    assert code != 0 and "Art. 53" in err
    assert operator.rows("consent_notice") == 0


def test_consent_expire_runs(operator: Operator, client_id: str) -> None:
    code, out, err = operator.jati("consent", "expire")
    assert code == 0, err
    assert out.strip() == "0 grant(s) expired"
