"""``TokenVerifier.verify_presentation``: what a relying app gets from an SD-JWT VC
presentation (RFC 9901 §7.1, §7.3), its policy knobs, and the Token Status List it reads."""

from __future__ import annotations

import pytest

from identity.credentials.status_list_token import StatusList, sign_status_list, status_list_claims
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from tests.sd_jwt_helpers import (
    AUDIENCE,
    NONCE,
    SHOWN,
    STATUS_IDX,
    STATUS_URI,
    VCT,
    FakeStatusLists,
    credential_claims,
    issue_credential,
    present,
    presentation_verifier,
    refused,
    sd_jwt_kb,
    signer_for,
    split,
)
from tests.token_helpers import ISSUER, NOW, FakeIssuer, Key, key_fixture

issuer = key_fixture("EdDSA")
holder = key_fixture("ES256")


@pytest.mark.parametrize(("issuer_alg", "holder_alg"), [("EdDSA", "ES256"), ("ES256", "EdDSA")])
def test_a_presentation_gives_the_visible_and_the_chosen_claims(
    issuer_alg: str, holder_alg: str
) -> None:
    issuer, holder = Key.new(issuer_alg), Key.new(holder_alg)
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    claims = presentation_verifier(issuer).verify_presentation(
        presentation, audience=AUDIENCE, nonce=NONCE, vct=VCT
    )
    assert claims["iss"] == ISSUER
    assert claims["vct"] == VCT
    assert claims["exp"] == int(NOW) + 86_400
    assert claims["cnf"] == credential_claims(holder)["cnf"]
    assert claims["status"] == {"status_list": {"idx": STATUS_IDX, "uri": STATUS_URI}}
    assert claims["given_name"] == "Siti"
    assert claims["address"] == {"locality": "Jakarta Pusat"}
    assert claims["age_equal_or_over"] == {"18": True}
    for hidden in ("family_name", "birthdate", "_sd", "_sd_alg"):
        assert hidden not in claims
    assert "country" not in claims["address"] and "21" not in claims["age_equal_or_over"]


def test_the_status_is_read_for_the_credential_index(issuer: Key, holder: Key) -> None:
    statuses = FakeStatusLists()
    verifier = presentation_verifier(issuer, statuses=statuses)
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE)
    assert statuses.asked == [(STATUS_URI, STATUS_IDX)]
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE, check_status=False)
    assert statuses.asked == [(STATUS_URI, STATUS_IDX)]


@pytest.mark.parametrize(("value", "reason"), [(1, Reason.REVOKED), (2, Reason.SUSPENDED)])
def test_a_revoked_or_suspended_credential_is_refused(
    issuer: Key, holder: Key, value: int, reason: Reason
) -> None:
    statuses = FakeStatusLists.credential_at(value)
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    refused(presentation_verifier(issuer, statuses=statuses), presentation, reason)


def test_a_credential_without_a_status_claim_passes_the_status_check(
    issuer: Key, holder: Key
) -> None:
    statuses = FakeStatusLists()
    compact = issue_credential(issuer, holder, status=None).compact
    claims = presentation_verifier(issuer, statuses=statuses).verify_presentation(
        present(compact, holder, SHOWN), audience=AUDIENCE, nonce=NONCE
    )
    assert "status" not in claims and statuses.asked == []


@pytest.mark.parametrize(
    "status",
    [
        "revoked",
        {"status_list": "x"},
        {"other_mechanism": {}},
        {"status_list": {"idx": -1, "uri": STATUS_URI}},
        {"status_list": {"idx": True, "uri": STATUS_URI}},
        {"status_list": {"idx": "3", "uri": STATUS_URI}},
        {"status_list": {"idx": 3}},
        {"status_list": {"idx": 3, "uri": ""}},
    ],
    ids=[
        "string",
        "status-list-string",
        "unknown",
        "negative",
        "bool",
        "idx-string",
        "no-uri",
        "empty",
    ],
)
def test_a_malformed_status_claim_is_invalid(issuer: Key, holder: Key, status: object) -> None:
    compact = issue_credential(issuer, holder, status=status).compact
    refused(presentation_verifier(issuer), present(compact, holder, SHOWN), Reason.INVALID_CLAIM)


def test_end_to_end_with_a_real_status_list_token(issuer: Key, holder: Key) -> None:
    """The SDK's StatusListCache reading a list signed by the issuer's key, offline."""
    state = {"statuses": {STATUS_IDX: 0}}
    loads: list[str] = []

    def loader(uri: str) -> tuple[str, float | None]:
        loads.append(uri)
        status_list = StatusList.from_entries(8192, 2, state["statuses"])
        claims = status_list_claims(
            uri=uri, status_list=status_list, issued_at=int(NOW), expires_at=None, ttl=300,
            issuer=ISSUER,
        )  # fmt: skip
        return sign_status_list(signer_for(issuer), claims), None

    now = [NOW]
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience="unused",
        jwks={"keys": [issuer.jwk]},
        status_list_loader=loader,
        clock=lambda: now[0],
    )
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE)
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE)
    assert loads == [STATUS_URI]  # cached per ttl
    state["statuses"] = {STATUS_IDX: 2}
    now[0] = NOW + 120  # within the ttl: the list held is still used
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE)
    now[0] = NOW + 301  # the ttl has passed: the suspension is seen
    presentation = present(
        issue_credential(issuer, holder).compact, holder, SHOWN, iat=int(NOW) + 300
    )
    refused(verifier, presentation, Reason.SUSPENDED)
    assert loads == [STATUS_URI, STATUS_URI]


def test_an_unreadable_status_list_refuses_the_credential(issuer: Key, holder: Key) -> None:
    def loader(uri: str) -> tuple[str, float | None]:
        raise OSError("the issuer is down")

    verifier = TokenVerifier(
        issuer=ISSUER,
        audience="unused",
        jwks={"keys": [issuer.jwk]},
        status_list_loader=loader,
        clock=lambda: NOW,
    )
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    refused(verifier, presentation, Reason.STATUS_UNAVAILABLE)


def test_vct_is_checked_when_the_caller_names_the_type(issuer: Key, holder: Key) -> None:
    verifier = presentation_verifier(issuer)
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE, vct=VCT)
    refused(verifier, presentation, Reason.INVALID_CLAIM, vct=ISSUER + "/vct/other/v1")


@pytest.mark.parametrize(
    ("vct", "reason"),
    [(None, Reason.MISSING_CLAIM), ("", Reason.INVALID_CLAIM), (["a"], Reason.INVALID_CLAIM)],
)
def test_vct_is_required(issuer: Key, holder: Key, vct: object, reason: Reason) -> None:
    compact = issue_credential(issuer, holder, vct=vct).compact
    refused(presentation_verifier(issuer), present(compact, holder, SHOWN), reason)


def test_without_key_binding_when_the_policy_allows_it(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    presentation = present(compact, holder, SHOWN, key_binding=False)
    claims = presentation_verifier(issuer).verify_presentation(
        presentation, audience=AUDIENCE, nonce=None, require_key_binding=False
    )
    assert claims["given_name"] == "Siti"
    refused(presentation_verifier(issuer), presentation, Reason.KEY_BINDING_REQUIRED)


def test_a_key_binding_jwt_that_is_sent_is_always_checked(issuer: Key, holder: Key) -> None:
    """RFC 9901 §7.3: the policy decides; a KB-JWT the holder adds anyway is not ignored."""
    compact = issue_credential(issuer, holder).compact
    verifier = presentation_verifier(issuer)
    wrong = present(compact, holder, SHOWN, aud="https://other.example")
    refused(verifier, wrong, Reason.BAD_KEY_BINDING, require_key_binding=False, nonce=None)
    right = present(compact, holder, SHOWN)
    verifier.verify_presentation(right, audience=AUDIENCE, nonce=None, require_key_binding=False)


def test_the_kb_jwt_age_limit_is_a_parameter(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    verifier = presentation_verifier(issuer)
    presentation = present(compact, holder, SHOWN, iat=int(NOW) - 200)
    verifier.verify_presentation(presentation, audience=AUDIENCE, nonce=NONCE)
    refused(verifier, presentation, Reason.BAD_KEY_BINDING, max_kb_age=60)


def test_the_size_limit_is_a_parameter(issuer: Key, holder: Key) -> None:
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    refused(
        presentation_verifier(issuer, max_presentation_bytes=len(presentation) - 1),
        presentation,
        Reason.TOO_LARGE,
    )
    presentation_verifier(issuer, max_presentation_bytes=len(presentation)).verify_presentation(
        presentation, audience=AUDIENCE, nonce=NONCE
    )


@pytest.mark.parametrize(
    "arguments",
    [
        {"audience": "", "nonce": NONCE},
        {"audience": AUDIENCE, "nonce": None},
        {"audience": AUDIENCE, "nonce": NONCE, "max_kb_age": 0},
    ],
    ids=["no-audience", "kb-without-nonce", "no-kb-age"],
)
def test_a_misconfigured_call_is_a_programming_error(
    issuer: Key, holder: Key, arguments: dict[str, object]
) -> None:
    presentation = present(issue_credential(issuer, holder).compact, holder, SHOWN)
    with pytest.raises(ValueError):
        presentation_verifier(issuer).verify_presentation(presentation, **arguments)  # type: ignore[arg-type]


def test_keys_come_from_the_issuers_jwks_over_http(issuer: Key, holder: Key) -> None:
    fake = FakeIssuer()
    fake.keys = [issuer.jwk]
    with fake.running() as base:
        verifier = TokenVerifier(issuer=base, audience="unused", clock=lambda: NOW)
        verifier.status_lists = FakeStatusLists()
        compact = issue_credential(issuer, holder, iss=base).compact
        for _ in range(3):
            claims = verifier.verify_presentation(
                present(compact, holder, SHOWN), audience=AUDIENCE, nonce=NONCE
            )
            assert claims["iss"] == base
    assert fake.requests == ["/.well-known/openid-configuration", "/jwks.json"]


def test_the_same_verifier_checks_many_holders(issuer: Key) -> None:
    verifier = presentation_verifier(issuer)
    for alg in ("ES256", "EdDSA") * 3:
        holder = Key.new(alg)
        compact = issue_credential(issuer, holder).compact
        verifier.verify_presentation(
            present(compact, holder, SHOWN), audience=AUDIENCE, nonce=NONCE
        )
        other = Key.new(alg)  # a stolen credential presented with another key
        refused(verifier, present(compact, other, SHOWN), Reason.BAD_KEY_BINDING)


def test_refusals_never_carry_claim_values_or_the_presentation(issuer: Key, holder: Key) -> None:
    compact = issue_credential(issuer, holder).compact
    jwt, disclosures = split(compact)
    presentation = sd_jwt_kb(holder, jwt, [*disclosures, disclosures[0]])
    with pytest.raises(InvalidToken) as caught:
        presentation_verifier(issuer).verify_presentation(
            presentation, audience=AUDIENCE, nonce=NONCE
        )
    message = str(caught.value)
    for secret in ("Siti", "Rahayu", "1990-08-17", "Jakarta", disclosures[0], jwt[:30]):
        assert secret not in message
