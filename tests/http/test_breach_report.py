"""``jati audit breach-report`` (UU PDP Art. 46) and the recording of auditor commands.

An app is presumed compromised: the report must list exactly the citizens it accessed in the
window, with the data items, actions, first and last access and count, and nobody else (not
other apps' accesses, not accesses outside the window, not refused reads). It names citizens
by internal id and pseudonym, never by NIK or name; ``--with-contact`` adds the email and
phone for the notice, each read through the one audited access path. Real processes, the
same database and master key as the in-process service.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audit.breach import BreachWindow, collect_breach
from audit.cli import BREACH_CSV_FIELDS, CONTACT_FIELDS, cli_actor
from audit.entry import (
    Action,
    Actor,
    ActorKind,
    AuditEntry,
    LegalBasis,
    Outcome,
    decode_entry,
    encode_entry,
    format_time,
)
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.records import StoredLeaf
from audit.storage.store import SqlAuditStore
from identity.citizens.service import CitizenService
from identity.errors import CitizenErased
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import ManualClock
from tests.helpers import Operator, in_process, operator_env
from tests.oidc_helpers import register_citizen
from tests.personal_data import SAMPLE, seeded

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(days=1)
LEAKY = Actor(kind=ActorKind.RELYING_APP, id="app-bocor")
GOOD = Actor(kind=ActorKind.RELYING_APP, id="app-baik")
SETUP = Actor(kind=ActorKind.SYSTEM, id="test-setup")
(UNREGISTERED_NIK,) = seeded("3171011708900009")  # well-formed, nobody's


def _person(nik: str, name: str, birthdate: str, email: str, phone: str | None) -> dict[str, Any]:
    seeded(nik, name, email, *([phone] if phone else []))
    return {"nik": nik, "name": name, "birthdate": birthdate, "email": email, "phone": phone}


PEOPLE = {
    "siti": _person(
        SAMPLE["nik"], SAMPLE["name"], SAMPLE["birthdate"], SAMPLE["email"], SAMPLE["phone"]
    ),
    "budi": _person(
        "3171010203850004", "Budi Santoso Wibowo", "1985-03-02", "budi.santoso@contoh.go.id", None
    ),
    "dewi": _person(
        "3273024512920005",
        "Dewi Lestari Kusuma",
        "1992-12-05",
        "dewi.kusuma@contoh.go.id",
        "+6285612345678",
    ),
    "rina": _person(
        "3578016608950006",
        "Rina Puspitasari Hadi",
        "1995-08-26",
        "rina.hadi@contoh.go.id",
        "+6281398765432",
    ),
    "fajar": _person(
        "5171022011880007",
        "Fajar Nugroho Saputra",
        "1988-11-20",
        "fajar.saputra@contoh.go.id",
        "+6287712340987",
    ),
    "eka": _person(
        "6471031507000008", "Eka Prasetya Wijaya", "2000-07-15", "eka.wijaya@contoh.go.id", None
    ),
}
IDENTIFYING = [value for person in PEOPLE.values() for value in (person["nik"], person["name"])]
CONTACTS = [
    value
    for person in PEOPLE.values()
    for value in (person["email"], person["phone"])
    if value is not None
]


@dataclass
class Scene(Operator):
    """The service's citizens and log in-process, and the ``jati`` command's environment."""

    log: AuditLog
    pseudonymizer: SubjectPseudonymizer
    citizens: CitizenService
    clock: ManualClock
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> SqlAuditStore:
        store = self.log.store
        assert isinstance(store, SqlAuditStore)
        return store

    def pseudonym(self, name: str) -> str:
        return self.pseudonymizer.pseudonym(self.ids[name])

    def jati(
        self, *args: str, stdin: str | None = None, contact_allowed: bool = False
    ) -> tuple[int, str, str]:
        code, out, err = super().jati(*args, stdin=stdin)
        for value in IDENTIFYING + ([] if contact_allowed else CONTACTS):
            assert value not in out, f"{value!r} on stdout"
        for value in IDENTIFYING + CONTACTS:
            assert value not in err, f"{value!r} on stderr"
        return code, out, err

    def report(self, *extra: str, actor: str = LEAKY.id, **kwargs: Any) -> tuple[int, str, str]:
        return self.jati(
            "audit", "breach-report", "--actor", actor,
            "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), *extra, **kwargs,
        )  # fmt: skip

    def read(self, at: datetime, name: str, *fields: str, actor: Actor = LEAKY) -> None:
        self.clock.now = at
        self.citizens.read_personal_data(
            self.ids[name], fields, actor=actor, purpose="social-aid",
            legal_basis=LegalBasis.PUBLIC_TASK,
        )  # fmt: skip

    def append(self, *entries: AuditEntry) -> None:
        with self.database.write() as session:
            self.store.append_encoded(
                session, [encode_entry(e) for e in entries], queued_at=datetime.now(UTC)
            )

    def queued(self) -> int:
        return self.store.queue_status().length

    def size(self) -> int:
        state = self.store.tree_state()
        return state.tree_size if state else 0

    def entries(self, start: int = 0) -> list[AuditEntry]:
        return (
            [decode_entry(e) for _, e in self.store.leaves(start, self.size())]
            if (start < self.size())
            else []
        )


@pytest.fixture
def scene(
    tmp_path: Path, database_url: str, database: Database, make_settings: Callable[..., Settings]
) -> Scene:
    clock = ManualClock(T0 - timedelta(days=30))
    audit_log, citizens = in_process(make_settings(), database, clock)
    audit_log.initialize()
    env = operator_env(
        tmp_path, database_url, JATI_ISSUER="http://testserver", JATI_LOG_LEVEL="DEBUG"
    )
    scene = Scene(tmp_path, env, database, audit_log, citizens.pseudonymizer, citizens, clock)
    for key, person in PEOPLE.items():
        scene.ids[key] = register_citizen(citizens, person, actor=SETUP)
    clock.now = T0 - timedelta(days=10)
    citizens.erase(scene.ids["eka"], actor=SETUP)
    return scene


GHOST = SubjectPseudonymizer(b"g" * 32).pseudonym("not-a-citizen")


@pytest.fixture
def breach(scene: Scene) -> Scene:
    """The leaky app's accesses, inside and outside the window, among other apps' ones."""
    scene.read(T0 - timedelta(hours=1), "dewi", "name")  # before the window
    scene.read(T0 + timedelta(hours=1), "siti", "name", "email")
    scene.read(T0 + timedelta(hours=2), "siti", "address")
    scene.read(T0 + timedelta(hours=2), "dewi", "name", actor=GOOD)  # another app
    scene.read(T0 + timedelta(hours=2), "siti", "nik", actor=GOOD)
    scene.read(T0 + timedelta(hours=3), "budi", "nik")
    scene.read(T0 + timedelta(hours=4), "fajar", "phone")
    scene.clock.now = T0 + timedelta(hours=5)
    scene.citizens.erase(scene.ids["fajar"], actor=SETUP)  # affected, then erased
    with pytest.raises(CitizenErased):  # a refused read exposes nothing
        scene.read(T0 + timedelta(hours=6), "eka", "email")
    scene.append(
        AuditEntry(  # about a subject that is no registered citizen
            time=T0 + timedelta(hours=7), actor=LEAKY, action=Action.DISCLOSE, subject=GHOST,
            data_items=("name",), purpose="social-aid", legal_basis=LegalBasis.PUBLIC_TASK,
        ),
        AuditEntry(time=T0 + timedelta(hours=8), actor=LEAKY, action=Action.TOKEN_ISSUED),
    )  # fmt: skip
    scene.read(UNTIL, "rina", "phone")  # the window's end is exclusive
    scene.log.sequence(checkpoint=True)
    return scene


def _expected_rows(scene: Scene) -> list[dict[str, Any]]:
    def row(
        citizen: str | None, items: list[str], first: int, last: int, count: int, **kw: Any
    ) -> dict[str, Any]:
        return {
            "citizen_id": scene.ids[citizen] if citizen else None,
            "subject": scene.pseudonym(citizen) if citizen else GHOST,
            "data_items": items,
            "actions": kw.get("actions", ["read"]),
            "first_access": format_time(T0 + timedelta(hours=first)),
            "last_access": format_time(T0 + timedelta(hours=last)),
            "accesses": count,
        }

    return [
        row("siti", ["address", "email", "name"], 1, 2, 2),
        row("budi", ["nik"], 3, 3, 1),
        row("fajar", ["phone"], 4, 4, 1),
        row(None, ["name"], 7, 7, 1, actions=["disclose"]),
    ]


def test_the_report_lists_exactly_the_affected_citizens_and_items(breach: Scene) -> None:
    queued = breach.queued()
    code, out, err = breach.report()
    assert code == 0, err
    assert out.endswith("\n")
    report = json.loads(out)
    assert report == {
        "report": "uu-pdp-art-46-breach",
        "actor": LEAKY.id,
        "since": format_time(SINCE),
        "until": format_time(UNTIL),
        "affected_citizens": 4,
        "entries": 7,
        "entries_without_subject": 1,
        "entries_not_successful": 1,
        "invalid_entries": 0,
        "citizens": _expected_rows(breach),
    }
    # The report is itself an auditor query, recorded (with the operator, no values).
    assert breach.queued() == queued + 1
    size = breach.size()
    breach.log.sequence(checkpoint=True)
    (entry,) = breach.entries(size)
    assert entry.actor == cli_actor()
    assert (entry.action, entry.purpose, entry.legal_basis, entry.subject) == (
        Action.READ,
        "audit-query",
        LegalBasis.LEGAL_OBLIGATION,
        None,
    )
    assert entry.data_items == (
        "audit:breach-report",
        "filter:actor",
        "filter:since",
        "filter:until",
    )


def test_the_report_as_csv(breach: Scene) -> None:
    code, out, err = breach.report("--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(BREACH_CSV_FIELDS)
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = _expected_rows(breach)
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row == {
            **{k: str(v) for k, v in want.items() if k not in ("data_items", "actions")},
            "citizen_id": want["citizen_id"] or "",
            "data_items": ";".join(want["data_items"]),
            "actions": ";".join(want["actions"]),
        }


def test_with_contact_reads_through_the_audited_path(breach: Scene) -> None:
    size = breach.size()
    code, out, err = breach.report("--with-contact", contact_allowed=True)
    assert code == 0, err
    rows = json.loads(out)["citizens"]
    contact = {(r["citizen_id"], r["email"], r["phone"], r["erased"]) for r in rows}
    siti, budi = PEOPLE["siti"], PEOPLE["budi"]
    assert contact == {
        (breach.ids["siti"], siti["email"], siti["phone"], False),
        (breach.ids["budi"], budi["email"], None, False),
        (breach.ids["fajar"], None, None, True),  # erased: nothing left to read
        (None, None, None, False),  # no citizen behind the pseudonym: nothing read
    }
    for row, want in zip(rows, _expected_rows(breach), strict=True):
        assert {k: row[k] for k in want} == want
    code, out, err = breach.report("--with-contact", "--format", "csv", contact_allowed=True)
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(BREACH_CSV_FIELDS + CONTACT_FIELDS)

    # Each contact read is in the log: actor = the operator, purpose breach-notification.
    breach.log.sequence(checkpoint=True)
    recorded = [e for e in breach.entries(size) if e.purpose == "breach-notification"]
    operator = cli_actor()
    expected_reads = [
        (breach.pseudonym("siti"), Outcome.SUCCESS),
        (breach.pseudonym("budi"), Outcome.SUCCESS),
        (breach.pseudonym("fajar"), Outcome.DENIED),
    ]
    assert [(e.subject, e.outcome) for e in recorded] == expected_reads * 2  # JSON, then CSV
    for entry in recorded:
        assert entry.actor == operator and operator.kind is ActorKind.OFFICIAL
        assert entry.action is Action.READ
        assert entry.legal_basis is LegalBasis.LEGAL_OBLIGATION
        assert entry.data_items == ("email", "phone")
    # No contact was read without --with-contact.
    size = breach.size()
    assert breach.report()[0] == 0
    breach.log.sequence(checkpoint=True)
    assert [e.purpose for e in breach.entries(size)] == ["audit-query"]


def test_nothing_matched_is_an_empty_report_and_exit_0(breach: Scene) -> None:
    for actor in ("app-tidak-ada", GOOD.id, "test-setup"):
        code, out, err = breach.report(actor=actor)
        assert code == 0, err
        report = json.loads(out)
        if actor == GOOD.id:  # its accesses exist, but none is the leaky app's
            assert {r["citizen_id"] for r in report["citizens"]} == {
                breach.ids["dewi"],
                breach.ids["siti"],
            }
            continue
        if actor == "test-setup":  # registrations and erasures were before the window
            assert [r["citizen_id"] for r in report["citizens"]] == [breach.ids["fajar"]]
            continue
        assert report["citizens"] == [] and report["affected_citizens"] == 0
    code, out, err = breach.report("--format", "csv", actor="app-tidak-ada")
    assert (code, out) == (0, ",".join(BREACH_CSV_FIELDS) + "\n"), err


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--actor", "a", "--since", "2026-03-02", "--until", "2026-03-01"], 1, "after its start"),
        (["--actor", "a", "--since", "2026-03-01", "--until", "2026-03-01"], 1, "after its start"),
        (["--actor", "", "--since", "2026-03-01", "--until", "2026-03-02"], 1, "actor's id"),
        (["--since", "2026-03-01", "--until", "2026-03-02"], 2, "--actor"),
        (["--actor", "a", "--until", "2026-03-02"], 2, "--since"),
        (["--actor", "a", "--since", "kemarin", "--until", "2026-03-02"], 2, "--since"),
        (["--actor", "a", "--since", "2026-03-01", "--until", "2026-03-02", "--format", "xml"],
         2, "--format"),
    ],
    ids=["reversed", "empty-window", "empty-actor", "no-actor", "no-since", "bad-since", "xml"],
)  # fmt: skip
def test_bad_arguments_are_one_line_and_change_nothing(
    scene: Scene, args: list[str], status: int, message: str
) -> None:
    before = (scene.queued(), scene.size())
    code, out, err = scene.jati("audit", "breach-report", *args)
    assert code == status
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("jati: error: "), err
    assert message in err
    assert (scene.queued(), scene.size()) == before


def test_the_report_streams_a_log_larger_than_a_page(scene: Scene) -> None:
    """2,500 entries of one app: more than two of the log's 1,000-entry query pages."""
    names = ("siti", "budi", "dewi")
    items = (("name",), ("email",), ("nik", "name"), ("address",))
    entries = [
        AuditEntry(
            time=T0 + timedelta(seconds=10 * n), actor=LEAKY, action=Action.DISCLOSE,
            subject=scene.pseudonym(names[n % 3]), data_items=items[n % 4],
            purpose="social-aid", legal_basis=LegalBasis.PUBLIC_TASK,
        )
        for n in range(2500)
    ]  # fmt: skip
    scene.append(*entries)
    scene.log.sequence(checkpoint=True)
    code, out, err = scene.report()
    assert code == 0, err
    report = json.loads(out)
    assert report["entries"] == 2500
    rows = {row["citizen_id"]: row for row in report["citizens"]}
    assert [rows[scene.ids[n]]["accesses"] for n in names] == [834, 833, 833]
    for n, name in enumerate(names):
        own = [e for i, e in enumerate(entries) if i % 3 == n]
        row = rows[scene.ids[name]]
        assert row["data_items"] == sorted({i for e in own for i in e.data_items})
        assert row["first_access"] == format_time(own[0].time)
        assert row["last_access"] == format_time(own[-1].time)


def test_collect_breach_folds_any_iterable_of_leaves() -> None:
    """The core on its own: a generator (nothing kept), other actors and times ignored."""
    window = BreachWindow(actor_id=LEAKY.id, since=SINCE, until=UNTIL)
    subject = SubjectPseudonymizer(b"k" * 32).pseudonym("c-1")

    def leaves() -> Any:
        for n in range(5000):
            actor = LEAKY if n % 2 else GOOD
            at = T0 + timedelta(minutes=n)  # the window holds the first 1,440 minutes
            entry = AuditEntry(
                time=at, actor=actor, action=Action.READ, subject=subject,
                data_items=(f"item-{n % 3}",),
            )  # fmt: skip
            yield StoredLeaf(
                n, encode_entry(entry), b"", at, subject, actor.kind.value, actor.id, "read", None
            )

    findings = collect_breach(window, leaves())
    (affected,) = findings.affected.values()
    assert findings.entries == affected.accesses == 720
    assert affected.data_items == {"item-0", "item-1", "item-2"}
    assert affected.first_access == T0 + timedelta(minutes=1)
    assert affected.last_access == T0 + timedelta(minutes=1439)


def test_audit_query_on_the_command_line_is_recorded(scene: Scene) -> None:
    """`jati audit query` appends one entry per run, naming the operator, never the NIK."""
    scene.log.sequence(checkpoint=True)
    size = scene.size()
    code, out, err = scene.jati("audit", "query", "--subject", PEOPLE["siti"]["nik"])
    assert code == 0, err
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["create"]
    code, _, err = scene.jati("audit", "query", "--actor", "app-x", "--since", "2026-01-01")
    assert code == 0, err
    code, _, err = scene.jati("audit", "query", "--subject", UNREGISTERED_NIK)
    assert code == 1 and "no citizen is registered with this NIK" in err
    scene.log.sequence(checkpoint=True)
    recorded = scene.entries(size)
    assert [(e.subject, e.data_items) for e in recorded] == [
        (scene.pseudonym("siti"), ("audit:events", "filter:nik")),
        (None, ("audit:events", "filter:actor", "filter:since")),
    ]
    for entry in recorded:
        assert entry.actor == cli_actor()
        assert (entry.purpose, entry.legal_basis) == ("audit-query", LegalBasis.LEGAL_OBLIGATION)
        assert PEOPLE["siti"]["nik"].encode() not in encode_entry(entry)
