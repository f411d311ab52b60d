"""``jati purpose add|list``, ``jati notice publish|show`` and ``jati consent expire`` as an
operator runs them: purposes validated against the app's registration, notices refused
without every Art. 21 item, one-line errors that write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from consent.notices import NOTICE_ITEMS, NoticeContent
from identity.storage.database import Database
from tests import helpers
from tests.consent_helpers import notice_content
from tests.helpers import operator_env

CB = "https://dinsos.example.go.id/callback"


class Operator(helpers.Operator):
    def rows(self, table: str) -> int:
        with self.database.read() as session:
            return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def operator(tmp_path: Path, database_url: str, database: Database) -> Operator:
    return Operator(tmp_path, operator_env(tmp_path, database_url), database)


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


# ---------------------------------------------- the notice document, member by member
#
# Every member of a notice file is type-checked and a refusal names it by its path (issue
# 15): a controller given as an object once reached the consent screen as a Python repr.

CONTROLLER = {"name": "Pemprov DKI Jakarta", "contact": "ppid@jakarta.go.id"}
#: The hash of ``notice_content()`` before the controller object form existed.
NOTICE_V1_HASH = "sha-256:BuW7plY4EdX9t_qbV5BJETAnv4WiXMK4yjjT3yYhmmg"


def test_a_stored_notice_loads_with_its_content_hash_unchanged() -> None:
    """A notice as stored before (a string controller) parses to the same text and hash:
    the hash recorded in every consent event and receipt still matches (UU PDP Art. 21)."""
    stored = {
        "controller": "Dinas Sosial DKI Jakarta",
        "items": {
            name: {"id": f"Teks {name} (v1)", "en": f"Text {name} (v1)"} for name in NOTICE_ITEMS
        },
        "dpo": {"name": "Pejabat Pelindungan Data", "email": "ppd@dinsos.example.go.id"},
    }
    content = NoticeContent.from_json(stored)
    assert content.to_json() == stored
    assert content.content_hash == NOTICE_V1_HASH == notice_content().content_hash
    assert content.controller_contact is None


def test_a_controller_object_is_published_and_shown(
    operator: Operator, client_id: str, tmp_path: Path
) -> None:
    document = notice_content().to_json()
    document["controller"] = CONTROLLER
    path = _notice_file(tmp_path, document)
    code, out, err = operator.jati(
        "notice", "publish", "--client", client_id, "--file", str(path), "--json"
    )
    assert code == 0, err
    published = json.loads(out)
    assert published["content_hash"] != NOTICE_V1_HASH  # the contact is part of the text
    code, out, err = operator.jati("notice", "show", "--client", client_id)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["content"]["controller"] == CONTROLLER
    assert shown["content_hash"] == published["content_hash"]
    content = NoticeContent.from_json(shown["content"])
    assert (content.controller, content.controller_contact) == tuple(CONTROLLER.values())


def _set(path: str, value: object) -> Callable[[dict[str, Any]], object]:
    def change(document: dict[str, Any]) -> object:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        target[last] = value
        return document

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], object]:
    def change(document: dict[str, Any]) -> object:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        del target[last]
        return document

    return change


CONTROLLER_SHAPE = 'must be a non-empty string or an object {"name": ..., "contact": ...}'
BAD_NOTICES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("controller-number", _set("controller", 42), f"controller {CONTROLLER_SHAPE}"),
    ("controller-list", _set("controller", ["Pemprov"]), f"controller {CONTROLLER_SHAPE}"),
    ("controller-true", _set("controller", True), f"controller {CONTROLLER_SHAPE}"),
    ("controller-missing", _drop("controller"), "controller is missing"),
    ("controller-empty", _set("controller", " "), "controller must not be empty"),
    ("controller-other-member", _set("controller", {**CONTROLLER, "email": "a@b.id"}),
     "controller has unknown member(s) 'email'"),
    ("controller-no-contact", _set("controller", {"name": "Pemprov"}),
     "controller.contact is missing"),
    ("controller-name-number", _set("controller", {"name": 1, "contact": "x"}),
     "controller.name must be a string"),
    ("controller-contact-object", _set("controller", {"name": "P", "contact": {"e": "x"}}),
     "controller.contact must be a string"),
    ("item-id-number", _set("items.legality.id", 7), "items.legality.id must be a string"),
    ("item-id-empty", _set("items.legality.id", ""), "items.legality.id must not be empty"),
    ("item-en-list", _set("items.rights.en", ["x"]), "items.rights.en must be a string"),
    ("item-a-string", _set("items.purposes", "Tujuan"), "items.purposes must be an object"),
    ("item-other-member", _set("items.legality.ms", "x"),
     "items.legality has unknown member(s) 'ms'"),
    ("item-unknown", _set("items.marketing", {"id": "x"}), "unknown notice item(s): 'marketing'"),
    ("items-a-list", _set("items", []), "items must be an object"),
    ("dpo-email-number", _set("dpo.email", 5), "dpo.email must be a string"),
    ("dpo-name-missing", _drop("dpo.name"), "dpo.name is missing"),
    ("dpo-a-string", _set("dpo", "PPD"), "dpo must be an object"),
    ("dpo-other-member", _set("dpo.fax", "021"), "dpo has unknown member(s) 'fax'"),
    ("unknown-member", _set("version", 2), "the notice has unknown member(s) 'version'"),
    ("not-an-object", lambda document: [document], "a notice is a JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "change", "message"), BAD_NOTICES, ids=[c[0] for c in BAD_NOTICES]
)
def test_a_notice_of_the_wrong_shape_is_refused_in_one_line(
    operator: Operator,
    client_id: str,
    tmp_path: Path,
    case: str,
    change: Callable[[dict[str, Any]], object],
    message: str,
) -> None:
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(change(notice_content().to_json())))
    code, out, err = operator.jati("notice", "publish", "--client", client_id, "--file", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"jati: error: {message}") and err.count("\n") == 1, err
    assert operator.rows("consent_notice") == 0


def test_a_member_given_twice_is_refused(
    operator: Operator, client_id: str, tmp_path: Path
) -> None:
    body = json.dumps(notice_content().to_json())[1:]
    path = tmp_path / "notice.json"
    path.write_text('{"controller": "Pemprov DKI Jakarta", ' + body)
    code, _, err = operator.jati("notice", "publish", "--client", client_id, "--file", str(path))
    assert code == 1
    assert err == "jati: error: the notice file gives member 'controller' twice in one object\n"
    assert operator.rows("consent_notice") == 0
