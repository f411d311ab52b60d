"""``jati citizen import`` as an operator runs it (real processes, issue 18 part 6): a
population register's CSV registered in batches, each citizen with an activation code in a
0600 file; bad rows in the rejects file without their values; idempotent on the NIK; Ctrl-C
stops cleanly and the same command resumes; one audit entry per citizen, and the log
verifies."""

from __future__ import annotations

import csv
import json
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from identity.service.factories import build_account_access
from identity.service.settings import Settings
from identity.storage.database import Database
from tests import helpers
from tests.helpers import JATI, in_process, operator_env

HEADER = "nik,name,birthdate,email,phone,address"


def nik_of(n: int) -> str:
    """A valid NIK per ``n``: DKI Jakarta, born 1990-08-17, serial from 0001."""
    return f"31{n // 9999 % 99 + 1:02d}{n // 980_901 % 99 + 1:02d}170890{n % 9999 + 1:04d}"


def write_register(path: Path, count: int, *, bad: dict[int, str] | None = None) -> list[str]:
    """``count`` citizens (row ``n`` replaced by ``bad[n]``, a raw line); their NIKs."""
    lines, niks = [HEADER], []
    for n in range(count):
        if bad and n in bad:
            lines.append(bad[n])
            continue
        niks.append(nik_of(n))
        lines.append(f"{nik_of(n)},Warga Uji {n},1990-08-17,warga{n}@example.id,,")
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return niks


class Operator(helpers.Operator):
    def citizens(self) -> int:
        with self.database.read() as session:
            query = text("SELECT count(*) FROM identity_citizen")
            return int(session.execute(query).scalar_one())

    def import_(self, source: Path, codes: str, *extra: str) -> tuple[int, str, str]:
        code, out, err = self.jati(
            "citizen", "import", str(source), "--codes-out", str(self.cwd / codes), *extra
        )
        for value in ("Warga Uji", "example.id", nik_of(0)[:12]):  # no personal value printed
            assert value not in out and value not in err
        return code, out, err

    def codes(self, name: str) -> dict[str, str]:
        path = self.cwd / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
        assert rows[0] == ["nik", "activation_code"]
        found = dict(rows[1:])
        assert len(found) == len(rows) - 1, "one code per NIK"
        return found

    def audit_entries(self) -> int:
        """The entries of the verified log (``jati audit checkpoint`` integrates first)."""
        assert self.jati("audit", "checkpoint")[0] == 0
        code, out, err = self.jati("audit", "verify")
        assert code == 0, err
        return int(out.split()[1].replace(",", ""))


@pytest.fixture
def operator(tmp_path: Path, database: Database, database_url: str) -> Operator:
    return Operator(tmp_path, operator_env(tmp_path, database_url), database)


def test_imports_rejects_without_values_writes_0600_codes_that_activate(
    operator: Operator, make_settings: Callable[..., Settings]
) -> None:
    source = operator.cwd / "register.csv"
    bad = {
        3: "3171011708900,Nik Pendek,1990-08-17,,,",
        5: f"{nik_of(5)},Tanggal Salah,1990-08-18,,,",
        7: f"{nik_of(7)},,1990-08-17,,,",
        9: f"{nik_of(9)},Surel Salah,1990-08-17,bukan-surel,,",
        11: f"{nik_of(11)},Kolom Kurang",
    }
    niks = write_register(source, 40, bad=bad)
    code, out, err = operator.import_(source, "codes.csv", "--rejects", "rejects.csv", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {k: summary[k] for k in ("imported", "skipped", "rejected", "conflicts")} == {
        "imported": 35, "skipped": 0, "rejected": 5, "conflicts": 0,
    }  # fmt: skip
    assert summary["seconds"] >= 0 and summary["interrupted"] is False
    assert "codes.csv holds activation codes" in err and "delete it" in err
    rejects = (operator.cwd / "rejects.csv").read_text(encoding="utf-8")
    reasons = dict(csv.reader(rejects.splitlines()[1:]))
    assert sorted(reasons) == sorted(str(n + 2) for n in bad)  # the header is line 1
    assert "16 digits" in reasons["5"] and "does not match" in reasons["7"]
    assert reasons["9"].startswith("name:") and reasons["11"].startswith("email:")
    assert reasons["13"] == "expected 6 columns, found 2"
    for n in bad:  # never a value in the rejects file
        assert nik_of(n)[:12] not in rejects and "Salah" not in rejects
    codes = operator.codes("codes.csv")
    assert sorted(codes) == sorted(niks) and operator.citizens() == 35
    settings = make_settings()
    _, citizens = in_process(settings, operator.database)
    access = build_account_access(settings, operator.database, citizens)
    for nik in niks[:3]:
        ticket = access.check_activation(
            nik=nik, birthdate=date(1990, 8, 17), code=codes[nik], address=None
        )
        assert ticket.citizen_id == citizens.find_by_nik(nik)
    assert operator.audit_entries() == 35 + 3  # one per citizen, plus the birth-date reads


def test_a_wrong_header_or_an_existing_codes_file_writes_nothing(operator: Operator) -> None:
    source = operator.cwd / "register.csv"
    source.write_text("nik,nama,tanggal_lahir\n3171011708900001,Siti,1990-08-17\n")
    code, out, err = operator.import_(source, "codes.csv", "--rejects", "rejects.csv")
    assert (code, out) == (2, "") and err.startswith("jati: error: ")
    assert "header nik,name,birthdate" in err
    assert not (operator.cwd / "codes.csv").exists()
    assert not (operator.cwd / "rejects.csv").exists()
    write_register(source, 3)
    (operator.cwd / "codes.csv").write_text("kept\n")
    code, out, err = operator.import_(source, "codes.csv")
    assert (code, out) == (2, "") and "codes.csv exists" in err
    assert (operator.cwd / "codes.csv").read_text() == "kept\n"
    register = source.read_text()  # --rejects naming an existing file (the register itself)
    code, out, err = operator.import_(source, "new-codes.csv", "--rejects", str(source))
    assert (code, out) == (2, "") and "register.csv exists" in err
    assert source.read_text() == register and not (operator.cwd / "new-codes.csv").exists()
    assert operator.citizens() == 0


def test_running_again_skips_every_nik_done(operator: Operator) -> None:
    source = operator.cwd / "register.csv"
    write_register(source, 12)
    assert operator.import_(source, "first.csv")[0] == 0
    code, out, err = operator.import_(source, "second.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["skipped"] == 12 and json.loads(out)["imported"] == 0
    assert operator.codes("second.csv") == {}
    assert operator.citizens() == 12


def test_check_conflicts_reports_a_changed_name_through_the_audited_path(
    operator: Operator,
) -> None:
    source = operator.cwd / "register.csv"
    write_register(source, 4)
    assert operator.import_(source, "first.csv")[0] == 0
    write_register(source, 4, bad={2: f"{nik_of(2)},Nama Lain,1990-08-17,,,"})
    code, out, err = operator.import_(
        source, "second.csv", "--check-conflicts", "--rejects", "rejects.csv", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["skipped"] == 3 and json.loads(out)["conflicts"] == 1
    rejects = (operator.cwd / "rejects.csv").read_text()
    conflict = "conflict: the NIK is registered with a different name or birth date"
    assert rejects.splitlines()[1] == f"4,{conflict}"
    assert operator.audit_entries() == 4 + 4  # the registrations, then one read per check


def test_ctrl_c_stops_after_a_batch_and_the_same_command_resumes(operator: Operator) -> None:
    source = operator.cwd / "register.csv"
    niks = write_register(source, 30_000)
    process = subprocess.Popen(
        [*JATI, "citizen", "import", str(source), "--codes-out", str(operator.cwd / "a.csv")],
        cwd=operator.cwd, env=operator.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while operator.citizens() == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted after line" in err and "resumes" in err
    done = operator.citizens()
    assert 0 < done < len(niks)
    first = operator.codes("a.csv")
    assert len(first) == done, "the codes of every committed citizen, and only those"
    code, out, err = operator.import_(source, "b.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["skipped"] == done and json.loads(out)["imported"] == len(niks) - done
    second = operator.codes("b.csv")
    assert not set(first) & set(second) and sorted(first | second) == sorted(niks)
    assert operator.citizens() == len(niks)
    assert operator.audit_entries() == len(niks)
