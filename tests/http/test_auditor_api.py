"""The Auditor API (issue 5; UU PDP Art. 31, 46) with real tokens, citizens and log.

An auditor app holds a client-credentials access token for Jati with scope ``audit:read``.
It filters ``GET /audit/events`` by citizen (NIK through the keyed blind index, internal id,
or pseudonym), actor, purpose and time window, and pages with ``after``/``next_after`` and
the RFC 8288 ``Link: rel="next"`` header. Every call that answers appends exactly one entry
naming the auditor; refused and malformed calls append nothing; the NIK reaches neither the
log's entries nor the application logs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from audit.checkpoint import open_checkpoint
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, decode_entry
from audit.merkle.proof_verification import verify_inclusion
from audit.merkle.tree_hash import hash_leaf
from audit.note import NoteVerifier
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import ManualClock, append_entries
from tests.oidc_helpers import BUDI, AppHarness, make_app, register_citizen
from tests.personal_data import SAMPLE, ServiceLines, citizen, seeded

ISSUER = "http://testserver"
AUDITOR = "bpk-auditor-1"
OTHER_AUDITOR = "inspektorat-2"
PROBLEM_JSON = "application/problem+json"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

# Citizens of these tests: every personal value is registered with the log watch.
SITI = {key: SAMPLE[key] for key in ("nik", "name", "email", "birthdate")}  # no phone, address
DEWI = citizen(
    nik="3273024512920005",
    name="Dewi Lestari Kusuma",
    email="dewi.kusuma@contoh.go.id",
    birthdate="1992-12-05",
)
(UNREGISTERED_NIK,) = seeded("3171011708900002")  # well-formed, nobody's
CITIZENS = {"siti": SITI, "budi": BUDI, "dewi": DEWI}
ALL_NIKS = (SITI["nik"], BUDI["nik"], DEWI["nik"], UNREGISTERED_NIK)


@dataclass
class AuditorApi(AppHarness):
    ids: dict[str, str] = field(default_factory=dict)
    entries: list[AuditEntry] = field(default_factory=list)

    def pseudonym(self, name: str) -> str:
        return self.pseudonymizer.pseudonym(self.ids[name])

    def auth(self, client_id: str = AUDITOR, scope: tuple[str, ...] = ("audit:read",)) -> Any:
        token = self.services.token_issuer.access_token(
            client_id=client_id, scope=scope, audience=ISSUER
        )
        return {"Authorization": f"Bearer {token.token}"}

    def get(self, url: str, headers: Any = None, **params: Any) -> Any:
        return self.client.get(
            url, params=params, headers=self.auth() if headers is None else headers
        )

    def queued(self) -> int:
        return self.store.queue_status().length

    def all_leaves(self) -> list[tuple[int, AuditEntry]]:
        state = self.store.tree_state()
        size = state.tree_size if state else 0
        return [(i, decode_entry(e)) for i, e in self.store.leaves(0, size)]


def _entry(n: int, subject: str, **overrides: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "time": T0 + timedelta(minutes=n),
        "actor": Actor(kind=ActorKind.RELYING_APP, id=("app-dinsos", "app-pajak", "app-rs")[n % 3]),
        "action": Action.DISCLOSE,
        "subject": subject,
        "data_items": ("address", "name"),
        "purpose": ("social-aid", "tax")[n % 2],
        "legal_basis": LegalBasis.PUBLIC_TASK,
    }
    values.update(overrides)
    return AuditEntry(**values)


@pytest.fixture
def api(make_settings: Callable[..., Settings], database: Database) -> Iterator[AuditorApi]:
    app = make_app(make_settings(), database)
    with TestClient(app) as client:
        harness = AuditorApi(app, client, database)
        for key, person in CITIZENS.items():
            harness.ids[key] = register_citizen(
                harness.services.citizens, person, actor=Actor(ActorKind.SYSTEM, "test-setup")
            )
        # 24 accesses, one a minute from T0, spread over the three citizens, three apps
        # and two purposes.
        names = list(CITIZENS)
        harness.entries = [_entry(n, harness.pseudonym(names[n % 3])) for n in range(24)]
        append_entries(database, harness.store, harness.entries, ManualClock())
        harness.log.sequence(checkpoint=True)
        yield harness


def _page(api: AuditorApi, **params: Any) -> dict[str, Any]:
    response = api.get("/audit/events", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"events", "next_after"}
    return body


def _expected(api: AuditorApi, keep: Callable[[AuditEntry], bool]) -> list[int]:
    return [i for i, entry in api.all_leaves() if keep(entry)]


def _indices(body: dict[str, Any]) -> list[int]:
    return [event["leaf_index"] for event in body["events"]]


# ------------------------------------------------------------------ filtering


def test_a_nik_finds_exactly_that_citizens_events(api: AuditorApi) -> None:
    siti = api.pseudonym("siti")
    expected = _expected(api, lambda e: e.subject == siti)
    assert len(expected) == 1 + 8  # the registration and every third access
    body = _page(api, subject=SITI["nik"], limit=1000)
    assert _indices(body) == expected
    assert {event["subject"] for event in body["events"]} == {siti}
    assert body["next_after"] is None
    # The same citizen by internal id and by pseudonym.
    assert _indices(_page(api, subject_id=api.ids["siti"], limit=1000)) == expected
    assert _indices(_page(api, subject=siti, limit=1000)) == expected
    # A NIK with surrounding blanks is the same NIK.
    assert _indices(_page(api, subject=f" {SITI['nik']} ", limit=1000)) == expected


def test_filters_by_actor_purpose_and_window_combine(api: AuditorApi) -> None:
    budi = api.pseudonym("budi")
    since, until = T0 + timedelta(minutes=4), T0 + timedelta(minutes=19)
    body = _page(
        api,
        subject=BUDI["nik"],
        actor="app-pajak",
        purpose="tax",
        since=(since + timedelta(hours=7)).replace(tzinfo=None).isoformat() + "+07:00",
        until=until.isoformat(),
    )
    expected = _expected(
        api,
        lambda e: (
            e.subject == budi
            and e.actor.id == "app-pajak"
            and e.purpose == "tax"
            and since <= e.time < until
        ),
    )
    assert expected and _indices(body) == expected
    for event in body["events"]:
        assert event["actor"] == {"kind": "relying_app", "id": "app-pajak"}
        assert event["purpose"] == "tax" and event["subject"] == budi
    by_actor = _page(api, actor="app-rs", limit=1000)
    assert _indices(by_actor) == _expected(api, lambda e: e.actor.id == "app-rs")
    by_purpose = _page(api, purpose="social-aid", limit=1000)
    assert _indices(by_purpose) == _expected(api, lambda e: e.purpose == "social-aid")
    window = _page(api, since="2026-01-05T08:10:00Z", until="2026-01-05T08:13:00Z")
    assert _indices(window) == _expected(
        api, lambda e: T0 + timedelta(minutes=10) <= e.time < T0 + timedelta(minutes=13)
    )
    assert len(window["events"]) == 3


def test_pages_follow_the_cursor_and_the_link_header(api: AuditorApi) -> None:
    dewi = api.pseudonym("dewi")
    expected = _expected(api, lambda e: e.subject == dewi and e.purpose == "social-aid")
    assert len(expected) >= 4
    seen: list[int] = []
    params: dict[str, Any] = {"subject": DEWI["nik"], "purpose": "social-aid", "limit": 3}
    pages = 0
    while True:
        response = api.get("/audit/events", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        seen += _indices(body)
        if body["next_after"] is None:
            assert "link" not in response.headers
            break
        assert body["next_after"] == body["events"][-1]["leaf_index"]
        assert len(body["events"]) == 3
        link = response.headers["link"]
        assert link.endswith('>; rel="next"') and link.startswith("</audit/events?")
        assert DEWI["nik"] not in link  # the next page names the citizen by pseudonym
        query = parse_qs(urlsplit(link[1 : link.index(">")]).query)
        assert query == {
            "subject": [dewi],
            "purpose": ["social-aid"],
            "after": [str(body["next_after"])],
            "limit": ["3"],
        }
        params = {key: values[0] for key, values in query.items()}
    assert seen == expected
    assert pages == len(expected) // 3 + 1  # a full last page is followed by an empty one


def test_an_unknown_nik_is_an_empty_page_and_a_malformed_one_is_400(api: AuditorApi) -> None:
    before = api.queued()
    body = _page(api, subject=UNREGISTERED_NIK)
    assert body == {"events": [], "next_after": None}
    assert api.queued() == before + 1  # the query is recorded all the same
    malformed = [
        "317101170890000",  # 15 digits
        "12345678901234567",  # 17 digits (contains no seeded NIK: the test client logs URLs)
        "3171O11708900002",  # a letter O
        "9971011708900002",  # no such province
        "3171011713900002",  # month 13
        "3171011708900000",  # serial 0000
    ]
    for nik in malformed:
        response = api.get("/audit/events", subject=nik)
        assert response.status_code == 400, (nik, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        assert nik not in response.text
    both = api.get("/audit/events", subject=SITI["nik"], subject_id=api.ids["siti"])
    assert both.status_code == 400
    assert SITI["nik"] not in both.text
    assert api.queued() == before + 1  # refused queries record nothing


# ------------------------------------------------------------------ who may ask


def test_only_an_auditor_apps_own_token_with_audit_read_is_answered(api: AuditorApi) -> None:
    before = api.queued()
    citizen_token = api.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=api.ids["siti"], scope=["me"], auth_time=None
    ).token
    citizen_with_scope = api.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=api.ids["siti"], scope=["me", "audit:read"], auth_time=None
    ).token
    relying_app = api.services.token_issuer.access_token(
        client_id=AUDITOR, scope=["audit:read"]
    ).token
    refused = {
        "citizen token (scope me)": ({"Authorization": f"Bearer {citizen_token}"}, 403),
        "citizen token with audit:read": (
            {"Authorization": f"Bearer {citizen_with_scope}"},
            401,
        ),
        "auditor token without audit:read": (api.auth(scope=("openid",)), 403),
        "token for another audience": ({"Authorization": f"Bearer {relying_app}"}, 401),
        "no token": ({}, 401),
    }
    for url in ("/audit/events?subject=" + SITI["nik"], "/audit/leaves?start=0&end=2"):
        for case, (headers, status) in refused.items():
            response = api.client.get(url, headers=headers)
            assert response.status_code == status, (url, case, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.headers["www-authenticate"].startswith("Bearer error=")
            assert "events" not in response.json() and SITI["nik"] not in response.text
    assert api.queued() == before


# ------------------------------------------------------------------ every query is recorded


def test_each_query_appends_one_entry_naming_the_auditor(api: AuditorApi) -> None:
    calls: list[tuple[str, dict[str, Any], str | None, list[str]]] = [
        ("/audit/events", {}, None, ["audit:events"]),
        (
            "/audit/events",
            {"subject": SITI["nik"], "actor": "app-rs", "since": "2026-01-05T08:00:00Z"},
            api.pseudonym("siti"),
            ["audit:events", "filter:actor", "filter:nik", "filter:since"],
        ),
        (
            "/audit/events",
            {"subject_id": api.ids["budi"], "purpose": "tax", "until": "2026-02-01T00:00:00Z"},
            api.pseudonym("budi"),
            ["audit:events", "filter:purpose", "filter:subject-id", "filter:until"],
        ),
        (
            "/audit/events",
            {"subject": api.pseudonym("dewi"), "limit": 2},
            api.pseudonym("dewi"),
            ["audit:events", "filter:subject"],
        ),
        ("/audit/events", {"subject": UNREGISTERED_NIK}, None, ["audit:events", "filter:nik"]),
        ("/audit/leaves", {"start": 0, "end": 5}, None, ["audit:leaves"]),
    ]
    size_before = api.store.tree_state().tree_size  # type: ignore[union-attr]
    for n, (url, params, _, _) in enumerate(calls, 1):
        response = api.get(url, **params)
        assert response.status_code == 200, (url, response.text)
        assert api.queued() == n, url
    # Another auditor's query is recorded under its own client id.
    assert api.get("/audit/events", headers=api.auth(OTHER_AUDITOR)).status_code == 200
    # Out of range: 400, nothing recorded.
    assert api.get("/audit/leaves", start=0, end=10**6).status_code == 400
    assert api.queued() == len(calls) + 1

    integration = api.log.sequence(checkpoint=True)
    assert integration.integrated == len(calls) + 1
    recorded = api.all_leaves()[size_before:]
    assert [entry.actor for _, entry in recorded] == [
        Actor(kind=ActorKind.RELYING_APP, id=AUDITOR)
    ] * len(calls) + [Actor(kind=ActorKind.RELYING_APP, id=OTHER_AUDITOR)]
    for (_, _, subject, items), (_, entry) in zip(calls, recorded, strict=False):
        assert entry.action is Action.READ
        assert entry.purpose == "audit-query"
        assert entry.legal_basis is LegalBasis.LEGAL_OBLIGATION
        assert entry.subject == subject
        assert list(entry.data_items) == items

    # The auditor finds its own queries through the API, and each is provably in the tree.
    mine = _page(api, actor=AUDITOR, purpose="audit-query")
    assert [e["leaf_index"] for e in mine["events"]] == list(
        range(size_before, size_before + len(calls))
    )
    vkey = api.client.get("/audit/checkpoint-key").text.strip()
    verifier = NoteVerifier.from_vkey(vkey)
    checkpoint = open_checkpoint(
        api.client.get("/audit/checkpoint").text, verifier, origin=verifier.name
    )
    for index, entry_bytes in api.store.leaves(size_before, size_before + len(calls)):
        proof = api.client.get(
            "/audit/proof/inclusion",
            params={"leaf_index": index, "tree_size": checkpoint.size},
        ).json()
        verify_inclusion(
            leaf_index=index,
            tree_size=checkpoint.size,
            leaf_hash=hash_leaf(entry_bytes),
            proof=[base64.b64decode(h) for h in proof["inclusion_path"]],
            root=checkpoint.root_hash,
        )


def test_the_nik_reaches_neither_the_log_nor_the_application_logs(
    api: AuditorApi, service_lines: ServiceLines
) -> None:
    for nik in ALL_NIKS:
        assert api.get("/audit/events", subject=nik, limit=2).status_code == 200
    assert api.get("/audit/events", subject=SITI["nik"][:-1]).status_code == 400
    api.log.sequence(checkpoint=True)
    assert api.get("/audit/leaves", start=0, end=2).status_code == 200  # one more, queued
    with api.database.read() as session:
        stored = [
            bytes(row[0])
            for table in ("audit_leaf", "audit_queue")
            for row in session.execute(text(f"SELECT entry FROM {table}"))
        ]
    assert len(stored) == 3 + 24 + len(ALL_NIKS) + 1  # the 400 recorded nothing
    assert len(service_lines.lines) >= 6  # one request line per call at least
    personal = [v for person in CITIZENS.values() for v in (person["nik"], person["name"])]
    for value in (*personal, UNREGISTERED_NIK, SITI["nik"][:-1]):
        assert not any(value.encode() in entry for entry in stored), value
        assert not any(value in line for _, line in service_lines.lines), value
