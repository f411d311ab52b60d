"""``jati requests overdue`` and ``jati requests list`` as an operator runs them (real processes).

UU PDP Art. 14: rights are exercised by recorded requests, and the controller must answer
access, correction and restriction within 3x24 hours (Art. 30, 32, 41); the overdue report
lists the requests past that deadline and not completed: ids, kinds and times, never
personal data. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audit.entry import Actor, ActorKind
from consent.requests.records import RequestStatus
from consent.requests.service import RequestService
from identity.service.settings import Settings
from identity.storage.database import Database
from tests import helpers
from tests.conftest import TEST_MASTER_KEY, ManualClock
from tests.helpers import clean_env, in_process, operator_env, run_jati
from tests.personal_data import seeded
from tests.storage.test_requests import make_requests

NIK, NAME, EMAIL = seeded("3171014101900003", "Siti Nurhaliza Rahayu", "siti.lama@contoh.go.id")
NEW_EMAIL = seeded("siti.cli@contoh.go.id")[0]
PERSONAL = (NIK, NAME, EMAIL, NEW_EMAIL, "1990-01-01")


class _Unavailable:
    """An identity side whose reads fail, so that an access request stays ``received`` (a
    failed correction is closed as refused instead: its values are not kept)."""

    def export(self, subject_id: str, *, request_id: str) -> Any:
        raise RuntimeError("identity database unavailable")


@dataclass
class Operator(helpers.Operator):
    clock: ManualClock
    service: RequestService
    citizen_id: str

    def jati(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        code, out, err = super().jati(*args, stdin=stdin)
        for value in PERSONAL:
            assert value not in out and value not in err
        assert self.citizen_id not in out  # not even the internal id
        return code, out, err

    def stuck_request(self) -> str:
        """An access request whose export failed: recorded, still ``received``."""
        working = self.service.exporter
        self.service.exporter = _Unavailable()
        try:
            with pytest.raises(RuntimeError):
                self.service.export(self.citizen_id)
        finally:
            self.service.exporter = working
        (stuck,) = self.service.register.listing(status=RequestStatus.RECEIVED, limit=1)
        return stuck.id


@pytest.fixture
def operator(
    tmp_path: Path, database: Database, database_url: str, make_settings: Callable[..., Settings]
) -> Operator:
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="DEBUG")
    clock = ManualClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))  # long before the real now
    audit_log, citizens = in_process(make_settings(), database, clock)
    citizen_id = citizens.register(
        nik=NIK,
        name=NAME,
        birthdate=date(1990, 1, 1),
        email=EMAIL,
        password="kata sandi rahasia",
        actor=Actor(ActorKind.OFFICIAL, "dukcapil-officer-7"),
    )
    service = make_requests(database, citizens, audit_log, clock)
    return Operator(tmp_path, env, database, clock, service, citizen_id)


def test_overdue_lists_requests_past_72_hours_and_nothing_else(operator: Operator) -> None:
    late = operator.stuck_request()
    operator.service.submit(operator.citizen_id, "access")  # completed at once
    operator.service.submit(operator.citizen_id, "restriction")  # completed at once
    operator.clock.now = datetime.now(UTC) - timedelta(hours=1)
    operator.stuck_request()  # received an hour ago: due in 71 hours

    status, out, err = operator.jati("requests", "overdue", "--json")
    assert status == 0, err
    report = json.loads(out)
    (row,) = report["overdue"]
    assert row["id"] == late and row["kind"] == "access" and row["status"] == "received"
    assert row["received_at"].startswith("2025-03-01T09:00:00")
    assert row["due_by"].startswith("2025-03-04T09:00:00")
    now = datetime.fromisoformat(report["now"])
    expected = (now - datetime(2025, 3, 4, 9, 0, tzinfo=UTC)).total_seconds() / 3600
    assert row["hours_late"] == pytest.approx(expected, abs=0.1)
    assert set(row) == {"id", "kind", "status", "received_at", "due_by", "hours_late"}

    status, out, _ = operator.jati("requests", "overdue")
    assert status == 0
    (line,) = out.splitlines()
    assert line.startswith(late) and "access" in line and "h late" in line


def test_overdue_with_nothing_late(operator: Operator) -> None:
    operator.service.submit(operator.citizen_id, "erasure")  # no deadline, done at once
    status, out, _ = operator.jati("requests", "overdue")
    assert (status, out.strip()) == (0, "no overdue requests")
    status, out, _ = operator.jati("requests", "overdue", "--json")
    assert json.loads(out)["overdue"] == []


def test_list_by_status(operator: Operator) -> None:
    stuck = operator.stuck_request()
    operator.clock.advance(60)
    correction = operator.service.submit(
        operator.citizen_id, "correction", changes={"email": NEW_EMAIL}
    )
    operator.clock.advance(60)
    erasure = operator.service.submit(operator.citizen_id, "erasure")

    status, out, err = operator.jati("requests", "list", "--json")
    assert status == 0, err
    listed = json.loads(out)["requests"]
    assert [r["id"] for r in listed] == [erasure.id, correction.id, stuck]
    assert listed[0]["outcome"]["action"] == "erased"
    assert listed[1]["fields"] == ["email"]  # the name of the field, never its value

    status, out, _ = operator.jati("requests", "list", "--status", "received", "--json")
    assert [r["id"] for r in json.loads(out)["requests"]] == [stuck]
    status, out, _ = operator.jati("requests", "list", "--limit", "1")
    (line,) = out.splitlines()
    assert line.startswith(erasure.id) and "erasure" in line and "completed" in line


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("requests", "list", "--status", "late"), 2, "invalid choice"),
        (("requests", "list", "--limit", "0"), 1, "limit: between 1 and 100000"),
        (("requests",), 2, "required"),
    ],
)
def test_errors_are_one_line(
    operator: Operator, args: tuple[str, ...], code: int, message: str
) -> None:
    status, out, err = operator.jati(*args)
    assert status == code
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_an_unmigrated_database_is_one_clear_line(tmp_path: Path) -> None:
    env = clean_env(
        JATI_DATA_DIR=str(tmp_path / "data"),
        JATI_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
        JATI_MASTER_KEY=TEST_MASTER_KEY,
    )
    result = run_jati("requests", "overdue", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("jati: error: database error") and "jati db upgrade" in line
