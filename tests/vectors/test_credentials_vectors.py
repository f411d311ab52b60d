"""Vectors of tests/vectors/data/credentials.json: NIK (python-stdnum id.nik doctests) and
the RFC 7638 §3.1 JWK thumbprint."""

from __future__ import annotations

from datetime import date

import pytest

from identity.citizens.nik import check_birthdate, parse_nik
from identity.errors import InvalidNik
from identity.keys.jwk import jwk_thumbprint
from tests.vectors import load_vectors

VECTORS = load_vectors("credentials.json")
TODAY = date(2026, 11, 28)


@pytest.mark.parametrize("case", VECTORS["nik"]["valid"], ids=lambda c: c["sex"])
def test_valid_niks(case: dict[str, str]) -> None:
    info = parse_nik(case["nik"], today=TODAY)
    assert info.birth_date == date.fromisoformat(case["birthdate"])
    assert info.sex == case["sex"]
    check_birthdate(info, date.fromisoformat(case["birthdate"]))


@pytest.mark.parametrize("case", VECTORS["nik"]["invalid"], ids=lambda c: c["why"])
def test_invalid_niks_are_refused_without_echoing_them(case: dict[str, str]) -> None:
    with pytest.raises(InvalidNik) as caught:
        parse_nik(case["nik"], today=TODAY)
    assert case["nik"] not in str(caught.value)


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("3171011708450000", "serial"),
        ("3171013002450001", "date"),  # 30 February
        ("3171017208450001", "day"),  # 72 - 40 = 32
        ("3171001708450001", "district"),
        ("3100011708450001", "regency"),
        ("3171011712260001", "future"),  # 17 December 2026, after TODAY
        ("317101170845000X", "digits"),
        ("2071011708450001", "province"),
    ],
)
def test_each_check_has_its_reason(nik: str, reason: str) -> None:
    with pytest.raises(InvalidNik) as caught:
        parse_nik(nik, today=TODAY)
    assert caught.value.reason == reason


def test_two_digit_years_are_read_as_the_latest_past_year() -> None:
    assert parse_nik("3171011708240001", today=TODAY).birth_date == date(2024, 8, 17)
    assert parse_nik("3171011708270001", today=TODAY).birth_date == date(1927, 8, 17)


def test_a_declared_birthdate_must_match_the_nik() -> None:
    info = parse_nik("3171011708450001", today=TODAY)
    with pytest.raises(InvalidNik) as caught:
        check_birthdate(info, date(1945, 8, 18))
    assert caught.value.reason == "birthdate"


def test_rfc7638_thumbprint_vector() -> None:
    vector = VECTORS["jwk_thumbprint_rfc7638"]
    assert jwk_thumbprint(vector["jwk"]) == vector["thumbprint"]


def test_thumbprint_ignores_optional_members_and_needs_required_ones() -> None:
    vector = VECTORS["jwk_thumbprint_rfc7638"]
    with_extras = {**vector["jwk"], "alg": "RS256", "kid": "anything", "use": "sig"}
    assert jwk_thumbprint(with_extras) == vector["thumbprint"]
    with pytest.raises(ValueError):
        jwk_thumbprint({"kty": "RSA", "e": "AQAB"})
    with pytest.raises(ValueError):
        jwk_thumbprint({"kty": "unknown"})
