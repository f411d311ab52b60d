"""The authorization endpoint's core without a database or HTTP: request validation (RFC
6749 §4.1.1/§4.1.2.1, OIDC Core §3.1.2.1/§3.1.2.6, RFC 7636 §4.3), the responses (RFC
9207), the sealed pending request, and the login / consent / code decision over in-memory
collaborators."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from audit.entry import Action, AuditEntry, LegalBasis
from consent.gate import Decision
from consent.grants import ConsentEvent, EventKind, GivenBy, Grant, GrantStatus
from consent.notices import Notice
from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity
from identity.errors import AuthorizationError, NotFound
from identity.login.sessions import Session
from identity.oidc.authorization_request import (
    PendingAuthorization,
    StoredRequest,
    redirect_target,
    validate_request,
)
from identity.oidc.authorization_response import authorization_response, error_response
from identity.oidc.authorize import AuthorizationRequests
from identity.oidc.client_metadata import new_relying_app
from identity.oidc.clients import RelyingApp
from identity.oidc.codes import AuthorizationCode
from identity.oidc.pkce import s256_challenge
from identity.oidc.sealed_request import MAX_SEALED_CHARS, RequestSealer
from tests.consent_helpers import notice_content

ISSUER = "https://id.example.go.id"
REDIRECT = "https://dinsos.example.go.id/callback"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CHALLENGE = s256_challenge("v" * 64)


def _app(**overrides: Any) -> RelyingApp:
    values: dict[str, Any] = {
        "client_id": "dinsos",
        "created_at": NOW,
        "name": "Dinas Sosial",
        "scope": "openid profile email nik",
        "redirect_uris": [REDIRECT, "https://dinsos.example.go.id/cb?tenant=1"],
        "purposes": ["population-admin:e"],
    }
    values.update(overrides)
    return new_relying_app(**values)


APP = _app()
PURPOSES = (
    Purpose(
        app_id="dinsos",
        code="bansos",
        description=LocalizedText("Bansos"),
        legal_basis=LegalBasis.CONSENT,
        data_items=(
            DataItem("name", Sensitivity.GENERAL),
            DataItem("birthdate", Sensitivity.GENERAL),
        ),
        retention_days=30,
    ),
    Purpose(
        app_id="dinsos",
        code="newsletter",
        description=LocalizedText("Kabar"),
        legal_basis=LegalBasis.CONSENT,
        data_items=(DataItem("email", Sensitivity.GENERAL),),
        retention_days=30,
    ),
    Purpose(
        app_id="dinsos",
        code="population-admin",
        description=LocalizedText("Adminduk"),
        legal_basis=LegalBasis.PUBLIC_TASK,
        data_items=(DataItem("nik", Sensitivity.GENERAL),),
        retention_days=30,
    ),
)


class Clients:
    def __init__(self, *apps: RelyingApp) -> None:
        self.apps = {a.client_id: a for a in apps}

    def get(self, client_id: str) -> RelyingApp:
        if client_id not in self.apps:
            raise NotFound("no such app")
        return self.apps[client_id]


def _params(**overrides: str | None) -> list[tuple[str, str]]:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "dinsos",
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    values.update(overrides)
    return [(k, v) for k, v in values.items() if v is not None]


def _validate(params: list[tuple[str, str]]) -> PendingAuthorization:
    return validate_request(
        params,
        clients=Clients(APP),
        purposes_of=lambda _app_id: PURPOSES,
        request_id="r" * 43,
        now=NOW,
    )


# ------------------------------------------------------------------ validation


def test_a_valid_request() -> None:
    pending = _validate(_params(nonce="n", max_age="60", prompt="login", ui_locales="id x_bad"))
    assert pending.scopes == ("openid", "profile")
    assert "name" in pending.claims and "email" not in pending.claims
    assert [p.code for p in pending.purposes] == ["bansos"]  # covers name and birthdate
    assert pending.prompt == frozenset({"login"}) and pending.max_age == 60
    assert pending.ui_locales == ("id",)
    assert pending.expires_at == NOW + timedelta(minutes=10)


def test_a_registered_redirect_uri_with_its_own_query_is_accepted() -> None:
    pending = _validate(_params(redirect_uri="https://dinsos.example.go.id/cb?tenant=1"))
    redirect = authorization_response(pending.redirect_uri, ISSUER, "c0de", "st")
    assert redirect.location.startswith("https://dinsos.example.go.id/cb?tenant=1&code=c0de")


@pytest.mark.parametrize(
    "params",
    [
        _params(client_id=None),
        _params(client_id="other"),
        _params(redirect_uri=None),
        _params(redirect_uri=REDIRECT + "#frag"),
        _params(redirect_uri="http://dinsos.example.go.id/callback"),
        [*_params(), ("client_id", "dinsos")],
        [*_params(), ("redirect_uri", REDIRECT)],
        [*_params(), *[(f"x{i}", "1") for i in range(70)]],
        _params(state="x" * 5000),
    ],
)
def test_errors_that_are_never_redirected(params: list[tuple[str, str]]) -> None:
    with pytest.raises(AuthorizationError) as caught:
        _validate(params)
    assert caught.value.redirectable is False


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"scope": "openid phone"}, "invalid_scope"),
        ({"scope": "openid audit:read"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "a" * 43 + "="}, "invalid_request"),
        ({"prompt": "none consent"}, "invalid_request"),
        ({"prompt": "login login"}, "invalid_request"),
        ({"max_age": "1e3"}, "invalid_request"),
        ({"max_age": "99999999999"}, "invalid_request"),
        ({"state": "a\nb"}, "invalid_request"),
        ({"login_hint": "x" * 300}, "invalid_request"),
        ({"request_uri": "urn:x"}, "request_uri_not_supported"),
        ({"purpose": "BANSOS"}, "invalid_request"),
    ],
)
def test_errors_that_go_to_the_redirect_uri(overrides: dict[str, str | None], error: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        _validate(_params(**overrides))
    assert caught.value.redirectable is True
    assert caught.value.error == error


def test_the_nik_scope_needs_a_purpose_covering_the_nik() -> None:
    assert "nik" in _validate(_params(scope="openid nik")).claims
    with pytest.raises(AuthorizationError) as caught:
        validate_request(
            _params(scope="openid nik"),
            clients=Clients(APP),
            purposes_of=lambda _app_id: PURPOSES[:2],
            request_id="r" * 43,
            now=NOW,
        )
    assert caught.value.error == "invalid_scope"


def test_claims_are_cut_to_the_allowed_claims() -> None:
    narrow = _app(claims=["name"])
    pending = validate_request(
        _params(scope="openid profile email"),
        clients=Clients(narrow),
        purposes_of=lambda _app_id: PURPOSES,
        request_id="r" * 43,
        now=NOW,
    )
    assert pending.claims == ("name",)
    assert [p.code for p in pending.purposes] == ["bansos"]


def test_the_purpose_parameter_narrows() -> None:
    pending = _validate(_params(scope="openid profile email", purpose="newsletter"))
    assert [p.code for p in pending.purposes] == ["newsletter"]


def test_a_malformed_state_is_not_echoed() -> None:
    _, state = redirect_target(_params(state="a\x00b"))
    assert state is None
    _, state = redirect_target(_params(state="ok"))
    assert state == "ok"


def test_error_response_carries_error_state_and_iss() -> None:
    redirect = error_response(REDIRECT, ISSUER, "access_denied", "no", "s t")
    query = parse_qs(urlsplit(redirect.location).query)
    assert query == {
        "error": ["access_denied"],
        "error_description": ["no"],
        "state": ["s t"],
        "iss": [ISSUER],
    }


SEALED = StoredRequest(
    id="r" * 43,
    client_id="dinsos",
    redirect_uri=REDIRECT,
    scopes=("openid", "profile"),
    claims=("birthdate", "name"),
    purpose_codes=("bansos",),
    state="st",
    nonce=None,
    code_challenge=CHALLENGE,
    prompt=("login",),
    max_age=0,
    login_hint="3171014101900003",
    ui_locales=("id", "en"),
    created_at=NOW,
    expires_at=NOW + timedelta(minutes=10),
)


def test_a_sealed_request_opens_as_it_was_sealed() -> None:
    sealer = RequestSealer(b"k" * 32)
    sealed = sealer.seal(SEALED)
    assert sealer.open(sealed) == SEALED
    assert "3171014101900003" not in sealed and "dinsos" not in sealed
    assert sealer.seal(SEALED) == sealed  # SIV is deterministic: the random id inside
    assert sealer.seal(replace(SEALED, id="q" * 43)) != sealed  # makes each request's unique
    assert repr(sealer) == "RequestSealer(<key hidden>)"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: ("A" if v[0] != "A" else "B") + v[1:],  # the tag altered
        lambda v: v[:40] + ("A" if v[40] != "A" else "B") + v[41:],  # the ciphertext
        lambda v: v[:-4],  # truncated
        lambda v: v + "AAAA",  # extended
        lambda v: v + "=",  # outside the alphabet
        lambda v: "",
        lambda v: "A" * (MAX_SEALED_CHARS + 1),
    ],
)
def test_an_altered_sealed_request_does_not_open(mutate: Any) -> None:
    sealer = RequestSealer(b"k" * 32)
    assert sealer.open(mutate(sealer.seal(SEALED))) is None


def test_a_request_sealed_under_another_key_does_not_open() -> None:
    assert RequestSealer(b"k" * 32).open(RequestSealer(b"j" * 32).seal(SEALED)) is None


# ------------------------------------------------------------------ the decision


@dataclass
class MemoryStore:
    answered: dict[str, StoredRequest] = field(default_factory=dict)
    codes: list[AuthorizationCode] = field(default_factory=list)
    bind: object = None

    @contextmanager
    def write(self) -> Iterator[MemoryStore]:
        yield self

    read = write

    def mark_answered(self, request: StoredRequest) -> bool:
        if request.id in self.answered:
            return False
        self.answered[request.id] = request
        return True

    def is_answered(self, request_id: str) -> bool:
        return request_id in self.answered

    def purge_requests(self, now: datetime) -> int:
        return 0

    def add_code(self, code: AuthorizationCode) -> None:
        self.codes.append(code)


@dataclass
class Consents:
    grants: list[Grant] = field(default_factory=list)
    notice: Notice | None = None

    def purposes(self, app_id: str) -> list[Purpose]:
        return list(PURPOSES)

    def current_notice(self, app_id: str) -> Notice | None:
        return self.notice

    def grants_of(self, subject_id: str) -> list[Grant]:
        return self.grants


@dataclass
class Gate:
    allowed: set[str] = field(default_factory=set)

    def check(
        self, subject_id: str, app_id: str, purpose: str, data_items: Collection[str]
    ) -> Decision:
        if purpose == "population-admin":
            return Decision(True, "legal_basis", LegalBasis.PUBLIC_TASK)
        if purpose in self.allowed:
            return Decision(True, "consent", LegalBasis.CONSENT, f"grant-{purpose}")
        return Decision(False, "no_consent")


class Audit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, bind: object, entry: AuditEntry, *, queued_at: datetime) -> None:
        self.entries.append(entry)


class Pseudonyms:
    def pseudonym(self, subject_id: str) -> str:
        return "P" * 43


class NoSecondFactor:
    def is_enabled(self, citizen_id: str) -> bool:
        return False


@dataclass
class Harness:
    service: AuthorizationRequests
    store: MemoryStore
    consents: Consents
    gate: Gate
    audit: Audit

    def session(self, auth_time: datetime = NOW) -> Session:
        return Session("s" * 64, "citizen-1", auth_time, ("pwd",), "acr", NOW + timedelta(hours=8))


@pytest.fixture
def harness() -> Harness:
    store, gate, audit = MemoryStore(), Gate(), Audit()
    notice = Notice("dinsos", 1, notice_content(), notice_content().content_hash, NOW)
    consents = Consents(notice=notice)
    service = AuthorizationRequests(
        store=store,
        clients=Clients(APP),
        consent=consents,
        gate=gate,
        second_factors=NoSecondFactor(),
        audit=audit,
        pseudonymizer=Pseudonyms(),
        sealer=RequestSealer(b"k" * 32),
        issuer=ISSUER,
        clock=lambda: NOW,
    )
    return Harness(service, store, consents, gate, audit)


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_no_session_goes_to_login(harness: Harness) -> None:
    redirect = harness.service.authorize(_params(), None)
    assert redirect.location.startswith(ISSUER + "/login?req=")
    assert harness.store.answered == {}  # nothing stored for a caller without a session


def test_a_missing_grant_goes_to_consent_then_a_code(harness: Harness) -> None:
    redirect = harness.service.authorize(_params(), harness.session())
    request_id = _query(redirect.location)["req"]
    assert redirect.location == f"{ISSUER}/consent?req={request_id}"
    harness.gate.allowed.add("bansos")
    done = harness.service.resume(request_id, harness.session())
    answer = _query(done.location)
    assert answer["state"] == "st" and answer["iss"] == ISSUER and answer["code"]
    (code,) = harness.store.codes
    assert code.grant_ids == ("grant-bansos",)
    assert answer["code"] not in code.code_hash  # stored by hash only
    (entry,) = harness.audit.entries
    assert entry.action is Action.TOKEN_ISSUED and entry.consent_id == "grant-bansos"
    (answered,) = harness.store.answered.values()  # recorded, without the app's values
    assert answered.state is None and answered.nonce is None and answered.login_hint is None


def test_a_sealed_request_yields_one_code(harness: Harness) -> None:
    request_id = _query(harness.service.authorize(_params(), None).location)["req"]
    harness.gate.allowed.add("bansos")
    assert "code" in _query(harness.service.resume(request_id, harness.session()).location)
    assert harness.service.get(request_id) is None
    for denied in (False, True):
        with pytest.raises(AuthorizationError) as caught:
            harness.service.resume(request_id, harness.session(), denied=denied)
        assert caught.value.redirectable is False
    assert len(harness.store.codes) == 1


def test_a_refusal_without_a_session_stores_nothing(harness: Harness) -> None:
    request_id = _query(harness.service.authorize(_params(), None).location)["req"]
    for _ in range(2):  # a replay sends the same error again, and writes nothing
        denied = harness.service.resume(request_id, None, denied=True)
        assert _query(denied.location)["error"] == "access_denied"
    assert harness.store.answered == {}
    done = harness.service.resume(request_id, harness.session(), denied=True)
    assert _query(done.location)["error"] == "access_denied"
    assert len(harness.store.answered) == 1
    assert harness.service.get(request_id) is None


def test_a_declined_purpose_under_the_current_notice_is_not_asked_again(
    harness: Harness,
) -> None:
    notice = harness.consents.notice
    assert notice is not None
    event = ConsentEvent(
        "e1", "g1", "citizen-1", "dinsos", "bansos", EventKind.REFUSED, notice.content_hash,
        NOW - timedelta(days=1), GivenBy.SUBJECT, "no",
    )  # fmt: skip
    harness.consents.grants = [
        Grant("g1", "citizen-1", "dinsos", "bansos", GrantStatus.REFUSED, notice.content_hash,
              event.at, GivenBy.SUBJECT, None, None, None, None, (event,))
    ]  # fmt: skip
    done = harness.service.authorize(_params(), harness.session())
    assert "code" in _query(done.location)
    again = harness.service.authorize(_params(prompt="consent"), harness.session())
    assert "/consent?req=" in again.location


def test_prompt_none_never_shows_a_page(harness: Harness) -> None:
    assert (
        _query(harness.service.authorize(_params(prompt="none"), None).location)["error"]
        == "login_required"
    )
    assert harness.store.answered == {}
    answer = _query(harness.service.authorize(_params(prompt="none"), harness.session()).location)
    assert answer["error"] == "consent_required" and answer["state"] == "st"


def test_max_age_and_a_fresh_login(harness: Harness) -> None:
    harness.gate.allowed.add("bansos")
    old = harness.session(auth_time=NOW - timedelta(hours=2))
    redirect = harness.service.authorize(_params(max_age="3600"), old)
    assert "/login?req=" in redirect.location
    request_id = _query(redirect.location)["req"]
    assert "code" in _query(harness.service.resume(request_id, harness.session()).location)


def test_an_expired_request_cannot_be_resumed(harness: Harness) -> None:
    redirect = harness.service.authorize(_params(), None)
    request_id = _query(redirect.location)["req"]
    harness.service.clock = lambda: NOW + timedelta(minutes=11)
    assert harness.service.get(request_id) is None
    with pytest.raises(AuthorizationError) as caught:
        harness.service.resume(request_id, harness.session())
    assert caught.value.redirectable is False


def test_the_pending_request_keeps_the_hint_sealed(harness: Harness) -> None:
    redirect = harness.service.authorize(_params(login_hint="3171014101900003"), None)
    request_id = _query(redirect.location)["req"]
    assert "3171014101900003" not in redirect.location
    assert harness.store.answered == {}
    pending = harness.service.get(request_id)
    assert pending is not None and pending.login_hint == "3171014101900003"
    assert pending.sealed == request_id
    assert "3171014101900003" not in repr(pending) and request_id not in repr(pending)
