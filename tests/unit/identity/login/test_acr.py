"""The requested authentication context classes without a database or HTTP (OIDC Core
§3.1.2.1 ``acr_values``, §5.5 and §5.5.1 the ``claims`` parameter, §5.5.1.1 the ``acr``
claim): parsing, what a session meets, what the ID token asserts, and that the request
travels sealed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from identity.errors import AuthorizationError
from identity.login.acr import ACR_LEVELS, AcrRequest, acr_request
from identity.oidc.authorization_request import StoredRequest
from identity.oidc.pkce import s256_challenge
from identity.oidc.sealed_request import RequestSealer
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD

PWD, MFA = ACR_PASSWORD, ACR_MULTI_FACTOR
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _claims(acr: object) -> str:
    return json.dumps({"id_token": {"acr": acr}})


@pytest.mark.parametrize(
    ("acr_values", "claims", "expected"),
    [
        (None, None, AcrRequest()),
        ("", None, AcrRequest()),
        (MFA, None, AcrRequest((MFA,))),
        (f"{MFA} {PWD}", None, AcrRequest((MFA, PWD))),  # the app's order of preference
        (f"urn:x:loa:3 {PWD} {PWD}", None, AcrRequest((PWD,))),  # unknown dropped, once each
        ("urn:x:loa:3", None, AcrRequest()),  # voluntary and unknown: nothing asked
        (None, _claims({"essential": True, "values": [MFA]}), AcrRequest((MFA,), True)),
        (None, _claims({"essential": True, "value": MFA}), AcrRequest((MFA,), True)),
        (None, _claims({"values": [MFA]}), AcrRequest((MFA,))),  # not essential
        (None, _claims(None), AcrRequest()),  # null: "return it", which Jati always does
        (None, _claims({"essential": True}), AcrRequest()),  # any value: always met
        (MFA, _claims({"essential": True}), AcrRequest((MFA,), True)),  # values of acr_values
        (PWD, _claims({"essential": True, "values": [MFA]}), AcrRequest((MFA,), True)),
        (None, _claims({"essential": True, "values": ["urn:x", PWD]}), AcrRequest((PWD,), True)),
        (None, json.dumps({"userinfo": {"acr": {"essential": True, "value": MFA}}}), AcrRequest()),
        (None, json.dumps({"id_token": {"email": {"essential": True}}, "x": 1}), AcrRequest()),
        (None, json.dumps({"id_token": {"acr": {"essential": False, "x-ext": [1]}}}), AcrRequest()),
    ],
)
def test_what_a_request_asks_for(
    acr_values: str | None, claims: str | None, expected: AcrRequest
) -> None:
    assert acr_request(acr_values, claims) == expected


@pytest.mark.parametrize(
    "claims",
    [
        "{",
        "null",
        "[]",
        '{"id_token": []}',
        '{"id_token": null}',
        '{"userinfo": {"name": 1}}',
        _claims(True),
        _claims({"essential": 1}),
        _claims({"value": 5}),
        _claims({"values": [MFA, 5]}),
        _claims({"values": {"a": MFA}}),
        "[" * 5000 + "]" * 5000,  # deeper than the JSON parser recurses
    ],
)
def test_a_malformed_claims_parameter_is_invalid_request(claims: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        acr_request(None, claims)
    assert caught.value.error == "invalid_request" and caught.value.redirectable


def test_essential_values_none_of_which_is_known_are_unmet_at_once() -> None:
    with pytest.raises(AuthorizationError) as caught:
        acr_request(None, _claims({"essential": True, "values": ["urn:x:loa:4"]}))
    assert caught.value.error == "unmet_authentication_requirements"
    assert caught.value.redirectable


def test_the_classes_are_ordered() -> None:
    assert list(ACR_LEVELS) == [PWD, MFA] and ACR_LEVELS[PWD] < ACR_LEVELS[MFA]


@pytest.mark.parametrize(
    ("request_", "session", "step_up", "met", "asserted"),
    [
        (AcrRequest(), PWD, False, True, PWD),
        (AcrRequest((MFA,)), PWD, True, True, PWD),  # voluntary: the session's own class
        (AcrRequest((MFA,), True), PWD, True, False, None),
        (AcrRequest((MFA,), True), MFA, False, True, MFA),
        (AcrRequest((PWD, MFA)), PWD, False, True, PWD),  # the preferred one is met
        (AcrRequest((MFA, PWD), True), PWD, True, True, PWD),  # worth a try, then met
        (AcrRequest((PWD,)), MFA, False, True, MFA),  # voluntary: what was done
        (AcrRequest((PWD,), True), MFA, False, True, PWD),  # essential: one of the values
        (AcrRequest((MFA,), True), "urn:legacy", True, False, None),
    ],
)
def test_what_a_session_meets_and_what_the_id_token_says(
    request_: AcrRequest, session: str, step_up: bool, met: bool, asserted: str | None
) -> None:
    assert request_.wants_more_than(session) is step_up
    assert request_.met_by(session) is met
    if met:
        assert request_.asserted(session) == asserted


def test_an_essential_request_names_its_values() -> None:
    with pytest.raises(ValueError):
        AcrRequest((), essential=True)


def test_the_acr_request_travels_sealed() -> None:
    stored = StoredRequest(
        id="r" * 43,
        client_id="dinsos",
        redirect_uri="https://dinsos.example.go.id/callback",
        scopes=("openid",),
        claims=(),
        purpose_codes=(),
        state=None,
        nonce=None,
        code_challenge=s256_challenge("v" * 64),
        prompt=(),
        max_age=None,
        login_hint=None,
        ui_locales=(),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )
    sealer = RequestSealer(b"k" * 32)
    assert stored.acr == AcrRequest()
    assert sealer.open(sealer.seal(stored)) == stored
    for acr in (AcrRequest((MFA,)), AcrRequest((MFA, PWD), essential=True)):
        asked = replace(stored, acr=acr)
        assert sealer.open(sealer.seal(asked)) == asked
