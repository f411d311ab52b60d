"""PKCE (RFC 7636), S256 only: the RFC's Appendix B vector, the verifier and challenge
grammars (§4.1, §4.2) with their boundaries, and round-trips with mutated negatives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.oidc.pkce import s256_challenge, valid_challenge, valid_verifier, verify_s256

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
verifiers = st.text(alphabet=UNRESERVED, min_size=43, max_size=128)


def test_the_rfc_appendix_b_vector() -> None:
    assert s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE
    assert verify_s256(RFC_VERIFIER, RFC_CHALLENGE)


@pytest.mark.parametrize(
    ("verifier", "valid"),
    [
        ("a" * 42, False),  # §4.1: at least 43
        ("a" * 43, True),
        ("a" * 128, True),
        ("a" * 129, False),  # at most 128
        ("a" * 42 + "~", True),
        ("a" * 42 + "+", False),  # not unreserved
        ("a" * 42 + "/", False),
        ("a" * 42 + "=", False),
        ("a" * 42 + " ", False),
        ("a" * 42 + "é", False),
    ],
)
def test_the_verifier_grammar(verifier: str, valid: bool) -> None:
    assert valid_verifier(verifier) is valid


@pytest.mark.parametrize(
    ("challenge", "valid"),
    [
        (RFC_CHALLENGE, True),
        (RFC_CHALLENGE[:-1], False),  # an S256 challenge is 43 characters
        (RFC_CHALLENGE + "A", False),
        ("+" + RFC_CHALLENGE[1:], False),  # base64url only
        ("=" * 43, False),
        ("", False),
    ],
)
def test_the_challenge_grammar(challenge: str, valid: bool) -> None:
    assert valid_challenge(challenge) is valid


def test_plain_is_refused_the_challenge_is_not_a_verifier() -> None:
    # With "plain", challenge == verifier; under S256 that never verifies.
    assert not verify_s256(RFC_CHALLENGE, RFC_CHALLENGE)


def test_a_malformed_verifier_never_verifies() -> None:
    assert not verify_s256(RFC_VERIFIER + "+", s256_challenge(RFC_VERIFIER + "+"))
    assert not verify_s256("", RFC_CHALLENGE)


@given(verifiers)
def test_round_trip(verifier: str) -> None:
    challenge = s256_challenge(verifier)
    assert valid_challenge(challenge)
    assert verify_s256(verifier, challenge)


@given(verifiers, st.integers(min_value=0, max_value=127), st.sampled_from("Az9-._~"))
def test_a_mutated_verifier_fails(verifier: str, position: int, replacement: str) -> None:
    position %= len(verifier)
    if verifier[position] == replacement:
        return
    mutated = verifier[:position] + replacement + verifier[position + 1 :]
    assert not verify_s256(mutated, s256_challenge(verifier))


@given(verifiers, st.integers(min_value=0, max_value=42))
def test_a_mutated_challenge_fails(verifier: str, position: int) -> None:
    challenge = s256_challenge(verifier)
    replacement = "A" if challenge[position] != "A" else "B"
    mutated = challenge[:position] + replacement + challenge[position + 1 :]
    assert not verify_s256(verifier, mutated)
