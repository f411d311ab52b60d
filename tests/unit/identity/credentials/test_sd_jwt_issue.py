"""Issuing SD-JWTs (RFC 9901 §4): salts, digests, decoys, the claims that are never
selectively disclosable, and issue -> present -> verify round trips through the SDK."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.credentials.sd_jwt import (
    NEVER_DISCLOSABLE,
    SD_ALG,
    Disclosable,
    disclosure_digest,
    issue,
)
from identity.relying_party import Reason
from identity.relying_party.sd_jwt import decode_disclosure
from tests.sd_jwt_helpers import (
    AUDIENCE,
    NONCE,
    STATUS_IDX,
    STATUS_URI,
    VCT,
    credential_claims,
    decode,
    issue_credential,
    present,
    presentation_verifier,
    refused,
    sd_jwt_kb,
    signer_for,
    split,
)
from tests.token_helpers import ISSUER, NOW, Key, key_fixture

DIGEST = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of 32 bytes, no padding


issuer = key_fixture("EdDSA")
holder = key_fixture("ES256")


def _payload(compact: str) -> dict[str, Any]:
    segment = compact.split("~", maxsplit=1)[0].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _sd_arrays(value: Any) -> list[list[str]]:
    """Every ``_sd`` array of a payload (disclosed values are listed separately)."""
    found = []
    if isinstance(value, dict):
        if "_sd" in value:
            found.append(value["_sd"])
        for item in value.values():
            found.extend(_sd_arrays(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_sd_arrays(item))
    return found


class RecordingSigner:
    """A signer that records what it was asked to sign (nothing, when issuance refuses)."""

    def __init__(self, key: Key) -> None:
        self.inner = signer_for(key)
        self.signed: list[dict[str, Any]] = []

    def sign(self, claims: Any, *, typ: str) -> str:
        self.signed.append(dict(claims))
        return self.inner.sign(claims, typ=typ)


def test_the_compact_form_is_the_signed_payload_then_each_disclosure_and_a_trailing_tilde(
    issuer: Key, holder: Key
) -> None:
    issued = issue_credential(issuer, holder)
    jwt, disclosures = split(issued.compact)
    assert issued.compact.endswith("~")
    assert disclosures == [d.encoded for d in issued.disclosures]
    assert _payload(issued.compact) == issued.payload
    assert issued.payload["_sd_alg"] == SD_ALG
    header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": issuer.kid, "typ": "dc+sd-jwt"}
    # a disclosure per Disclosable: 3 names, address and its 2 parts, 3 ages, 1 nationality
    assert len(issued.disclosures) == 10
    assert issued.digests == tuple(disclosure_digest(d) for d in disclosures)


def test_the_always_visible_claims_stay_in_the_clear(issuer: Key, holder: Key) -> None:
    payload = issue_credential(issuer, holder).payload
    for name in ("iss", "iat", "exp", "vct", "cnf", "status"):
        assert payload[name] == credential_claims(holder)[name]
    for name in ("given_name", "family_name", "birthdate", "address"):
        assert name not in payload
    assert set(payload["age_equal_or_over"]) == {"_sd"}  # only digests: no age is readable
    assert list(payload["nationalities"][0]) == ["..."]


def test_salts_are_128_bits_and_never_repeat(issuer: Key, holder: Key) -> None:
    salts = [d.salt for _ in range(20) for d in issue_credential(issuer, holder).disclosures]
    for salt in salts:
        assert len(base64.urlsafe_b64decode(salt + "==")) == 16
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", salt)
    assert len(set(salts)) == len(salts) == 200


def test_each_disclosure_is_the_json_array_its_digest_covers(issuer: Key, holder: Key) -> None:
    issued = issue_credential(issuer, holder)
    for disclosure in issued.disclosures:
        decoded = decode(disclosure.encoded)
        if disclosure.name is None:
            assert decoded == [disclosure.salt, disclosure.value]
        else:
            assert decoded == [disclosure.salt, disclosure.name, disclosure.value]
        assert disclosure.digest == disclosure_digest(disclosure.encoded)
        assert decode_disclosure(disclosure.encoded) == decoded  # the SDK reads it alike


def test_every_sd_array_is_sorted_and_holds_decoys_in_the_same_form(
    issuer: Key, holder: Key
) -> None:
    issued = issue_credential(issuer, holder)
    real = set(issued.digests)
    arrays = _sd_arrays(issued.payload) + [
        sd for d in issued.disclosures for sd in _sd_arrays(d.value)
    ]
    assert len(arrays) == 3  # the top level, age_equal_or_over, address
    for digests in arrays:
        assert digests == sorted(digests)
        assert all(DIGEST.fullmatch(d) for d in digests)
        decoys = [d for d in digests if d not in real]
        assert 1 <= len(decoys) <= 4
    everything = [d for digests in arrays for d in digests]
    assert len(everything) == len(set(everything))


def test_the_number_of_decoys_is_random_within_the_range(issuer: Key, holder: Key) -> None:
    counts = set()
    for _ in range(40):
        issued = issue_credential(issuer, holder)
        counts.add(len(issued.payload["_sd"]) - 4)  # four real top-level digests
    assert counts <= {1, 2, 3, 4}
    assert len(counts) > 1


@pytest.mark.parametrize(("decoys", "extra"), [((0, 0), 0), ((3, 3), 3)])
def test_the_decoy_range_is_honoured(
    issuer: Key, holder: Key, decoys: tuple[int, int], extra: int
) -> None:
    issued = issue(signer_for(issuer), credential_claims(holder), decoys=decoys)
    assert len(issued.payload["_sd"]) == 4 + extra
    assert len(issued.payload["age_equal_or_over"]["_sd"]) == 3 + extra


@pytest.mark.parametrize("decoys", [(2, 1), (-1, 2), (0, 65)])
def test_a_bad_decoy_range_is_refused(issuer: Key, holder: Key, decoys: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="decoys"):
        issue(signer_for(issuer), credential_claims(holder), decoys=decoys)


@pytest.mark.parametrize("name", sorted(NEVER_DISCLOSABLE))
def test_never_disclosable_claims_cannot_be_marked(issuer: Key, holder: Key, name: str) -> None:
    signer = RecordingSigner(issuer)
    claims = credential_claims(holder)
    claims[name] = Disclosable(claims.get(name, "x"))
    with pytest.raises(ValueError, match="never selectively disclosable"):
        issue(signer, claims)
    assert signer.signed == []


@pytest.mark.parametrize(
    "claims",
    [
        {"cnf": {"jwk": Disclosable({"kty": "EC"})}},
        {"status": {"status_list": {"idx": Disclosable(1), "uri": STATUS_URI}}},
        {"exp": [Disclosable(1)]},
    ],
    ids=["cnf.jwk", "status.idx", "exp-element"],
)
def test_nor_can_anything_inside_them(issuer: Key, holder: Key, claims: dict[str, Any]) -> None:
    signer = RecordingSigner(issuer)
    with pytest.raises(ValueError, match="never selectively disclosable"):
        issue(signer, credential_claims(holder, **claims))
    assert signer.signed == []


@pytest.mark.parametrize("name", ["_sd", "...", "_sd_alg"])
@pytest.mark.parametrize("where", ["top", "nested", "disclosed"])
def test_reserved_names_are_refused_at_every_level(
    issuer: Key, holder: Key, name: str, where: str
) -> None:
    signer = RecordingSigner(issuer)
    inner = {name: "x"}
    extra = {
        "top": {name: "x"},
        "nested": {"address": {"locality": Disclosable("Bandung"), **inner}},
        "disclosed": {"address": Disclosable(inner)},
    }[where]
    claims = {**credential_claims(holder), **extra}
    with pytest.raises(ValueError, match="reserved"):
        issue(signer, claims)
    assert signer.signed == []


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), b"bytes", object(), Disclosable(Disclosable("x"))],
    ids=["nan", "inf", "bytes", "object", "double-mark"],
)
def test_values_that_are_not_json_are_refused(issuer: Key, holder: Key, value: Any) -> None:
    signer = RecordingSigner(issuer)
    with pytest.raises(ValueError):
        issue(signer, credential_claims(holder, extra=Disclosable(value)))
    assert signer.signed == []


def test_a_claim_name_must_be_a_string(issuer: Key, holder: Key) -> None:
    with pytest.raises(ValueError, match="strings"):
        issue(signer_for(issuer), {**credential_claims(holder), 18: Disclosable(True)})


def test_everything_disclosed_round_trips_through_the_verifier(issuer: Key, holder: Key) -> None:
    issued = issue_credential(issuer, holder)
    names = {
        "given_name", "family_name", "birthdate", "address", "locality", "country",
        "18", "21", "65", "ID",
    }  # fmt: skip
    claims = presentation_verifier(issuer).verify_presentation(
        present(issued.compact, holder, names), audience=AUDIENCE, nonce=NONCE
    )
    assert claims == _disclosed(credential_claims(holder))


def test_a_partial_presentation_shows_only_what_was_chosen(issuer: Key, holder: Key) -> None:
    issued = issue_credential(issuer, holder)
    shown = {"given_name", "address", "locality", "age_equal_or_over", "18"}
    claims = presentation_verifier(issuer).verify_presentation(
        present(issued.compact, holder, shown), audience=AUDIENCE, nonce=NONCE
    )
    assert claims == {
        "iss": ISSUER,
        "iat": int(NOW),
        "exp": int(NOW) + 86_400,
        "vct": VCT,
        "cnf": credential_claims(holder)["cnf"],
        "status": {"status_list": {"idx": STATUS_IDX, "uri": STATUS_URI}},
        "given_name": "Siti",
        "address": {"locality": "Jakarta Pusat"},
        "age_equal_or_over": {"18": True},
        "nationalities": [],
    }


def test_a_part_without_its_parent_cannot_be_shown(issuer: Key, holder: Key) -> None:
    """The locality's digest sits inside the address Disclosure: without the address, the
    locality Disclosure is referenced by nothing the verifier sees (RFC 9901 §7.1 step 5)."""
    issued = issue_credential(issuer, holder)
    jwt, _ = split(issued.compact)
    locality = [d.encoded for d in issued.disclosures if d.name == "locality"]
    presentation = sd_jwt_kb(holder, jwt, locality)
    refused(presentation_verifier(issuer), presentation, Reason.INVALID_DISCLOSURE)


# -- Hypothesis: issue -> present -> verify for arbitrary claim trees --------------------

_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)


def _marked(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values.map(Disclosable))


_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(_marked(children), max_size=4),
        st.dictionaries(
            _NAMES.filter(lambda n: n not in ("_sd", "_sd_alg")), _marked(children), max_size=4
        ),
    ),
    max_leaves=12,
)


def _disclosed(value: Any) -> Any:
    """The claims with every Disclosable unwrapped: what a full presentation shows."""
    if isinstance(value, Disclosable):
        return _disclosed(value.value)
    if isinstance(value, dict):
        return {k: _disclosed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_disclosed(v) for v in value]
    return value


def _hidden(value: Any) -> Any:
    """The claims with nothing disclosed: marked properties and elements vanish."""
    if isinstance(value, dict):
        return {k: _hidden(v) for k, v in value.items() if not isinstance(v, Disclosable)}
    if isinstance(value, list | tuple):
        return [_hidden(v) for v in value if not isinstance(v, Disclosable)]
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=st.dictionaries(_NAMES.map(lambda n: "x_" + n), _marked(_TREES), max_size=5))
def test_round_trip_of_arbitrary_claims(extra: dict[str, Any]) -> None:
    issuer, holder = _KEYS
    claims = credential_claims(holder, **extra)
    issued = issue(signer_for(issuer), claims)
    verifier = presentation_verifier(issuer)
    jwt, disclosures = split(issued.compact)
    for chosen, expected in ((disclosures, _disclosed(claims)), ([], _hidden(claims))):
        shown = verifier.verify_presentation(
            sd_jwt_kb(holder, jwt, chosen), audience=AUDIENCE, nonce=NONCE
        )
        assert shown == json.loads(json.dumps(expected))


_KEYS = (Key.new("ES256"), Key.new("EdDSA"))
